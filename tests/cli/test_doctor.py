"""``aichat doctor`` line by line: every check's verdict, driven by a real fault."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider.cookies._store import save_login, store_path
from aichat_provider.testing import Reply, StandInService
from support.cli import cookies_file, run_doctor
from support.proxy import ConnectProxy
from support.secrets import SECRET_COOKIE


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_an_unresolvable_host(home: Path, tmp_path: Path) -> None:
    host = "a" * 64 + ".example"  # refused by the resolver without a query leaving the machine
    result = run_doctor(home, "--base-url", f"https://{host}", "--browser", "firefox")
    assert f"[FAIL] DNS: {host} does not resolve" in result.stdout
    assert "[ ok ] connection" not in result.stdout
    assert result.returncode == 3  # and no cookies


def test_nothing_listening(home: Path, tmp_path: Path, closed_port: int) -> None:
    result = run_doctor(
        home,
        "--base-url",
        f"http://127.0.0.1:{closed_port}",
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "--browser",
        "firefox",
    )
    assert "[ ok ] DNS: 127.0.0.1 resolves to 127.0.0.1" in result.stdout
    assert "[FAIL] connection: Could not talk to 127.0.0.1" in result.stdout
    assert "[FAIL] request: ProviderConnectionError" in result.stdout
    assert result.returncode == 5
    assert SECRET_COOKIE not in result.stdout + result.stderr


def test_a_cloudflare_check_in_front_of_the_site(
    home: Path, tmp_path: Path, service: StandInService
) -> None:
    service.set_default(Reply.cloudflare())
    result = run_doctor(
        home,
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "--browser",
        "firefox",
    )
    assert "[ ok ] connection" in result.stdout  # the pages: the check guards the API here
    assert "[FAIL] request: CloudflareError" in result.stdout
    assert result.returncode == 4


def test_the_connection_check_names_a_challenge_page(home: Path) -> None:
    from aichat_provider.testing import Challenge

    with StandInService(challenge=Challenge()) as service:
        result = run_doctor(home, "--base-url", service.base_url, "--browser", "firefox")
    assert "[warn] connection: 127.0.0.1 answers over plain HTTP, but with a Cloudflare" in (
        result.stdout
    )


def test_a_proxy_that_accepts_connections(
    home: Path, tmp_path: Path, tls_service: StandInService
) -> None:
    assert tls_service.ca_path is not None
    with ConnectProxy() as proxy:
        result = run_doctor(
            home,
            "--base-url",
            tls_service.base_url,
            "--ca-bundle",
            tls_service.ca_path,
            "--proxy",
            proxy.url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
            "--browser",
            "firefox",
        )
    assert f"[ ok ] proxy: http://127.0.0.1:{proxy.port} accepts connections" in result.stdout
    assert "DNS" not in result.stdout  # the proxy resolves the host
    assert "[ ok ] connection: 127.0.0.1 answers over TLS (HTTP 200)" in result.stdout
    assert result.returncode == 0, result.stdout


def test_a_cookies_file_with_nothing_for_the_host(
    home: Path, tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps([{"name": "s", "value": "v", "domain": "elsewhere.example"}]))
    result = run_doctor(
        home, "--base-url", service.base_url, "--cookies-file", str(path), "--browser", "firefox"
    )
    assert "[warn] cookies file:" in result.stdout
    assert (
        "it has cookies only for elsewhere.example, not for 127.0.0.1; check base_url"
        in result.stdout
    )
    assert result.returncode == 3
    # the three ways in that Getting started offers, 'aichat login' among them
    assert (
        "[FAIL] cookies: no cookies for 127.0.0.1 anywhere; log in to 127.0.0.1 in a browser"
        " here, run 'aichat login', or export cookies.txt and set AICHAT_COOKIES_FILE\n"
    ) in result.stdout


@pytest.mark.slow
def test_the_cookie_store_damaged_or_out_of_date(
    home: Path, service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(home))
    path = store_path("127.0.0.1")
    path.parent.mkdir(parents=True)
    path.write_text("{damaged")
    damaged = run_doctor(home, "--base-url", service.base_url, "--browser", "firefox")
    assert "[FAIL] cookie store: cookie store" in damaged.stdout
    assert "run 'aichat logout' and 'aichat login' again" in damaged.stdout
    assert "nothing saved" not in damaged.stdout  # the file is there, only unreadable
    save_login(
        host="127.0.0.1",
        base_url=service.base_url,
        cookies=[{"name": "session", "value": "v", "domain": "127.0.0.1", "expires": 4e9}],
        user_agent=None,
        browser="chromium",
    )
    document = json.loads(path.read_text())
    document["cookies"][0]["expires"] = 1_000.0
    path.write_text(json.dumps(document))
    stale = run_doctor(home, "--base-url", service.base_url, "--browser", "firefox")
    assert "[warn] cookie store: the saved cookies for 127.0.0.1 have expired" in stale.stdout
    assert "have expired (session); run 'aichat login' again (saved " in stale.stdout
    assert stale.stdout.count("again") == 1  # one next step, said once
