"""A local stand-in for the chat-gpt.org API, for testing code that uses the provider offline.

It is a real HTTP/1.1 server on 127.0.0.1 (HTTPS with a throw-away CA when ``tls=True``, which
needs the ``trustme`` package from the ``test`` extra), running in a background thread so it serves
sync and async tests alike. It records every request and answers either like the service or with a
scripted :class:`Reply`: an error status, a Cloudflare challenge, a broken body, a reset, a hang::

    from aichat_provider import Aichat
    from aichat_provider.testing import Reply, StandInService

    with StandInService() as service:
        service.push(Reply.status(429, retry_after=1))       # the next request is rate limited
        answer = await Aichat.create_async("", [{"role": "user", "content": "Hi"}],
                                           base_url=service.base_url, cookies={"session": "x"})
        assert answer == "echo: Hi"                          # the retry got the default answer
        assert len(service.requests) == 2

With pytest, the fixtures ``aichat_service`` and ``aichat_service_tls`` (installed with the package)
give a started service; pass ``verify=service.ca_path`` for the TLS one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import random
import socket
import ssl
import struct
import tempfile
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

__all__ = ["LoopServer", "RecordedRequest", "Reply", "StandInService", "echo_answer"]

Action = Literal["reply", "reset", "close", "hang"]

CLOUDFLARE_CHALLENGE_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">'
    b"<noscript>Enable JavaScript and cookies to continue</noscript></div>"
    b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script>'
    b"</body></html>"
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    connection: int = 0

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def prompt(self) -> str | None:
        try:
            data = self.json
        except ValueError:
            return None
        message = data.get("message") if isinstance(data, dict) else None
        return message if isinstance(message, str) else None

    @property
    def cookies(self) -> dict[str, str]:
        cookies: dict[str, str] = {}
        for part in (self.header("cookie") or "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep:
                cookies[name] = value
        return cookies


def echo_answer(request: RecordedRequest) -> str:
    """The stand-in's default answer: ``"echo: "`` and the prompt."""
    return f"echo: {request.prompt}"


@dataclass(frozen=True)
class Reply:
    """A scripted answer. Build one with the class methods (``Reply.status(503)``, ...)."""

    status_code: int = 200
    #: The body; None means the normal ``{"response": true, "message": ...}`` answer.
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    #: ``"gzip"`` or ``"br"`` (the latter needs the ``brotli`` package).
    encoding: str | None = None
    #: Send the body chunked, without a Content-Length.
    chunked: bool = False
    #: Announce this many more bytes than are sent, then close: a body cut short.
    missing_bytes: int = 0
    #: Seconds to wait before anything is sent.
    delay: float = 0.0
    #: Seconds to wait between body bytes (a trickle); 0 sends the body at once.
    byte_interval: float = 0.0
    #: ``"reset"`` (TCP RST), ``"close"`` (close with no reply), ``"hang"`` (never answer).
    action: Action = "reply"

    @classmethod
    def answer(cls, text: str) -> Reply:
        return cls.json({"response": True, "message": text})

    @classmethod
    def json(cls, data: Any, status: int = 200, **options: Any) -> Reply:
        body = json.dumps(data).encode()
        return cls(status, body, (("Content-Type", "application/json"),), **options)

    @classmethod
    def rejected(cls, message: str) -> Reply:
        """200 with ``"response": false``: the service refusing in its own words."""
        return cls.json({"response": False, "message": message})

    @classmethod
    def status(
        cls,
        status: int,
        *,
        retry_after: str | float | None = None,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> Reply:
        extra = list(headers)
        if retry_after is not None:
            value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
            extra.append(("Retry-After", value))
        if body:
            extra.append(("Content-Type", "text/plain; charset=utf-8"))
        return cls(status, body, tuple(extra))

    @classmethod
    def cloudflare(cls, status: int = 403, *, header: bool = True) -> Reply:
        """A Cloudflare "Just a moment..." challenge page."""
        headers = [("Content-Type", "text/html; charset=UTF-8"), ("Server", "cloudflare")]
        if header:
            headers.append(("cf-mitigated", "challenge"))
        return cls(status, CLOUDFLARE_CHALLENGE_PAGE, tuple(headers))

    @classmethod
    def html(cls, status: int = 200) -> Reply:
        page = b"<html><body><h1>Welcome</h1></body></html>"
        return cls(status, page, (("Content-Type", "text/html"),))

    @classmethod
    def raw(cls, body: bytes, status: int = 200, content_type: str = "text/plain") -> Reply:
        return cls(status, body, (("Content-Type", content_type),))

    @classmethod
    def redirect(cls, location: str, status: int = 307) -> Reply:
        return cls(status, b"", (("Location", location),))

    @classmethod
    def oversize(cls, size: int, *, chunked: bool = False) -> Reply:
        """A valid-looking answer of ``size`` bytes (with or without a Content-Length)."""
        filler = b"a" * max(0, size - 40)
        body = b'{"response": true, "message": "' + filler + b'"}'
        return cls(200, body, (("Content-Type", "application/json"),), chunked=chunked)

    @classmethod
    def truncated(cls, missing_bytes: int = 100) -> Reply:
        return replace(cls.answer("this answer is cut short"), missing_bytes=missing_bytes)

    @classmethod
    def trickle(cls, byte_interval: float, text: str = "slow answer") -> Reply:
        return replace(cls.answer(text), byte_interval=byte_interval)

    @classmethod
    def compressed(cls, encoding: str, text: str = "compressed answer") -> Reply:
        return replace(cls.answer(text), encoding=encoding)

    @classmethod
    def delayed(cls, seconds: float) -> Reply:
        """The normal answer, sent after ``seconds``."""
        return cls(delay=seconds)

    @classmethod
    def reset(cls) -> Reply:
        return cls(action="reset")

    @classmethod
    def close(cls) -> Reply:
        return cls(action="close")

    @classmethod
    def hang(cls) -> Reply:
        return cls(action="hang")


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


class StandInService(LoopServer):
    """The stand-in server. Start it with ``with StandInService() as service:`` or ``start()``.

    - ``answer``: how to answer a normal request (default :func:`echo_answer`).
    - ``require_cookies``: cookies every request must carry; without them it answers 403.
    - ``tls``: serve HTTPS with a certificate from a throw-away CA (``ca_path``) for
      ``tls_hostnames``.
    - ``api_path``: where the API lives (``/api/text``, as on chat-gpt.org).
    - ``fault_rate`` and ``faults``: answer that share of unscripted API requests with one of
      ``faults``, drawn at random (``seed`` makes the draw repeatable); ``faults_served`` counts
      them. For soak tests.
    - ``max_recorded``: keep only the last this many requests (a long soak would otherwise
      hold every one of them in memory).
    """

    def __init__(
        self,
        *,
        answer: Callable[[RecordedRequest], str] = echo_answer,
        require_cookies: Mapping[str, str] | None = None,
        tls: bool = False,
        tls_hostnames: Iterable[str] = ("127.0.0.1", "localhost"),
        host: str = "127.0.0.1",
        api_path: str = "/api/text",
        fault_rate: float = 0.0,
        faults: Iterable[Reply] = (),
        seed: int | None = None,
        max_recorded: int | None = None,
    ) -> None:
        super().__init__("aichat-stand-in")
        self.answer = answer
        self.require_cookies = dict(require_cookies or {})
        self.tls = tls
        self.tls_hostnames = tuple(tls_hostnames)
        self.host = host
        self.api_path = api_path
        self.fault_rate = fault_rate
        self.faults = tuple(faults)
        if fault_rate and not self.faults:
            raise ValueError("fault_rate needs at least one Reply in faults")
        self.faults_served = 0
        self._random = random.Random(seed)
        self.ca_path: str | None = None
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self._script: deque[Reply] = deque()
        self._default: Reply | None = None
        self._lock = threading.Lock()
        self._connections = 0
        self._received = 0
        self._open_count = 0
        self._changed = threading.Condition(self._lock)
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None

    # --- what tests read and script ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + self.api_path

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """How many TCP connections the server has accepted."""
        with self._lock:
            return self._connections

    @property
    def open_connections(self) -> int:
        """How many accepted connections are still open."""
        with self._lock:
            return self._open_count

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` requests have arrived; False if they do not in time."""
        with self._changed:
            return self._changed.wait_for(lambda: self._received >= count, timeout)

    def wait_for_open_connections(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until exactly ``count`` connections are open; False if that never happens."""
        with self._changed:
            return self._changed.wait_for(lambda: self._open_count == count, timeout)

    def push(self, *replies: Reply) -> None:
        """Answer the next API requests with ``replies``, in order, then as before."""
        with self._lock:
            self._script.extend(replies)

    def set_default(self, reply: Reply | None) -> None:
        """Answer every unscripted API request with ``reply`` (None: the normal answer)."""
        with self._lock:
            self._default = reply

    def reset(self) -> None:
        """Forget recorded requests and scripted replies."""
        with self._lock:
            self._requests.clear()
            self._received = 0
            self._script.clear()
            self._default = None

    # --- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> StandInService:
        self.start()
        return self

    def start(self) -> StandInService:
        if not self.serving:
            ssl_context = self._make_ssl_context() if self.tls else None
            self.serve(self._serve_connection, self.host, self.port, ssl_context)
        return self

    def stop(self) -> None:
        super().stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def _make_ssl_context(self) -> ssl.SSLContext:
        try:
            import trustme
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "StandInService(tls=True) needs trustme: pip install 'aichat-provider[test]'"
            ) from exc
        ca = trustme.CA()
        certificate = ca.issue_cert(*self.tls_hostnames)
        self._tempdir = tempfile.TemporaryDirectory(prefix="aichat-stand-in-")
        ca_file = Path(self._tempdir.name) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self.ca_path = str(ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        context.set_alpn_protocols(["http/1.1"])
        return context

    # --- serving ----------------------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with self._lock:
            self._connections += 1
            self._open_count += 1
            connection = self._connections
        try:
            while True:
                request = await _read_request(reader, connection)
                if request is None:
                    break
                reply = self._choose_reply(request)
                if not await self._send(reader, writer, request, reply):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, ValueError):
            pass
        finally:
            with self._changed:
                self._open_count -= 1
                self._changed.notify_all()

    def _choose_reply(self, request: RecordedRequest) -> Reply:
        with self._changed:
            self._requests.append(request)
            self._received += 1
            self._changed.notify_all()
            path = request.path.split("?")[0]
            if request.method == "GET" and path in ("/", "/chat"):
                return Reply.html()  # the site's pages, for "is it up?" checks
            if path != self.api_path:
                return Reply.status(404, body=b"Not Found")
            if self._script:
                return self._script.popleft()
            if self.fault_rate and self._random.random() < self.fault_rate:
                self.faults_served += 1
                return self._random.choice(self.faults)
            scripted = self._default
        if scripted is not None:
            return scripted
        if self.require_cookies:
            sent = request.cookies
            if any(sent.get(k) != v for k, v in self.require_cookies.items()):
                return Reply.json({"error": "unauthorized"}, status=403)
        if request.method != "POST":
            return Reply.status(405, body=b"Method Not Allowed")
        return Reply()

    async def _send(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: RecordedRequest,
        reply: Reply,
    ) -> bool:
        """Write ``reply``; return whether the connection may serve another request."""
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.action == "hang":  # until the client gives up or the service stops
            assert self._stopping is not None
            stopping = asyncio.ensure_future(self._stopping.wait())
            client_gone = asyncio.ensure_future(reader.read())
            await asyncio.wait([stopping, client_gone], return_when=asyncio.FIRST_COMPLETED)
            for waiter in (stopping, client_gone):
                waiter.cancel()
            return False
        if reply.action == "close":
            return False
        if reply.action == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False

        headers = list(reply.headers)
        if reply.body is None:
            answer = {"response": True, "message": self.answer(request)}
            body = json.dumps(answer).encode()
            headers.append(("Content-Type", "application/json"))
        else:
            body = reply.body
        if reply.encoding == "gzip":
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        elif reply.encoding == "br":
            import brotli  # type: ignore[import-untyped]

            body = brotli.compress(body)
            headers.append(("Content-Encoding", "br"))
        reason = _reason(reply.status_code)
        lines = [f"HTTP/1.1 {reply.status_code} {reason}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if reply.chunked:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append(f"Content-Length: {len(body) + reply.missing_bytes}")
        keep_alive = not reply.missing_bytes and request.header("connection") != "close"
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if reply.chunked:
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        elif reply.byte_interval:
            await writer.drain()
            for index in range(len(body)):
                writer.write(body[index : index + 1])
                await writer.drain()
                await asyncio.sleep(reply.byte_interval)
        else:
            writer.write(body)
        await writer.drain()
        return keep_alive


async def _read_request(reader: asyncio.StreamReader, connection: int) -> RecordedRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        return None
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if not line:
            continue
        name, _, value = line.partition(":")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    return RecordedRequest(method, path, headers, body, connection)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def main(argv: list[str] | None = None) -> int:
    """``python -m aichat_provider.testing``: run a stand-in until interrupted, to try things."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(
        prog="python -m aichat_provider.testing",
        description="Serve a local stand-in for the chat-gpt.org API until interrupted.",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--tls", action="store_true", help="HTTPS with a throw-away CA")
    args = parser.parse_args(argv)
    service = StandInService(tls=args.tls)
    service.port = args.port
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with service:
        print(f"stand-in for chat-gpt.org at {service.base_url}", flush=True)
        if service.ca_path:
            print(f"CA bundle: {service.ca_path}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
