"""A ``--proxy`` URL curl would refuse stops ``aichat`` before it connects or serves anything."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider.testing import StandInService
from support.cli import AICHAT, run_against
from support.secrets import subprocess_env

#: The password of the report: '@' unencoded, so curl takes ``ss@127.0.0.1`` for the host.
PASSWORD = "p@ss"
#: Bits of the password a careless message could show (the host is shown, so not "@127").
PASSWORD_PARTS = ("p@ss", "ss@", ":p@", "user:p", "%40ss")


@pytest.fixture
def idle_proxy() -> Iterator[int]:
    """The port of a listening socket in the proxy's place, checked untouched afterwards."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        yield listener.getsockname()[1]
        with pytest.raises(BlockingIOError):  # nothing waits in the backlog
            listener.accept()


def assert_refused_without_the_password(stderr: str, port: int) -> None:
    lines = stderr.splitlines()
    assert 1 <= len(lines) <= 2, stderr
    assert f"socks5h://[redacted]@127.0.0.1:{port}" in stderr
    assert "percent-encode" in stderr
    assert "'@' as %40" in stderr
    assert "Traceback" not in stderr
    for part in PASSWORD_PARTS:
        assert part not in stderr


def test_serve_exits_2_on_a_proxy_password_with_an_unencoded_at(
    idle_proxy: int, home: Path
) -> None:
    proxy = f"socks5h://user:{PASSWORD}@127.0.0.1:{idle_proxy}"
    with socket.create_server(("127.0.0.1", 0)) as spare:
        port = spare.getsockname()[1]  # a free port to serve on, released before the run
    # Before the fix the server started and ran until this deadline killed it.
    done = subprocess.run(
        [sys.executable, "-m", "aichat_provider", "serve", "--port", str(port), "--proxy", proxy],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("aichat: error: the server cannot start: proxy ")
    assert_refused_without_the_password(done.stderr, idle_proxy)
    assert done.stdout == ""  # "aichat serve: ... at http://..." comes just before listening
    assert "Uvicorn running" not in done.stderr


def test_a_one_shot_question_exits_2_on_the_same_proxy(
    idle_proxy: int, tmp_path: Path, home: Path, service: StandInService
) -> None:
    proxy = f"socks5h://user:{PASSWORD}@127.0.0.1:{idle_proxy}"
    result = run_against(AICHAT, service, tmp_path, home, "Hi", "--proxy", proxy)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert_refused_without_the_password(result.stderr, idle_proxy)
    assert service.requests == []
