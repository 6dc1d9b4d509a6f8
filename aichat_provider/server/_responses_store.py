"""The bounded in-memory store of recent Responses conversations, for ``previous_response_id``."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

#: The store's bounds: entries, total size of what they hold, and how long one is kept.
STORE_MAX_RESPONSES = 1000
STORE_MAX_BYTES = 64 * 1024 * 1024
STORE_TTL = 3600.0


class ResponseStore:
    """The conversations of recent responses, for ``previous_response_id``: at most
    ``max_responses`` of them holding ``max_bytes`` together, each for ``ttl`` seconds; the
    oldest go first. A conversation larger than ``max_bytes`` on its own is not kept. One larger
    than ``max_conversation_bytes`` is kept but not continued (``to_chat`` refuses it): a request
    naming it would send more than a request body may hold."""

    def __init__(
        self,
        max_responses: int = STORE_MAX_RESPONSES,
        max_bytes: int = STORE_MAX_BYTES,
        ttl: float = STORE_TTL,
        clock: Callable[[], float] = time.monotonic,
        max_conversation_bytes: int | None = None,
    ) -> None:
        self.max_responses = max_responses
        self.max_bytes = max_bytes
        self.max_conversation_bytes = max_conversation_bytes
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, int, list[dict[str, Any]]]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, response_id: str) -> list[dict[str, Any]] | None:
        found = self.conversation(response_id)
        return None if found is None else found[0]

    def conversation(self, response_id: str) -> tuple[list[dict[str, Any]], int] | None:
        """The messages kept under ``response_id`` and their size as JSON, or None."""
        with self._lock:
            self._expire()
            entry = self._entries.get(response_id)
            return None if entry is None else (list(entry[2]), entry[1])

    def put(self, response_id: str, messages: list[dict[str, Any]]) -> bool:
        """Keep ``messages`` under ``response_id``; False when they are too large to keep."""
        size = len(json.dumps(messages, ensure_ascii=False, default=str))
        if size > self.max_bytes:
            return False
        with self._lock:
            self._expire()
            self._entries[response_id] = (self._clock() + self.ttl, size, messages)
            self._bytes += size
            while len(self._entries) > self.max_responses or self._bytes > self.max_bytes:
                _, (_, dropped, _) = self._entries.popitem(last=False)
                self._bytes -= dropped
        return True

    def _expire(self) -> None:
        now = self._clock()
        while self._entries:
            first = next(iter(self._entries.values()))
            if first[0] > now:
                return
            _, (_, dropped, _) = self._entries.popitem(last=False)
            self._bytes -= dropped
