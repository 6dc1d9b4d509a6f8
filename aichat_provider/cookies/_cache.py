"""Caches that keep blocking reads off the event loop and off the hot path.

- :class:`BrowserCookieCache`: one browser read in flight per (URL, browsers), in a daemon thread,
  reused for ``ttl`` seconds, given up after ``load_timeout`` without blocking the loop.
- :class:`ChangedFileCache`: a cookies file is parsed again only when it changed; within ``ttl``
  seconds of the last check it is not even looked at.
- :func:`within`: blocking work bounded in time, in a daemon thread (what ``aichat doctor`` uses).

The readers are attributes (``loader``, ``reader``) so a test can wrap them to count the reads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from .. import _constants
from ._browsers import BrowserCookies, load_browser_cookies

BrowserKey = tuple[str, tuple[str, ...]]


class BrowserCookieCache:
    """Browser cookies per API URL, read in a worker thread, reused for a short time."""

    def __init__(
        self,
        ttl: float = _constants.BROWSER_COOKIE_TTL,
        load_timeout: float = _constants.BROWSER_LOAD_TIMEOUT,
        loader: Callable[[str, Sequence[str]], BrowserCookies] = load_browser_cookies,
    ) -> None:
        self.ttl = ttl
        self.load_timeout = load_timeout
        self.loader = loader
        self._lock = threading.Lock()
        self._entries: dict[BrowserKey, tuple[float, BrowserCookies]] = {}
        self._inflight: dict[BrowserKey, concurrent.futures.Future[BrowserCookies]] = {}

    async def get(self, url: str, browsers: Sequence[str]) -> BrowserCookies:
        """The browsers' cookies for ``url``; none, with the reason, if the read hangs."""
        key = (url, tuple(browsers))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > time.monotonic():
                return entry[1]
            future = self._inflight.get(key) or self._start_load(key)
        try:
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(future)), self.load_timeout
            )
        except asyncio.TimeoutError:
            why = (
                f"reading the browser profiles took over {self.load_timeout:g} s "
                "(a locked profile or a keyring that does not answer)"
            )
            return BrowserCookies({}, None, {"browsers": why})

    def _start_load(self, key: BrowserKey) -> concurrent.futures.Future[BrowserCookies]:
        future: concurrent.futures.Future[BrowserCookies] = concurrent.futures.Future()
        self._inflight[key] = future

        def run() -> None:
            try:
                result = self.loader(key[0], key[1])
            except BaseException as exc:
                with self._lock:
                    self._inflight.pop(key, None)
                future.set_exception(exc)
                return
            with self._lock:
                self._inflight.pop(key, None)
                if result.cookies:
                    self._entries[key] = (time.monotonic() + self.ttl, result)
            future.set_result(result)

        # A daemon thread, not a pool: a loader stuck on a keyring must not hold a pool slot or
        # keep the interpreter from exiting.
        threading.Thread(target=run, name="aichat-browser-cookies", daemon=True).start()
        return future

    def invalidate(self, url: str) -> None:
        """Forget cached cookies for ``url`` (the service rejected them)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == url]:
                del self._entries[key]

    def clear(self) -> None:
        """Forget every cached read."""
        with self._lock:
            self._entries.clear()


FileKey = tuple[Path, str]
#: What identifies one version of a file: modification time, size and inode.
Version = tuple[int, int, int]
_ABSENT: Version = (0, 0, 0)
T = TypeVar("T")


class ChangedFileCache(Generic[T]):
    """What ``reader`` makes of a file per (path, API URL), made again only when the file
    changed; within ``ttl`` seconds of the last look the file is not even looked at."""

    def __init__(
        self,
        reader: Callable[[Path, str], T],
        ttl: float = _constants.COOKIES_FILE_RECHECK,
    ) -> None:
        self.ttl = ttl
        self.reader = reader
        self._entries: dict[FileKey, tuple[float, Version, T]] = {}

    async def get(self, path: Path, url: str) -> T:
        key = (path, url)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[2]
        known = entry[1] if entry is not None else None
        version, value = await asyncio.to_thread(self._read, path, url, known)
        if value is _UNCHANGED:
            assert entry is not None
            result = entry[2]
        else:
            result = value  # type: ignore[assignment]
        self._entries[key] = (time.monotonic() + self.ttl, version, result)
        return result

    def _read(self, path: Path, url: str, known: Version | None) -> tuple[Version, T | object]:
        try:
            info = os.stat(path)
            version = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            version = _ABSENT  # let the reader explain what is wrong, or say there is nothing
        if known is not None and version == known and version != _ABSENT:
            return version, _UNCHANGED
        return version, self.reader(path, url)

    def recheck(self, path: Path) -> None:
        """Look at ``path`` again on the next call (it was just written): read again if it
        changed."""
        for key, (_, version, value) in list(self._entries.items()):
            if key[0] == path:
                self._entries[key] = (0.0, version, value)

    def clear(self) -> None:
        self._entries.clear()


_UNCHANGED = object()


def within(seconds: float, work: Callable[[], T]) -> T | None:
    """Run blocking ``work`` in a daemon thread; None if it does not finish in time (the thread
    is left to finish on its own: a keyring that never answers must not hold the caller)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if failure:
        raise failure[0]
    return result[0] if result else None
