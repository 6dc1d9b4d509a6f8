"""The log and the config file in the details a user relies on: which conversation ``-c`` and
``--cid`` go on with, which address the log names, and no password in either's output."""

from __future__ import annotations

import json
from pathlib import Path

from aichat_provider.cli import _logs
from aichat_provider.testing import StandInService
from support.cli import AICHAT, cookies_file, log_file, run
from support.secrets import PROXY_PASSWORD, subprocess_env


def aichat(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run(AICHAT, *args, home=home, stdin="", env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_continue_goes_on_with_the_latest_conversation_not_the_first(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    base = ["--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))]
    aichat(home, "first topic", *base)
    aichat(home, "second topic", *base)
    aichat(home, "-c", "more", *base)
    assert service.requests[-1].prompt.startswith("User: second topic\n")
    assert [c["exchanges"] for c in json.loads(aichat(home, "logs", "--json"))] == [1, 2]


def test_a_cid_that_starts_two_conversations_is_refused_before_any_request(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    for cid in ("abc111111111", "abc222222222"):
        _logs.record(
            cid,
            model="m",
            system=None,
            prompt=f"topic {cid}",
            answer="ok",
            base_url=service.base_url,
            elapsed=0.1,
            attempts=1,
            path=log_file(home),
        )
    base = ["--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))]
    result = run(AICHAT, "--cid", "abc", "hi", *base, home=home, stdin="")
    assert result.returncode == 2
    assert "more than one conversation starts with 'abc'; give more of its id" in result.stderr
    assert service.requests == []
    aichat(home, "--cid", "abc2", "hi", *base)
    assert service.requests[-1].prompt.startswith("User: topic abc222222222\n")


def test_the_log_names_the_address_of_the_flag_not_of_the_environment(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    env = {**subprocess_env(home), "AICHAT_BASE_URL": "http://127.0.0.1:9"}  # nothing there
    base = ["--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))]
    aichat(home, "hi", *base, env=env)
    exchange = json.loads(aichat(home, "logs", "-q", "hi", "--json"))[0]
    assert exchange["base_url"] == service.base_url


def test_config_get_never_shows_the_proxy_password(home: Path) -> None:
    proxy = f"http://user:{PROXY_PASSWORD}@127.0.0.1:3128"
    aichat(home, "config", "set", "proxy", proxy)
    env = subprocess_env(home)
    shown = [
        aichat(home, "config", "get", "proxy"),
        aichat(home, "config", "get"),
        aichat(home, "config", "get", "--source"),
        aichat(home, "config", "get", "proxy", env={**env, "AICHAT_PROXY": proxy}),
        aichat(home, "config", "get", "--source", env={**env, "AICHAT_PROXY": proxy}),
    ]
    for text in shown:
        assert "127.0.0.1:3128" in text
        assert PROXY_PASSWORD not in text
