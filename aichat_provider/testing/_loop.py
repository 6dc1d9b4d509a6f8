"""A TCP server on its own event loop in a daemon thread, for tests of any kind."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LoopServer:
    """A TCP server on its own event loop in a daemon thread, so it serves sync and async tests
    alike. ``stop()`` cancels the connections still open. The base of :class:`StandInService`;
    tests use it for other local servers (a proxy, a fake D-Bus)."""

    def __init__(self, name: str) -> None:
        self.port = 0
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._stopping: asyncio.Event | None = None

    def serve(
        self, handle: Handler, host: str, port: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        """Start listening; ``handle`` serves one connection (cancelled on stop)."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
        self._thread.start()

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._handlers.add(task)
            try:
                await handle(reader, writer)
            except asyncio.CancelledError:
                pass  # stopping; the handler's own cleanup has run
            finally:
                self._handlers.discard(task)
                with contextlib.suppress(Exception):
                    writer.close()

        async def open_server() -> None:
            self._stopping = asyncio.Event()
            self._server = await asyncio.start_server(
                tracked, host, port, ssl=ssl_context, backlog=1024
            )
            self.port = self._server.sockets[0].getsockname()[1]

        asyncio.run_coroutine_threadsafe(open_server(), loop).result(timeout=10)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def serving(self) -> bool:
        return self._thread is not None

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def close() -> None:
            assert self._stopping is not None
            assert self._server is not None
            self._stopping.set()
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None
