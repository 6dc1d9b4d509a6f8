"""The stand-in service as other code meets it: raw HTTP requests, odd ones included, and its
command line."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from aichat_provider.testing import Challenge, Reply, SignIn, StandInService
from support.secrets import subprocess_env


def exchange(service: StandInService, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_a_chunked_request_body_is_read_whole(service: StandInService) -> None:
    body = b'{"message": "chunked hello"}'
    raw = (
        b"POST /api/text HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        + f"{len(body[:10]):x};ext=1\r\n".encode()
        + body[:10]
        + b"\r\n"
        + f"{len(body[10:]):x}\r\n".encode()
        + body[10:]
        + b"\r\n0\r\n\r\n"
    )
    reply = exchange(service, raw)
    assert reply.startswith(b"HTTP/1.1 200 OK")
    assert b"echo: chunked hello" in reply
    assert service.requests[0].prompt == "chunked hello"


def test_repeated_headers_are_joined_and_other_paths_are_not_found(service: StandInService) -> None:
    raw = b"GET /nothing HTTP/1.1\r\nX-A: 1\r\nX-A: 2\r\nConnection: close\r\n\r\n"
    assert exchange(service, raw).startswith(b"HTTP/1.1 404 Not Found")
    assert service.requests[0].header("x-a") == "1, 2"


def test_a_get_of_the_api_is_not_allowed(service: StandInService) -> None:
    raw = b"GET /api/text HTTP/1.1\r\nConnection: close\r\n\r\n"
    assert exchange(service, raw).startswith(b"HTTP/1.1 405 Method Not Allowed")


def test_a_connection_closed_before_a_whole_request_is_no_request(service: StandInService) -> None:
    assert exchange(service, b"POST /api/text HTTP/1.1\r\nHost:") == b""
    assert service.requests == []


def test_a_status_without_a_standard_phrase(service: StandInService) -> None:
    service.push(Reply.status(599))
    raw = b"POST /api/text HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    assert exchange(service, raw).startswith(b"HTTP/1.1 599 Unknown")


def test_a_prompt_that_is_not_json_is_none(service: StandInService) -> None:
    raw = b"POST /api/text HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    exchange(service, raw)
    assert service.requests[0].prompt is None


def test_the_sign_in_form_refuses_a_wrong_password() -> None:
    with StandInService(sign_in=SignIn()) as service:
        form = b"username=user&password=wrong"
        raw = (
            b"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(form)}\r\nConnection: close\r\n\r\n".encode()
            + form
        )
        reply = exchange(service, raw)
        assert reply.startswith(b"HTTP/1.1 200 OK")
        assert b"Wrong user name or password." in reply
        assert service.site.sign_ins == 0
        api = b"POST /api/text HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        assert exchange(service, api).startswith(b"HTTP/1.1 401")


def test_a_forged_or_stale_clearance_is_refused() -> None:
    with StandInService(challenge=Challenge()) as service:
        for token in ("forged", "abc.def", "1.deadbeef", "99999999999.deadbeef"):
            raw = (
                b"GET /chat HTTP/1.1\r\nUser-Agent: A\r\n"
                + f"Cookie: cf_clearance={token}\r\nConnection: close\r\n\r\n".encode()
            )
            reply = exchange(service, raw)
            assert reply.startswith(b"HTTP/1.1 403")
            assert b"cf-mitigated: challenge" in reply
        assert service.site.page_challenges == 4


def test_the_command_line_serves_until_stopped(home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "aichat_provider.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(home),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("stand-in for chat-gpt.org at http://127.0.0.1:")
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_the_command_line_on_a_port_in_use_says_so_in_one_line(home: Path) -> None:
    """The README's stand-in started twice: a line naming the port and the way out, no
    traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "aichat_provider.testing", "--port", str(port)],
            capture_output=True,
            text=True,
            env=subprocess_env(home),
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr == (
        f"python -m aichat_provider.testing: error: port {port} on 127.0.0.1 is in use; pick "
        "another with --port (0 takes any free one).\n"
    )


def test_a_fault_rate_needs_faults_to_draw_from() -> None:
    import pytest

    with pytest.raises(ValueError, match="at least one Reply"):
        StandInService(fault_rate=0.5)


def test_starting_twice_keeps_the_same_server() -> None:
    with StandInService() as service:
        port = service.port
        assert service.start() is service
        assert service.port == port


def test_required_cookies(service: StandInService) -> None:
    service.require_cookies = {"session": "right"}
    wrong = (
        b"POST /api/text HTTP/1.1\r\nCookie: session=wrong\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\n{}"
    )
    assert exchange(service, wrong).startswith(b"HTTP/1.1 403")
    right = wrong.replace(b"session=wrong", b"session=right")
    assert exchange(service, right).startswith(b"HTTP/1.1 200")


def test_the_home_page_answers_for_is_it_up_checks(service: StandInService) -> None:
    reply = exchange(service, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'<h1 id="welcome">Welcome</h1>' in reply


def test_a_chunked_reply(service: StandInService) -> None:
    service.push(Reply(chunked=True))
    raw = (
        b'POST /api/text HTTP/1.1\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{"message":"c"}'
    )
    reply = exchange(service, raw)
    assert b"Transfer-Encoding: chunked" in reply
    assert reply.endswith(b"0\r\n\r\n")
