"""Sessions shared across calls on one event loop, so calls reuse connections and TLS sessions.

A session is shared only by calls that agree on everything that must not be shared: the proxy,
the browser fingerprint, the TLS settings and the API origin. Cookies are never part of a session
(they travel per request and nothing a server sets is kept), so sharing a connection never shares
cookies. Each loop has its own sessions; they are closed when the loop shuts down (``asyncio.run``
finalises the pool's async generator), on :func:`aclose`, or on leaving :func:`connection_pool`.

A call holds a *lease* on its session from the moment it is handed out until its request ends.
Taking the lease never awaits between the look-up and the count, and a session evicted to make
room is closed only when its last lease ends, so the pool's housekeeping never fails a call.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import NamedTuple

from ._session import CurlSession, curl_imported, import_curl

#: Sessions kept per loop; the least recently used one is retired beyond this.
MAX_SESSIONS_PER_LOOP = 16
#: curl handles per session: how many requests of one configuration run at once.
MAX_CLIENTS_PER_SESSION = 256


class SessionKey(NamedTuple):
    """What calls must agree on to share a session (a tuple: built and hashed on every call)."""

    origin: str
    impersonate: str
    proxy: str | None
    verify: bool | str

    def __repr__(self) -> str:  # the proxy URL may hold a password
        return f"SessionKey(origin={self.origin!r}, impersonate={self.impersonate!r})"


class _Entry:
    __slots__ = ("leases", "retiring", "session")

    def __init__(self, session: CurlSession) -> None:
        self.session = session
        self.leases = 0
        self.retiring = False


class _LoopPool:
    """The sessions of one event loop."""

    def __init__(self) -> None:
        self.sessions: OrderedDict[SessionKey, _Entry] = OrderedDict()
        self.finaliser: AsyncIterator[None] | None = None

    async def watch_shutdown(self) -> AsyncIterator[None]:
        """Suspended for the loop's lifetime; ``loop.shutdown_asyncgens()`` resumes it to close."""
        try:
            yield
        finally:
            # The generator holds the loop (its finaliser hook) and the pool holds the
            # generator: drop it, or the loop could never leave the weak-keyed ``_pools``.
            self.finaliser = None
            await self.aclose()

    def acquire(self, key: SessionKey) -> tuple[_Entry, _Entry | None]:
        """The session for ``key`` (made on first use), leased, and a session evicted to make
        room that no call holds (the caller closes it). Never awaits."""
        evicted: _Entry | None = None
        entry = self.sessions.get(key)
        if entry is None:
            entry = self.sessions[key] = _Entry(
                CurlSession(
                    impersonate=key.impersonate,
                    proxy=key.proxy,
                    verify=key.verify,
                    max_clients=MAX_CLIENTS_PER_SESSION,
                )
            )
            if len(self.sessions) > MAX_SESSIONS_PER_LOOP:
                _, oldest = self.sessions.popitem(last=False)
                oldest.retiring = True
                if oldest.leases == 0:
                    evicted = oldest
        else:
            self.sessions.move_to_end(key)
        entry.leases += 1
        return entry, evicted

    def release(self, entry: _Entry) -> bool:
        """End one lease; True when the session is retired and now unused (close it)."""
        entry.leases -= 1
        return entry.retiring and entry.leases == 0

    async def aclose(self) -> None:
        entries = list(self.sessions.values())
        self.sessions.clear()
        for entry in entries:
            entry.retiring = True
        await asyncio.gather(*(entry.session.aclose() for entry in entries))


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = (
    weakref.WeakKeyDictionary()
)
_pools_lock = threading.Lock()


async def _loop_pool() -> _LoopPool:
    loop = asyncio.get_running_loop()
    if not curl_imported():
        # Before the pool is published: calls started meanwhile find none and wait here too
        # (in their own worker thread), rather than make a session, which imports on the loop;
        # and a call cancelled here leaves no pool without its shutdown hook behind.
        await asyncio.to_thread(import_curl)
    with _pools_lock:
        pool = _pools.get(loop)
        new_pool = pool is None
        if pool is None:
            pool = _pools[loop] = _LoopPool()
    if new_pool:  # no await between publishing the pool and registering its hook
        pool.finaliser = pool.watch_shutdown()
        await pool.finaliser.__anext__()  # registers it with the loop's async-generator hooks
    return pool


class lease:  # used like a function: ``async with lease(key) as session``
    """``async with lease(key) as session:`` the running loop's shared session for ``key``."""

    __slots__ = ("_entry", "_key", "_pool")

    def __init__(self, key: SessionKey) -> None:
        self._key = key

    async def __aenter__(self) -> CurlSession:
        self._pool = _pools.get(asyncio.get_running_loop()) or await _loop_pool()
        self._entry, evicted = self._pool.acquire(self._key)
        if evicted is not None:  # our lease is counted already: closing it cannot touch ours
            await evicted.session.aclose()
        return self._entry.session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool.release(self._entry):
            await self._entry.session.aclose()


def pooled_session_count() -> int:
    """How many sessions the running loop holds (for tests and diagnostics)."""
    pool = _pools.get(asyncio.get_running_loop())
    return 0 if pool is None else len(pool.sessions)


async def aclose() -> None:
    """Close the running loop's pooled sessions; later calls open new ones."""
    with _pools_lock:
        pool = _pools.get(asyncio.get_running_loop())
    if pool is not None:
        await pool.aclose()


@asynccontextmanager
async def connection_pool() -> AsyncIterator[None]:
    """``async with connection_pool():`` closes the loop's pooled connections on exit."""
    try:
        yield
    finally:
        await aclose()
