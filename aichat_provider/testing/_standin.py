"""The stand-in for chat-gpt.org: answers like the service, or with scripted faults."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import socket
import ssl
import struct
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .._extras import pip_command
from ._http import read_request, reason_phrase
from ._loop import LoopServer
from ._replies import RecordedRequest, Reply, echo_answer
from ._site import Challenge, SignIn, Site


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
    - ``challenge``: a Cloudflare-style check in front of ``/chat`` and the API
      (:class:`Challenge`); ``sign_in``: a sign-in form in front of them (:class:`SignIn`).
      ``site`` counts what they served; :meth:`revoke_clearances` expires every clearance.
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
        challenge: Challenge | None = None,
        sign_in: SignIn | None = None,
    ) -> None:
        super().__init__("aichat-stand-in")
        self.site = Site(challenge, sign_in)
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
        self._open_ids: set[int] = set()
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

    def wait_for_close(self, request: RecordedRequest, timeout: float = 5.0) -> bool:
        """Wait until the connection that carried ``request`` is closed (the client gave up on
        it); False if it is still open after ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: request.connection not in self._open_ids, timeout)

    def push(self, *replies: Reply) -> None:
        """Answer the next API requests with ``replies``, in order, then as before."""
        with self._lock:
            self._script.extend(replies)

    def set_default(self, reply: Reply | None) -> None:
        """Answer every unscripted API request with ``reply`` (None: the normal answer)."""
        with self._lock:
            self._default = reply

    def revoke_clearances(self) -> None:
        """Make every ``cf_clearance`` (and session) issued so far invalid."""
        self.site.revoke()

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
                f"StandInService(tls=True) needs trustme: {pip_command('trustme')}"
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
            self._open_ids.add(connection)
        try:
            while True:
                request = await read_request(reader, connection)
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
                self._open_ids.discard(connection)
                self._changed.notify_all()

    def _choose_reply(self, request: RecordedRequest) -> Reply:
        with self._changed:
            self._requests.append(request)
            self._received += 1
            self._changed.notify_all()
            path = request.path.split("?")[0]
            page = self.site.page(request)
            if page is not None:
                return page  # the site's pages (also what "is it up?" checks get)
            if path != self.api_path:
                return Reply.status(404, body=b"Not Found")
            refusal = self.site.guard_api(request)
            if refusal is not None:
                return refusal
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
        reason = reason_phrase(reply.status_code)
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
