"""Clients that send too much head, or too slowly: the real ``aichat serve`` reached over raw
sockets, its memory read from ``/proc``."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider import _constants
from aichat_provider.cli import serve as serve_command
from aichat_provider.testing import Reply, StandInService
from support.secrets import subprocess_env
from support.server import ESTABLISHED, Server, serve_stand_in, tcp_state

SERVER_PAGE = Path(__file__).parents[2] / "docs" / "server.md"
#: What a loaded machine may add to a deadline before the server's cut is seen here.
MARGIN = 5.0
#: The read timeout the tests give a server, so a cut is seen in a second or two.
SHORT = 1.0
HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """No API key, as the issue found it; the default read timeout."""
    root = tmp_path_factory.mktemp("slow-default")
    running = serve_stand_in(upstream, root, api_key=None)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def quick(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("slow-quick")
    running = serve_stand_in(upstream, root, "--read-timeout", str(SHORT))
    yield running
    running.stop()


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB$", status, re.MULTILINE)
    assert match, status
    return int(match.group(1)) * 1024


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def send_all_it_takes(client: socket.socket, data: bytes) -> None:
    """Send ``data`` in 64 KiB pieces; a server that cut the connection ends the sending."""
    view = memoryview(data)
    try:
        for start in range(0, len(view), 65536):
            client.sendall(view[start : start + 65536])
    except (BrokenPipeError, ConnectionResetError):
        pass


def read_until_closed(client: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed (seconds
    on the monotonic clock); fails if it is still open ``within`` seconds from now."""
    client.settimeout(within)
    received = b""
    while True:
        try:
            chunk = client.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except TimeoutError:
            raise AssertionError(
                f"the connection was still open after {within} s; got {received[:200]!r}"
            ) from None
        if not chunk:
            return received, time.monotonic()
        received += chunk


def chat_request(server: Server, extra: bytes = b"") -> bytes:
    """A chat completion request as raw bytes, with the server's key if it has one."""
    chat = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "Hi"}]})
    key = f"Authorization: Bearer {server.api_key}\r\n" if server.api_key else ""
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + extra
        + f"Content-Type: application/json\r\n{key}Content-Length: {len(chat)}\r\n\r\n".encode()
        + chat.encode()
    )


def status_and_body(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    return int(lines[0].split()[1]), headers, body


# --- the size of a head --------------------------------------------------------------------


@pytest.mark.slow
def test_a_one_mib_header_block_is_refused_with_431(server: Server) -> None:
    fill = b"X-Fill-%d: " + b"a" * 8192 + b"\r\n"
    block = b"".join(fill % number for number in range(128))  # 1 MiB in 128 header lines
    assert len(block) > 1024 * 1024
    with connect(server) as client:
        send_all_it_takes(client, HEAD + block + b"\r\n")
        answer, _ = read_until_closed(client, MARGIN)
    status, headers, body = status_and_body(answer)
    assert status == 431
    assert headers["connection"] == "close"
    assert headers["x-should-retry"] == "false"
    error = json.loads(body)["error"]
    assert error["code"] == "request_header_too_large"
    assert str(_constants.SERVER_MAX_HEAD_BYTES) in error["message"]
    assert "X-Fill" not in answer.decode("latin-1")  # nothing of the request comes back


def test_a_64_mib_header_does_not_grow_the_server(server: Server) -> None:
    """The issue's case: one header of 64 MiB, no key; the server grew by all of it."""
    before = rss_bytes(server.process.pid)
    with connect(server) as client:
        send_all_it_takes(client, HEAD + b"X-Fill: " + b"a" * (64 * 1024 * 1024))
        grown = rss_bytes(server.process.pid) - before
        assert grown < 20 * 1024 * 1024, f"the server grew by {grown / 2**20:.1f} MiB"
        answer, _ = read_until_closed(client, MARGIN)
    assert status_and_body(answer)[0] == 431
    status, _, _ = server.raw("GET", "/health")
    assert status == 200  # and it serves the next client


def test_a_head_over_the_bound_sent_at_once_is_refused(server: Server) -> None:
    """Just over the bound: the last read completes the head, and the head still counts."""
    head = HEAD + b"Connection: close\r\nX-Fill: "
    value = b"a" * (_constants.SERVER_MAX_HEAD_BYTES + 64 - len(head) - 4)
    with connect(server) as client:
        client.sendall(head + value + b"\r\n\r\n")
        answer, _ = read_until_closed(client, MARGIN)
    assert status_and_body(answer)[0] == 431


def test_a_large_body_arriving_with_its_head_in_one_read_is_served(server: Server) -> None:
    """A whole request of more than the head bound in one read (Claude Code sends ~80 KB at
    once on a new connection): its body is not head bytes."""
    data = json.dumps(
        {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "x" * 100_000}]}
    ).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(data)
    )
    with connect(server) as client:
        client.sendall(request + data)
        answer, _ = read_until_closed(client, 30)
    status, _, body = status_and_body(answer)
    assert status == 200, body[:300]


def test_a_head_just_under_the_bound_is_served(server: Server) -> None:
    value = "a" * (_constants.SERVER_MAX_HEAD_BYTES - 1024)
    status, _, _ = server.raw("GET", "/health", None, {"X-Fill": value})
    assert status == 200


# --- the time to send a request ------------------------------------------------------------


@pytest.mark.slow
def test_partial_requests_are_cut_at_the_default_deadline(server: Server) -> None:
    """The issue's case (connections holding a partial request line) and its relatives: a
    connection that sends nothing, and one that trickles its head a byte a second."""
    deadline = _constants.SERVER_READ_TIMEOUT
    started = time.monotonic()
    silent, partial, trickle = connect(server), connect(server), connect(server)
    partial.sendall(b"GET /heal")
    stop = threading.Event()

    def trickling() -> None:
        for byte in (HEAD + b"X-Slow: " + b"a" * 100).decode():
            try:
                trickle.send(byte.encode())
            except OSError:
                return
            if stop.wait(1.0):
                return

    sender = threading.Thread(target=trickling)
    sender.start()
    try:
        cuts = {}
        for name, client in (("silent", silent), ("partial", partial), ("trickle", trickle)):
            answer, closed = read_until_closed(
                client, deadline + MARGIN - (time.monotonic() - started)
            )
            cuts[name] = (answer, closed - started)
    finally:
        stop.set()
        sender.join()
        for client in (silent, partial, trickle):
            client.close()
    for name, (_, took) in cuts.items():
        assert took >= deadline - 0.5, f"{name} cut after {took:.1f} s, before the deadline"
    assert cuts["silent"][0] == b""  # nothing asked, nothing answered: only closed
    for name in ("partial", "trickle"):
        status, headers, body = status_and_body(cuts[name][0])
        assert status == 408, name
        assert headers["connection"] == "close"
        assert json.loads(body)["error"]["code"] == "request_timeout"


@pytest.mark.slow
def test_a_partial_body_is_cut_at_the_deadline(quick: Server, upstream: StandInService) -> None:
    with connect(quick) as client:
        client.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n"
            + f"Authorization: Bearer {quick.api_key}\r\n\r\n".encode()
            + b'{"model": '
        )
        sent = time.monotonic()
        answer, closed = read_until_closed(client, SHORT + MARGIN)
    assert closed - sent >= SHORT - 0.2
    assert status_and_body(answer)[0] == 408
    assert upstream.requests == []


def test_a_request_sent_in_pieces_within_the_deadline_is_served(quick: Server) -> None:
    with connect(quick) as client:
        client.sendall(b"GET /health HTTP/1.1\r\n")
        time.sleep(SHORT / 2)  # well inside the deadline: the request must be served
        client.sendall(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer, _ = read_until_closed(client, MARGIN)
    assert status_and_body(answer)[0] == 200


@pytest.mark.slow
def test_requests_that_take_longer_than_the_deadline_are_answered(
    quick: Server, upstream: StandInService
) -> None:
    """The deadline is for the client's sending; the answer and a kept-alive second request on
    the same connection are not cut by it."""
    upstream.set_default(Reply(delay=SHORT * 2))
    request = chat_request(quick)
    with connect(quick) as client:
        for _ in range(2):
            client.sendall(request)
            answer = b""
            while b"echo: Hi" not in answer:
                chunk = client.recv(65536)
                assert chunk, f"closed after {answer!r}"
                answer += chunk
            assert status_and_body(answer)[0] == 200


@pytest.mark.slow
def test_worker_processes_bound_heads_and_deadlines_too(
    upstream: StandInService, tmp_path: Path
) -> None:
    running = serve_stand_in(
        upstream, tmp_path, "--workers", "2", "--read-timeout", str(SHORT), api_key=None
    )
    try:
        with connect(running) as client:
            send_all_it_takes(client, HEAD + b"X-Fill: " + b"a" * (1024 * 1024))
            answer, _ = read_until_closed(client, MARGIN)
        assert status_and_body(answer)[0] == 431
        with connect(running) as client:
            client.sendall(b"GET /heal")
            sent = time.monotonic()
            answer, closed = read_until_closed(client, SHORT + MARGIN)
        assert closed - sent >= SHORT - 0.2
        assert status_and_body(answer)[0] == 408
    finally:
        running.stop()


# --- the defaults, as documented -----------------------------------------------------------


def test_the_defaults_are_the_documented_ones() -> None:
    parser = argparse.ArgumentParser()
    serve_command.configure(parser)
    assert parser.parse_args([]).read_timeout == _constants.SERVER_READ_TIMEOUT == 10.0
    assert _constants.SERVER_MAX_HEAD_BYTES == 64 * 1024
    page = " ".join(SERVER_PAGE.read_text().split())
    assert "`--read-timeout` (10 s)" in page
    assert "64 KiB" in page


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
@pytest.mark.slow
def test_a_read_timeout_that_bounds_nothing_stops_the_server(value: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aichat_provider", "serve", "--read-timeout", value],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(tmp_path),
    )
    assert result.returncode == 2
    assert "--read-timeout must be more than 0 s and at most a day" in result.stderr


def test_a_pipelined_head_over_the_bound_is_refused_after_the_answer_before_it(
    server: Server, upstream: StandInService
) -> None:
    """A client sends a chat request and, on the same connection before its answer, a request
    whose head is too large: the first is answered in full, then the 431, in order (HTTP/1.1
    answers in the order asked), and the server writes nothing after closing its side."""
    upstream.set_default(Reply(delay=0.5))
    first = chat_request(server)
    second = HEAD + b"X-Fill: " + b"a" * (_constants.SERVER_MAX_HEAD_BYTES + 64) + b"\r\n\r\n"
    with connect(server) as client:
        send_all_it_takes(client, first + second)
        answer, _ = read_until_closed(client, 30)
    status, _, rest = status_and_body(answer)
    assert status == 200, answer[:300]
    length = int(status_and_body(answer)[1]["content-length"])
    body, after = rest[:length], rest[length:]
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: Hi"
    assert status_and_body(after)[0] == 431, after[:300]
    assert "write_eof" not in server.log_text()


def large_answer_request(server: Server, upstream: StandInService, extra: bytes = b"") -> bytes:
    """A chat request whose answer is 8 MiB (the stand-in is told to give that much)."""
    upstream.set_default(Reply.answer("x" * (8 * 1024 * 1024)))
    return chat_request(server, extra)


def small_window_client(server: Server) -> socket.socket:
    """A connection whose receive buffer is small: what it does not read stays in the server's."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(("127.0.0.1", server.port))
    return client


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="reads Linux's TCP_INFO")
def test_a_client_that_stops_reading_its_answer_is_cut_at_the_deadline(
    quick: Server, upstream: StandInService
) -> None:
    """A client that asks for a large answer and does not read it holds the server's memory
    and a connection for as long as it likes, unless the server stops waiting: after the read
    timeout with its send buffer full, it drops the connection."""
    with small_window_client(quick) as client:
        client.sendall(large_answer_request(quick, upstream))
        assert upstream.wait_for_requests(1, timeout=30)
        # Not reading until the server has reset the connection (Linux's TCP state says so
        # without a read: a read would be progress). Making and writing 8 MiB takes a while
        # under coverage on a loaded machine; the deadline counts from the full send buffer.
        deadline = time.monotonic() + 60 + SHORT + MARGIN
        while tcp_state(client) == ESTABLISHED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tcp_state(client) != ESTABLISHED, "the connection is still open"
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := client.recv(65536):
                answer += chunk
    status, headers, body = status_and_body(answer)
    assert status == 200
    assert len(body) < int(headers["content-length"])  # cut: the server stopped waiting
    assert server_is_healthy(quick)


@pytest.mark.slow
def test_a_client_reading_its_answer_slowly_gets_all_of_it(
    quick: Server, upstream: StandInService
) -> None:
    """Reading slowly is not stopping: 8 MiB taken 16 KiB at a time, which takes several times
    the read timeout, arrives whole."""
    answer = b""
    started = time.monotonic()
    with small_window_client(quick) as client:
        client.settimeout(30)
        client.sendall(large_answer_request(quick, upstream, b"Connection: close\r\n"))
        while chunk := client.recv(16384):
            answer += chunk
            time.sleep(0.01)
    assert time.monotonic() - started > SHORT * 3  # the deadline passed several times over
    status, headers, body = status_and_body(answer)
    assert status == 200
    assert len(body) == int(headers["content-length"])
    assert len(json.loads(body)["choices"][0]["message"]["content"]) == 8 * 1024 * 1024


def server_is_healthy(server: Server) -> bool:
    status, _, _ = server.raw("GET", "/health")
    return status == 200
