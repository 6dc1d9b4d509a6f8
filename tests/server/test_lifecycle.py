"""The server's life around a request: a client that leaves, SIGTERM with requests in flight,
the metrics it keeps, worker processes and ``--open``."""

from __future__ import annotations

import json
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from aichat_provider.testing import Reply, StandInService
from support.server import Server, serve_stand_in, start_server

CHAT = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "Hi"}]}
#: The acceptance bound for noticing a client that left, and the slack a loaded machine needs to
#: report it (the stand-in's own bookkeeping runs in another thread).
CANCEL_WITHIN = 1.0


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("lifecycle")
    (root / "home").mkdir()
    running = serve_stand_in(
        upstream,
        root,
        "--timeout",
        "60",
    )
    yield running
    running.stop()


def send_and_leave(server: Server, upstream: StandInService, body: dict[str, object]) -> float:
    """Send a chat request, wait until it reaches the stand-in, close the connection; the
    seconds until the stand-in's connection for it closed too."""
    data = json.dumps(body).encode()
    client = socket.create_connection(("127.0.0.1", server.port))
    client.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        + f"Authorization: Bearer {server.api_key}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    assert upstream.wait_for_requests(1, timeout=10)
    [upstream_request] = upstream.requests
    client.close()
    left = time.monotonic()
    assert upstream.wait_for_close(upstream_request, timeout=10)
    return time.monotonic() - left


@pytest.mark.parametrize("stream", [False, True])
def test_a_client_that_leaves_cancels_the_upstream_call(
    server: Server, upstream: StandInService, stream: bool
) -> None:
    upstream.set_default(Reply.hang())  # the service would keep it for the whole --timeout
    took = send_and_leave(server, upstream, {**CHAT, "stream": stream})
    assert took < CANCEL_WITHIN


def test_an_sdk_timeout_cancels_the_upstream_call(server: Server, upstream: StandInService) -> None:
    upstream.set_default(Reply.hang())
    client = openai.OpenAI(
        base_url=server.base_url, api_key=str(server.api_key), max_retries=0, timeout=0.5
    )
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    gave_up = time.monotonic()
    [request] = upstream.requests
    assert upstream.wait_for_close(request, timeout=10)
    assert time.monotonic() - gave_up < CANCEL_WITHIN


@pytest.mark.slow
def test_metrics(server: Server, upstream: StandInService) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key=str(server.api_key), max_retries=0)
    upstream.push(Reply.status(503), Reply.answer("retried"))  # one retry by the provider
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")
    status, headers, body = server.raw("GET", "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    text = body.decode()
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['aichat_requests_total{route="/v1/chat/completions",status="200"}'] >= 1
    assert samples['aichat_requests_total{route="/v1/models/{id}",status="404"}'] >= 1
    assert samples['aichat_upstream_retries_total{provider="Aichat"}'] >= 1
    assert samples['aichat_upstream_seconds_count{outcome="ok",provider="Aichat"}'] >= 1
    assert samples["aichat_requests_in_flight"] == 1  # this request
    assert "nope" not in text  # a client's text never becomes a label
    status, _, _ = server.raw("GET", "/metrics", None, {"Authorization": ""})
    assert status == 401  # the key guards it like the rest


# --- SIGTERM -----------------------------------------------------------------------------------


def _request_in_thread(server: Server) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def call() -> None:
        started = time.monotonic()
        status, headers, body = server.raw(
            "POST", "/v1/chat/completions", json.dumps(CHAT).encode(), timeout=60
        )
        outcome.update(
            status=status, headers=headers, body=json.loads(body), took=time.monotonic() - started
        )

    thread = threading.Thread(target=call)
    thread.start()
    return thread, outcome


def _drained_server(upstream: StandInService, tmp_path: Path, home: Path, grace: str) -> Server:
    return serve_stand_in(
        upstream,
        tmp_path,
        "--graceful-timeout",
        grace,
    )


@pytest.mark.slow
def test_sigterm_lets_requests_in_flight_finish(
    upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    server = _drained_server(upstream, tmp_path, home, "10")
    upstream.set_default(Reply(delay=5.0))  # answers well after the refusal is seen
    thread, outcome = _request_in_thread(server)
    assert upstream.wait_for_requests(1, timeout=10)
    server.process.terminate()
    assert _refuses_connections(server.port, within=10)  # no new connections while it drains
    assert thread.is_alive()  # ...and the request is still being answered
    thread.join(timeout=30)
    assert outcome["status"] == 200
    server.stop()


def _refuses_connections(port: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except (ConnectionRefusedError, ConnectionResetError):  # reset: caught closing
            return True
        except TimeoutError:  # a full backlog on a starved machine: not refusing yet
            continue
    return False


@pytest.mark.slow
def test_sigterm_answers_503_when_the_grace_period_ends(
    upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    server = _drained_server(upstream, tmp_path, home, "1")
    upstream.set_default(Reply.hang())
    thread, outcome = _request_in_thread(server)
    assert upstream.wait_for_requests(1, timeout=10)
    [request] = upstream.requests
    server.process.terminate()
    thread.join(timeout=30)
    assert outcome["status"] == 503
    body = outcome["body"]
    assert isinstance(body, dict)
    assert body["error"]["code"] == "server_shutting_down"
    headers = outcome["headers"]
    assert isinstance(headers, dict)
    assert headers["x-should-retry"] == "true"
    assert float(str(outcome["took"])) < 1 + 5  # the grace period, plus a loaded machine's slack
    assert upstream.wait_for_close(request, timeout=5)  # the upstream call was cancelled
    server.stop()
    assert "Exception in ASGI application" not in server.log_text()


# --- workers, --open --------------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_share_the_port_and_the_configuration(
    upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    server = serve_stand_in(
        upstream,
        tmp_path,
        "--workers",
        "2",
        "--cors-origin",
        "http://app.example",
    )
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key=str(server.api_key), max_retries=0)
        for _ in range(10):
            assert client.chat.completions.create(**CHAT).choices[0].message.content == "echo: Hi"  # type: ignore[call-overload]
        status, _, _ = server.raw("GET", "/v1/models", None, {"Authorization": "Bearer wrong"})
        assert status == 401  # the key went to the workers
        status, headers, _ = server.raw("GET", "/v1/models", None, {"Origin": "http://app.example"})
        assert headers["access-control-allow-origin"] == "http://app.example"
    finally:
        server.stop()
    assert server.log_text().count("Started server process") == 2
    assert len(upstream.requests) == 10


@pytest.mark.slow
def test_open_starts_the_browser_on_the_chat_page(
    upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(browser.stat().st_mode | stat.S_IEXEC)
    server = start_server(
        home,
        "--base-url",
        upstream.base_url,
        "--open",
        log=tmp_path / "server.log",
        env={"BROWSER": str(browser)},
    )
    try:
        deadline = time.monotonic() + 10
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text().strip() == f"http://127.0.0.1:{server.port}/"
    finally:
        server.stop()
