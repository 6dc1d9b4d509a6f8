"""Caches that keep blocking reads off the event loop and off the hot path.

- :class:`BrowserCookieCache`: one browser read in flight per (URL, browsers), in a daemon thread,
  reused for ``ttl`` seconds, given up after ``load_timeout`` without blocking the loop.
- :class:`FileCookieCache`: a cookies file is parsed again only when it changed; within ``ttl``
  seconds of the last check it is not even looked at.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import _config
from ..errors import MissingCookiesError
from ._browsers import BrowserCookies, load_browser_cookies
from ._files import read_cookies_file
from ._jar import Selected

BrowserKey = tuple[str, tuple[str, ...]]


class BrowserCookieCache:
    """Browser cookies per API URL, read in a worker thread, reused for a short time."""

    def __init__(
        self,
        ttl: float = _config.BROWSER_COOKIE_TTL,
        load_timeout: float = _config.BROWSER_LOAD_TIMEOUT,
        loader: Callable[[str, Sequence[str]], BrowserCookies] = load_browser_cookies,
    ) -> None:
        self.ttl = ttl
        self.load_timeout = load_timeout
        self._loader = loader
        self._lock = threading.Lock()
        self._entries: dict[BrowserKey, tuple[float, BrowserCookies]] = {}
        self._inflight: dict[BrowserKey, concurrent.futures.Future[BrowserCookies]] = {}
        #: How many profile reads were started (observability; reads are expensive).
        self.loads = 0

    async def get(
        self, url: str, browsers: Sequence[str], *, missing: Callable[[dict[str, str]], str]
    ) -> BrowserCookies:
        """The browsers' cookies for ``url``. ``missing`` words the error for a read that hangs."""
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
            reasons = {
                "browsers": f"reading the browser profiles took over {self.load_timeout:g} s "
                "(a locked profile or a keyring that does not answer)"
            }
            raise MissingCookiesError(missing(reasons), reasons=reasons) from None

    def _start_load(self, key: BrowserKey) -> concurrent.futures.Future[BrowserCookies]:
        future: concurrent.futures.Future[BrowserCookies] = concurrent.futures.Future()
        self._inflight[key] = future
        self.loads += 1

        def run() -> None:
            try:
                result = self._loader(key[0], key[1])
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
        """Forget every cached read and reset the ``loads`` count."""
        with self._lock:
            self._entries.clear()
            self.loads = 0


FileKey = tuple[Path, str]
#: What identifies one version of a file: modification time, size and inode.
Version = tuple[int, int, int]


class FileCookieCache:
    """Parsed cookies files per (path, API URL), parsed again only when the file changed."""

    def __init__(self, ttl: float = _config.COOKIES_FILE_RECHECK) -> None:
        self.ttl = ttl
        self._entries: dict[FileKey, tuple[float, Version, Selected]] = {}
        #: How many times a file was parsed.
        self.parses = 0

    async def get(self, path: Path, url: str) -> Selected:
        key = (path, url)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[2]
        known = entry[1] if entry is not None else None
        version, selected = await asyncio.to_thread(self._read, path, url, known)
        if selected is None:
            assert entry is not None
            selected = entry[2]
        self._entries[key] = (time.monotonic() + self.ttl, version, selected)
        return selected

    def _read(self, path: Path, url: str, known: Version | None) -> tuple[Version, Selected | None]:
        try:
            info = os.stat(path)
            version = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            version = (0, 0, 0)  # let the read below explain what is wrong
        if known is not None and version == known and version != (0, 0, 0):
            return version, None
        self.parses += 1
        return version, read_cookies_file(path, url)

    def clear(self) -> None:
        self._entries.clear()
        self.parses = 0
