"""Sessions shared across calls on one event loop, so calls reuse connections and TLS sessions.

A session is shared only by calls that agree on everything that must not be shared: the proxy,
the browser fingerprint, the TLS settings and the API origin. Cookies are never part of a session
(they travel per request and nothing a server sets is kept), so sharing a connection never shares
cookies. Each loop has its own sessions; they are closed when the loop shuts down (``asyncio.run``
finalises the pool's async generator), on :func:`aclose`, or on leaving :func:`connection_pool`.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple

from ._session import StreamSession

#: Sessions kept per loop; the least recently used one is closed beyond this.
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


class _LoopPool:
    """The sessions of one event loop."""

    def __init__(self) -> None:
        self.sessions: OrderedDict[SessionKey, StreamSession] = OrderedDict()
        self.finaliser: AsyncIterator[None] | None = None

    async def watch_shutdown(self) -> AsyncIterator[None]:
        """Suspended for the loop's lifetime; ``loop.shutdown_asyncgens()`` resumes it to close."""
        try:
            yield
        finally:
            await self.aclose()

    def get(self, key: SessionKey) -> tuple[StreamSession, StreamSession | None]:
        """The session for ``key`` (made on first use) and one evicted to make room, if any."""
        session = self.sessions.get(key)
        if session is not None:
            self.sessions.move_to_end(key)
            return session, None
        session = StreamSession(
            impersonate=key.impersonate,
            proxy=key.proxy,
            verify=key.verify,
            max_clients=MAX_CLIENTS_PER_SESSION,
        )
        self.sessions[key] = session
        evicted = None
        if len(self.sessions) > MAX_SESSIONS_PER_LOOP:
            _, evicted = self.sessions.popitem(last=False)
        return session, evicted

    async def aclose(self) -> None:
        sessions = list(self.sessions.values())
        self.sessions.clear()
        for session in sessions:
            await session.aclose()


_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = (
    weakref.WeakKeyDictionary()
)
_pools_lock = threading.Lock()


async def session_for(key: SessionKey) -> StreamSession:
    """The running loop's shared session for ``key``."""
    loop = asyncio.get_running_loop()
    with _pools_lock:
        pool = _pools.get(loop)
        new_pool = pool is None
        if pool is None:
            pool = _pools[loop] = _LoopPool()
    if new_pool:
        pool.finaliser = pool.watch_shutdown()
        await pool.finaliser.__anext__()  # registers it with the loop's async-generator hooks
    session, evicted = pool.get(key)
    if evicted is not None:
        await evicted.retire()  # calls still using it finish first
    return session


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
