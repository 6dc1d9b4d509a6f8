"""Requests an attacker frames by hand: ``aichat serve`` in a child process reached over raw
sockets, so what is checked is what goes over the wire."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from aichat_provider.testing import Reply, StandInService
from support.server import API_KEY, Server, serve_stand_in

CHAT = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "Hi"}]})
#: Heads httptools cannot parse: both framings at once (the classic smuggling request), two
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
}


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("framing")
    running = serve_stand_in(upstream, root, "--max-retries", "0")
    yield running
    running.stop()


def exchange(server: Server, data: bytes, within: float = 30) -> bytes:
    """Send ``data``, then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=within) as client:
        client.sendall(data)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
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
