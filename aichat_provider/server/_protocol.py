"""The HTTP protocol ``aichat serve`` runs: Uvicorn's httptools protocol, with a bound on the size
of a request head and deadlines for a client's sending and for its taking of the answer.

httptools keeps a header in memory however long it grows, and Uvicorn waits for a request's head
and body, and for a client to read its answer, as long as the client likes (its keep-alive
timeout covers idle connections between requests only), so one client could hold memory and
connections for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
from typing import Any

try:
    import fcntl
    import termios
except ImportError:  # pragma: no cover - Windows: a stopped reader cannot be told there
    termios = None  # type: ignore[assignment]

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from .. import _constants
from ._errors import APIError
from ._refusal import refusal, shaped

#: After refusing a request, what the client still sends is read and dropped this long before the
#: connection closes: closing on unread data would reset it, and the client would never read why.
LINGER = 2.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """A request head over ``max_head_bytes`` is answered 431; a client that has not sent its
    request's head within ``read_timeout`` seconds (from connecting, or from the previous answer),
    or then its body within as long again, is answered 408 and disconnected (a connection that
    sent nothing is just closed). A client that takes nothing of its answer for ``read_timeout``
    seconds while the send buffer is full is disconnected (a slow reader is not). A request
    that cannot be parsed is answered 400 in the API's format, after the answers before it. These
    answers are in the error shape of the route the request named (``_refusal``). A
    request to upgrade (WebSocket, h2c) is answered as the plain HTTP request it also is."""

    def __init__(
        self,
        *args: Any,
        read_timeout: float = _constants.SERVER_READ_TIMEOUT,
        max_head_bytes: int = _constants.SERVER_MAX_HEAD_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = read_timeout
        self.max_head_bytes = max_head_bytes
        self._deadline: asyncio.TimerHandle | None = None
        #: Armed while the send buffer is full, with the buffer's size then: a client that
        #: took nothing of it by the deadline is not reading.
        self._stalled: asyncio.TimerHandle | None = None
        self._unsent = 0
        #: Between a request's last byte and the next one's headers: new bytes are head bytes.
        self._awaiting_head = True
        #: Bytes of reads that left the head incomplete: this bounds a header still growing.
        self._head_bytes = 0
        #: The head's parsed parts (URL, names, values, separators): this bounds a complete one.
        self._parsed_bytes = 0
        #: A head was completed during the read being parsed.
        self._head_completed = False
        #: A request has begun and is not fully received yet.
        self._in_message = False
        self._refused = False
        #: A refusal of a pipelined request, said once the answer before it is complete.
        self._deferred: APIError | None = None
        #: Body bytes still to come of a request that offered an upgrade (``_read_upgrade_body``).
        self._body_left = 0
        #: The bytes being parsed, for what httptools leaves unparsed after an upgrade's head.
        self._feeding = b""
        #: The request being answered (``cycle`` is the last one read, which may be queued).
        self._running: RequestResponseCycle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        if self._stalled is not None:
            self._stalled.cancel()
        super().connection_lost(exc)

    def _unsupported_upgrade_warning(self) -> None:
        """Called where Uvicorn catches httptools' upgrade (no protocol is taken up here):
        what followed the head in this read is the request's body, not another protocol's."""
        error = sys.exc_info()[1]
        if isinstance(error, httptools.HttpParserUpgrade) and error.args:
            self._take_body(self._feeding[error.args[0] :])

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, app)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stalled is None:
            self._watch_reading()

    def _watch_reading(self) -> None:
        unsent = _unsent_bytes(self.transport)
        if unsent is not None:  # where it cannot be told, a client is never taken for stopped
            self._unsent = unsent
            self._stalled = self.loop.call_later(self.read_timeout, self._check_reading)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def _check_reading(self) -> None:
        self._stalled = None
        unsent = _unsent_bytes(self.transport)
        if unsent is None or unsent < self._unsent:
            self._watch_reading()  # slow, but reading
            return
        # Nothing can be said to a client that does not read: drop the connection, and with
        # it the answer held for it. A reset, not a close: a closed socket keeps sending what
        # the kernel has queued (megabytes) to a client that still holds the connection. The
        # application's writes end here too, not in the closed transport.
        for cycle in (self._running, self.cycle):  # the one answering, the last one read
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True
        sock = self.transport.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError, ValueError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        # The read that completes a head may carry body bytes too, or a whole request (and
        # its end makes the server await the next head): only reads in which no head was
        # completed count here.
        if self._body_left:
            self._take_body(data)  # httptools takes nothing after an upgrade's head
            return
        counting = self._awaiting_head
        self._head_completed = False
        self._feeding = data
        super().data_received(data)
        if counting and self._awaiting_head and not self._head_completed and not self._refused:
            self._head_bytes += len(data)
            self._check_head(self._head_bytes)

    def on_message_begin(self) -> None:
        if self._refused:
            return
        super().on_message_begin()
        self._in_message = True
        self._parsed_bytes = 0

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        super().on_url(url)
        self._parsed_bytes += len(url)
        self._check_head(self._parsed_bytes)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        super().on_header(name, value)
        self._parsed_bytes += len(name) + len(value) + 4  # ": " and CRLF
        self._check_head(self._parsed_bytes)

    def on_headers_complete(self) -> None:
        if self._refused:
            return  # refused by a header in this same read
        super().on_headers_complete()
        self._awaiting_head = False
        self._head_completed = True
        self._cancel()
        if self.parser.should_upgrade():
            if self._should_upgrade():
                return  # another protocol takes the connection over
            self._read_upgrade_body()
        if self.pipeline and self.pipeline[0][0] is self.cycle:
            return  # queued behind a request in flight, with reading paused: armed when it starts
        self._arm()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused or self._body_left:
            return  # httptools ends an upgrade's message at its head: the body is to come
        super().on_message_complete()
        self._in_message = False
        self._awaiting_head = True
        self._head_bytes = 0
        if self.cycle is not None and self.cycle.response_complete:
            self._arm()  # answered before its body was in: the next request is awaited already
        else:
            self._cancel()  # the client is waiting for its answer now, for as long as that takes

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self._deferred is not None:
            self._answer(self._deferred)
            return
        if self.timeout_keep_alive_task is not None or self._in_message:
            # Waiting for the next request (Uvicorn's keep-alive timeout closes the connection
            # sooner if nothing at all comes), or for the body of a queued one that just started.
            self._arm()

    def send_400_response(self, msg: str) -> None:
        """A request httptools cannot parse, in the API's error format and in its turn: the
        answer to a request before it on the connection is not cut off."""
        self._refuse(
            APIError(
                400,
                "The request is not valid HTTP/1.1: send each request with CRLF line ends and "
                "one Content-Length or Transfer-Encoding: chunked, not both.",
                code="invalid_http_request",
            )
        )

    def _read_upgrade_body(self) -> None:
        """A request offering an upgrade (``Upgrade: h2c`` from curl, or curl_cffi as Chrome)
        is answered as HTTP/1.1, its body included; httptools hands the body to the protocol
        offered, so it is read here, and the connection closes after the answer (httptools
        parses nothing more on it)."""
        self.cycle.keep_alive = False
        declared = dict(self.headers)
        if b"transfer-encoding" in declared:
            self._refuse(
                APIError(
                    400,
                    "A chunked body cannot come with 'Connection: Upgrade' here (this server "
                    "speaks HTTP/1.1 only): send it with a Content-Length, or without the "
                    "Upgrade header.",
                    code="invalid_http_request",
                )
            )
            return
        length = declared.get(b"content-length", b"0")
        self._body_left = int(length) if length.isdigit() else 0

    def _take_body(self, data: bytes) -> None:
        """Body bytes of a request that offered an upgrade; bytes after it are dropped."""
        if not self._body_left:
            return
        part = data[: self._body_left]
        self._body_left -= len(part)
        if part:
            self.on_body(part)
        if not self._body_left:
            self.on_message_complete()

    def _check_head(self, size: int) -> None:
        if size > self.max_head_bytes:
            self._refuse(
                APIError(
                    431,
                    f"The request's head is over {self.max_head_bytes} bytes; send fewer or "
                    "shorter headers (cookies for this host pile up in a browser's).",
                    code="request_header_too_large",
                )
            )

    def _arm(self) -> None:
        self._cancel()
        self._deadline = self.loop.call_later(self.read_timeout, self._expired)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        unanswered = self._awaiting_head or not self.cycle.response_started
        if not (self._in_message and unanswered):
            self.transport.close()  # nothing asked, or already answered: nothing to say
            return
        self._refuse(
            APIError(
                408,
                f"The request did not arrive within {self.read_timeout:g} s.",
                code="request_timeout",
                should_retry=True,
            )
        )

    def _refuse(self, error: APIError) -> None:
        """Answer ``error`` and close, dropping the rest of the request."""
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._cancel()
        if self.cycle is not None and not self._awaiting_head:
            self.cycle.disconnected = True  # the application's receive() gets a disconnect
            self.cycle.message_event.set()
        elif self.cycle is not None and not self.cycle.response_complete:
            # The head of a pipelined request: HTTP/1.1 answers in order, so the request
            # before it is answered first (its bytes are dropped meanwhile).
            self._deferred = error
            return
        self._answer(error)

    def _answer(self, error: APIError) -> None:
        body = shaped(error, self.app, getattr(self, "url", b""))  # url: set as a request begins
        self.transport.write(refusal(error, body, self.server_state.default_headers))
        self.flow.resume_reading()  # read to drop it, or the client sees a reset
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER, self.transport.close)


def _unsent_bytes(transport: asyncio.Transport) -> int | None:
    """What the client has yet to take: the transport's buffer, and the kernel's send queue
    (which alone holds megabytes on a fast link), or None where the kernel's cannot be read."""
    sock = transport.get_extra_info("socket")
    if termios is None or sock is None:
        return None
    try:
        queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (OSError, ValueError, AttributeError):
        return None
    return transport.get_write_buffer_size() + int.from_bytes(queued, sys.byteorder)
