"""``aichat serve`` is safe by default: what a web page, a DNS-rebinding name or a careless log
could do with a server that holds the user's cookies, tried against the real server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from aichat_provider.testing import Reply, StandInService
from support.secrets import SECRET_COOKIE, subprocess_env
from support.server import Server, serve_stand_in

CHAT = json.dumps({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "Hi"}]})
EVIL = "https://evil.example"
APP = "http://app.example:3000"
QUERY_KEY = "sk-query-string-key-8c1d"


@pytest.fixture(scope="module")
def open_server(
    upstream: StandInService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """No API key, as most people run it on their own machine; one page allowed by CORS."""
    root = tmp_path_factory.mktemp("open")
    (root / "home").mkdir()
    running = serve_stand_in(
        upstream,
        root,
        "--max-retries",
        "0",
        "--cors-origin",
        APP,
        api_key=None,
    )
    yield running
    running.stop()
    logged = running.log_text()
    assert SECRET_COOKIE not in logged
    assert QUERY_KEY not in logged


@pytest.mark.slow
def test_a_cross_site_text_plain_post_is_refused(
    open_server: Server, upstream: StandInService
) -> None:
    """What a page's ``fetch(url, {method: "POST", mode: "no-cors", body})`` sends: no
    preflight, ``text/plain``, the page's Origin."""
    status, headers, body = open_server.raw(
        "POST",
        "/v1/chat/completions",
        CHAT.encode(),
        {"Content-Type": "text/plain;charset=UTF-8", "Origin": EVIL},
    )
    assert status == 403
    error = json.loads(body)["error"]
    assert error["code"] == "origin_not_allowed"
    assert "--cors-origin" in error["message"]
    assert "access-control-allow-origin" not in headers
    # Without an Origin (a form a browser did not label, a careless script), text/plain is
    # still not taken as JSON.
    status, _, body = open_server.raw(
        "POST", "/v1/chat/completions", CHAT.encode(), {"Content-Type": "text/plain"}
    )
    assert status == 415
    assert json.loads(body)["error"]["code"] == "unsupported_media_type"
    status, _, _ = open_server.raw(
        "POST",
        "/v1/chat/completions",
        b"model=gpt-3.5-turbo",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 415
    assert upstream.requests == []  # nothing reached the service


def test_a_foreign_origin_is_refused_on_every_route(open_server: Server) -> None:
    for method, path in (("GET", "/v1/models"), ("GET", "/health"), ("OPTIONS", "/v1/models")):
        status, headers, body = open_server.raw(method, path, None, {"Origin": EVIL})
        assert status == 403, path
        assert json.loads(body)["error"]["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in headers


def test_a_dns_rebinding_host_is_refused(open_server: Server, upstream: StandInService) -> None:
    """A page at evil.example whose name now resolves to 127.0.0.1 is same-origin with itself:
    no Origin check helps, the Host header gives it away."""
    status, _, body = open_server.raw(
        "POST", "/v1/chat/completions", CHAT.encode(), {"Host": f"evil.example:{open_server.port}"}
    )
    assert status == 403
    error = json.loads(body)["error"]
    assert error["code"] == "host_not_allowed"
    assert "--allowed-host" in error["message"]
    status, _, _ = open_server.raw("GET", "/v1/models", None, {"Host": "evil.example"})
    assert status == 403
    assert upstream.requests == []


@pytest.mark.parametrize(
    "host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST"]
)
def test_loopback_names_are_answered(open_server: Server, host: str) -> None:
    status, _, _ = open_server.raw(
        "GET", "/v1/models", None, {"Host": host.format(port=open_server.port)}
    )
    assert status == 200


def test_the_same_origin_page_passes(open_server: Server, upstream: StandInService) -> None:
    status, headers, body = open_server.raw(
        "POST", "/v1/chat/completions", CHAT.encode(), {"Origin": open_server.origin}
    )
    assert status == 200
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: Hi"
    assert "access-control-allow-origin" not in headers  # same-origin needs no CORS


def test_an_allowed_origin_gets_cors_headers(open_server: Server, upstream: StandInService) -> None:
    status, headers, _ = open_server.raw(
        "OPTIONS",
        "/v1/chat/completions",
        None,
        {
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
        },
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == APP
    assert "POST" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "authorization, content-type, x-stainless-os"
    assert headers["vary"] == "Origin"
    status, headers, body = open_server.raw(
        "POST", "/v1/chat/completions", CHAT.encode(), {"Origin": APP}
    )
    assert status == 200
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: Hi"
    assert headers["access-control-allow-origin"] == APP
    assert "x-should-retry" in headers["access-control-expose-headers"]
    # errors carry them too, so the page can read why
    status, headers, _ = open_server.raw("GET", "/v1/nothing", None, {"Origin": APP})
    assert status == 404
    assert headers["access-control-allow-origin"] == APP
    assert len(upstream.requests) == 1


@pytest.mark.slow
def test_a_key_in_the_query_string_is_refused_and_not_logged(
    upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    server = serve_stand_in(
        upstream,
        tmp_path,
    )
    try:
        status, _, body = server.raw(
            "GET", f"/v1/models?api_key={QUERY_KEY}&limit=5", None, {"Authorization": ""}
        )
        assert status == 401
        message = json.loads(body)["error"]["message"]
        assert "not accepted" in message
        assert QUERY_KEY not in message
        # the right key in the URL is refused as well: URLs end up in logs and histories
        status, _, _ = server.raw(
            "GET", f"/v1/models?api_key={server.api_key}", None, {"Authorization": ""}
        )
        assert status == 401
    finally:
        server.stop()
    logged = server.log_text()
    assert "GET /v1/models?api_key=[redacted]&limit=[redacted]" in logged  # the access log is on
    assert QUERY_KEY not in logged
    assert str(server.api_key) not in logged


@pytest.mark.slow
def test_the_key_from_the_environment_is_required(
    upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    server = serve_stand_in(
        upstream,
        tmp_path,
        api_key=None,
        env={"AICHAT_API_KEY": "sk-from-the-environment"},
    )
    try:
        for stream in (False, True):  # a streamed request is no way around the key
            body = json.dumps({**json.loads(CHAT), "stream": stream}).encode()
            status, _, raw = server.raw("POST", "/v1/chat/completions", body)
            assert status == 401
            assert json.loads(raw)["error"]["code"] == "invalid_api_key"
        status, _, _ = server.raw(
            "POST",
            "/v1/chat/completions",
            CHAT.encode(),
            {"Authorization": "Bearer sk-from-the-environment"},
        )
        assert status == 200
    finally:
        server.stop()
    assert len(upstream.requests) == 1


def test_the_request_cannot_choose_where_the_cookies_go(
    open_server: Server, upstream: StandInService
) -> None:
    """``base_url``, ``cookies``, ``proxy`` and friends are the server's, never the client's."""
    for field, value in (
        ("base_url", "http://127.0.0.1:9"),
        ("cookies", {"session": "x"}),
        ("proxy", "http://127.0.0.1:9"),
        ("cookies_file", "/etc/passwd"),
        ("headers", {"X": "1"}),
    ):
        data = {**json.loads(CHAT), field: value}
        status, _, body = open_server.post_json("/v1/chat/completions", data)
        assert status == 400, field
        assert body["error"]["message"].startswith("Unrecognized request argument")
        assert body["error"]["param"] == field
    assert upstream.requests == []


def test_it_binds_loopback_by_default(open_server: Server) -> None:
    """The listening socket of a server started without --host is 127.0.0.1's only."""
    listening = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.split(":")
        if state == "0A" and int(port, 16) == open_server.port:  # 0A: LISTEN
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian


# --- every error is OpenAI's JSON ------------------------------------------------------------


def _error_cases(server: Server) -> list[tuple[str, str, bytes | None, dict[str, str], int]]:
    big = json.dumps(
        {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "x" * 9000}]}
    )
    return [
        ("POST", "/v1/chat/completions", b"{", {}, 400),
        ("POST", "/v1/chat/completions", CHAT.encode(), {"Authorization": "Bearer wrong"}, 401),
        ("POST", "/v1/chat/completions", CHAT.encode(), {"Origin": EVIL}, 403),
        ("GET", "/v1/models", None, {"Host": "evil.example"}, 403),
        ("GET", "/nothing/here", None, {}, 404),
        ("GET", "/v1/models/no-such-model", None, {}, 404),
        ("GET", "/v1/chat/completions", None, {}, 405),
        ("DELETE", "/v1/models", None, {}, 405),
        ("POST", "/v1/chat/completions", big.encode(), {}, 413),
        ("POST", "/v1/chat/completions", CHAT.encode(), {"Content-Type": "text/plain"}, 415),
        ("POST", "/v1/chat/completions", CHAT.encode(), {"X-Upstream": "429"}, 429),
        ("POST", "/v1/chat/completions", CHAT.encode(), {"X-Upstream": "500"}, 502),
        ("POST", "/v1/chat/completions", CHAT.encode(), {"X-Upstream": "cloudflare"}, 503),
        ("POST", "/v1/chat/completions", CHAT.encode(), {"X-Upstream": "hang"}, 504),
    ]


@pytest.mark.slow
def test_every_error_body_is_openai_json(
    upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    server = serve_stand_in(
        upstream,
        tmp_path,
        "--max-retries",
        "0",
        "--timeout",
        "1",
        "--max-body-bytes",
        "4096",
    )
    faults = {
        "429": Reply.status(429, retry_after=2),
        "500": Reply.status(500, body=b"upstream exploded"),
        "cloudflare": Reply.cloudflare(403),
        "hang": Reply.hang(),
    }
    try:
        for method, path, body, headers, status in _error_cases(server):
            fault = headers.pop("X-Upstream", None)
            if fault is not None:
                upstream.push(faults[fault])
            got, seen, raw = server.raw(method, path, body, headers)
            case = f"{method} {path} {headers} {fault}"
            assert got == status, case
            assert seen["content-type"] == "application/json", case
            error = json.loads(raw)["error"]
            assert set(error) == {"message", "type", "param", "code"}, case
            assert isinstance(error["message"], str), case
            assert error["message"], case
            assert isinstance(error["type"], str), case
            assert seen["x-should-retry"] in ("true", "false"), case
            assert SECRET_COOKIE not in raw.decode()
    finally:
        server.stop()


def test_the_sdk_raises_its_typed_errors(open_server: Server) -> None:
    client = openai.OpenAI(base_url=open_server.base_url, api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("nobody/none")
    assert caught.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        client.get("/nothing", cast_to=object)


# --- the server's own configuration is checked when it starts --------------------------------


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("--proxy", "ftp://proxy.example:21"), "proxy"),
        (("--cookies-file", "/nonexistent/cookies.txt"), "does not exist"),
        (("--timeout", "0"), "timeout"),
        (("--cors-origin", "evil.example/path"), "is not an origin"),
        (("--allowed-host", "a/b"), "is not a host name"),
        (("--workers", "0"), "--workers"),
        (("--graceful-timeout", "-1"), "graceful"),
        (("--port", "70000"), "--port"),
    ],
    ids=["proxy", "cookies-file", "timeout", "origin", "host", "workers", "graceful", "port"],
)
@pytest.mark.slow
def test_a_bad_configuration_stops_the_server_at_start(
    args: tuple[str, ...], phrase: str, home: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aichat_provider", "serve", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("aichat: error: the server cannot start: ")
    assert phrase in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # it never said it was serving


def test_head_answers_as_get_does_without_a_body(open_server: Server) -> None:
    """Load balancers and uptime checks ask ``HEAD /health``: the headers GET would give, no
    body; a route that takes only POST still refuses it."""
    for path in ("/health", "/v1/models", "/"):
        got, got_headers, got_body = open_server.raw("GET", path)
        status, headers, body = open_server.raw("HEAD", path)
        assert (status, body) == (got, b""), path
        assert headers["content-type"] == got_headers["content-type"], path
        assert headers["content-length"] == str(len(got_body)), path
    status, headers, _ = open_server.raw("HEAD", "/v1/chat/completions")
    assert status == 405
    assert headers["allow"] == "POST, OPTIONS"
