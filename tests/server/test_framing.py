"""Requests an attacker frames by hand: ``aichat serve`` in a child process reached over raw
sockets, so what is checked is what goes over the wire."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest

from aichat_provider.testing import Reply, StandInService
from support.server import API_KEY, ESTABLISHED, Server, serve_stand_in, tcp_state

#: What a loaded machine may add to a deadline before the server's cut is seen here.
MARGIN = 5.0
#: How long the server may take to answer pipelined requests until its send buffers are full
#: (megabytes of answers; under coverage on a loaded machine, many seconds), before its read
#: deadline starts.
FILL_MARGIN = 60.0
CHAT = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "Hi"}]})
#: Requests httptools cannot parse: both framings at once (the classic smuggling request), two
#: lengths, a negative one, a bare LF line end, a method that does not exist.
MALFORMED = {
    "length and chunked": b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
    "two lengths": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
    b"Content-Length: 2\r\n\r\n",
    "negative length": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
    "bare LF": b"GET /health HTTP/1.1\nHost: 127.0.0.1\n\n",
    "unknown method": b"FOO /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    # httptools leaves an upgrade's body unparsed; a chunked one is not decoded by hand.
    "chunked upgrade": b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\n"
    b"Connection: Upgrade\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
}


def exchange(server: Server, data: bytes, within: float = 30, *, one: bool = False) -> bytes:
    """Send ``data``, then read until the server closes the connection (or, ``one``, until
    one whole answer with a Content-Length is in)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=within) as client:
        client.sendall(data)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
            if one and b"\r\n\r\n" in received:
                _, headers, body, _ = split_answer(received)
                if len(body) >= int(headers.get("content-length", 1 << 60)):
                    break
    return received


def split_answer(answer: bytes) -> tuple[int, dict[str, str], bytes, bytes]:
    """The first answer in ``answer``: status, headers, body, and what follows it."""
    head, _, rest = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    length = int(headers.get("content-length", len(rest)))
    return int(lines[0].split()[1]), headers, rest[:length], rest[length:]


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_request_that_is_not_http_is_answered_in_openais_error_format(
    server: Server, request_bytes: bytes
) -> None:
    status, headers, body, after = split_answer(exchange(server, request_bytes))
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "invalid_http_request"
    assert "Content-Length" in error["message"]
    assert after == b""


def test_a_pipelined_request_that_is_not_http_is_refused_after_the_answer_before_it(
    server: Server, upstream: StandInService
) -> None:
    """A chat request, then on the same connection before its answer a request httptools cannot
    parse: the first is answered in full, then the 400 (HTTP/1.1 answers in order)."""
    upstream.set_default(Reply(delay=0.5))
    first = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n".encode()
        + f"Content-Length: {len(CHAT)}\r\n\r\n".encode()
        + CHAT.encode()
    )
    answer = exchange(server, first + MALFORMED["two lengths"])
    status, _, body, after = split_answer(answer)
    assert status == 200, answer[:300]
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: Hi"
    status, _, body, rest = split_answer(after)
    assert status == 400, after[:300]
    assert json.loads(body)["error"]["code"] == "invalid_http_request"
    assert rest == b""


@pytest.fixture(scope="module")
def quick(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("framing-quick")
    running = serve_stand_in(upstream, root, "--read-timeout", "1")
    yield running
    running.stop()


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="reads Linux's TCP_INFO")
def test_a_client_pipelining_requests_and_reading_nothing_is_reset_without_an_error(
    quick: Server,
) -> None:
    """Thousands of requests sent at once and no answer read: the server answers until its send
    buffers are full, then resets the connection at the read deadline (a plain close left the
    answers queued in the kernel for a client still holding the connection), and logs no failure
    of its own (an answer that waited for room is not written to the closed connection)."""
    one = (
        f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n\r\n"
    ).encode()
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.settimeout(30)
        client.connect(("127.0.0.1", quick.port))
        client.sendall(one * 20000)
        deadline = time.monotonic() + FILL_MARGIN + 1 + MARGIN
        while tcp_state(client) == ESTABLISHED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tcp_state(client) != ESTABLISHED, "the connection was not reset"
        received = 0
        with contextlib.suppress(ConnectionResetError):
            while chunk := client.recv(65536):
                received += len(chunk)
    # What the client's own small buffer held; not the megabytes of answers queued for it.
    assert received < 65536
    log = quick.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert "failed to answer" not in log
    assert "without completing response" not in log


def test_a_websocket_upgrade_is_answered_as_plain_http_and_its_url_kept_out_of_the_log(
    server: Server,
) -> None:
    """The server has no WebSocket route: an upgrade request is an ordinary request to the route
    it names, admitted as any other (the key, in OpenAI's error format), and its query is
    redacted in the log like any other (Uvicorn's WebSocket handshake logged the URL whole)."""
    in_url = "sk-in-a-websocket-url-3e1f"
    upgrade = (
        f"GET /v1/models?api_key={in_url} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    status, headers, body, _ = split_answer(exchange(server, upgrade, one=True))
    assert status == 401
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "invalid_api_key"
    log = server.log_text()
    assert in_url not in log
    assert "api_key=[redacted]" in log
    assert "WebSocket library" not in log  # no advice to install what is not wanted


UPGRADE_HEADERS = (
    "Upgrade: h2c\r\nHTTP2-Settings: AAEAAQAAAAIAAAAAAAQAYAAAAAYABAAA\r\n"
    "Connection: Upgrade, HTTP2-Settings\r\n"
)


@pytest.mark.parametrize("pieces", [1, 2], ids=["one-read", "body-later"])
def test_a_request_offering_an_upgrade_to_http2_keeps_its_body(server: Server, pieces: int) -> None:
    """curl and curl_cffi (as Chrome) offer ``Upgrade: h2c`` on plain HTTP; a server that does
    not upgrade answers the HTTP/1.1 request, body included (httptools handed the body to the
    protocol that was never taken up, and the request was answered as if it had none)."""
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n"
        f"{UPGRADE_HEADERS}Content-Length: {len(CHAT)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        if pieces == 1:
            client.sendall(head + CHAT.encode())
        else:
            client.sendall(head)
            time.sleep(0.2)  # the body in a read of its own
            client.sendall(CHAT.encode())
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    status, headers, body, _ = split_answer(received)
    assert status == 200, received[:300]
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: Hi"
    assert headers["connection"] == "close"  # httptools reads no request after an upgrade


def test_curl_cffi_as_chrome_can_post_to_the_server(server: Server) -> None:
    from curl_cffi import requests

    answer = requests.post(
        f"{server.base_url}/chat/completions",
        data=CHAT,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        impersonate="chrome",
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["choices"][0]["message"]["content"] == "echo: Hi"
