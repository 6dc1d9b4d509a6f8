"""Counting the calls of a real function: what a test wraps a cache's reader in to see how often
the cache read (the function still runs)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Counted(Generic[P, R]):
    """``function``, counting its calls (from any thread)."""

    def __init__(self, function: Callable[P, R]) -> None:
        self.function = function
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            self.calls += 1
        return self.function(*args, **kwargs)
