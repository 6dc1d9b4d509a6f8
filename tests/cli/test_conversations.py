"""Conversations that outlive the process: every exchange logged in SQLite, listed, searched,
shown, and continued with ``-c`` or ``--cid`` by a new ``aichat`` on a terminal."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from aichat_provider.cli import _logs
from aichat_provider.testing import StandInService
from support.cli import AICHAT, cookies_file, log_file, run, spawn
from support.secrets import PROXY_PASSWORD, SECRET_COOKIE, subprocess_env


def env_of(home: Path) -> dict[str, str]:
    return {**subprocess_env(home), "NO_COLOR": "1"}


def ask_on_terminal(home: Path, tmp_path: Path, service: StandInService, *args: str) -> str:
    """``aichat *args`` on a pseudo-terminal against the stand-in; what the terminal showed."""
    child = spawn(
        home,
        *args,
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        env=env_of(home),
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return str(child.before).replace("\r\n", "\n")


def aichat(home: Path, *args: str) -> str:
    result = run(AICHAT, *args, home=home, env=env_of(home))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_conversation_is_logged_listed_found_and_continued(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    first = ask_on_terminal(home, tmp_path, service, "-s", "Be brief", "tell", "me", "a", "joke")
    assert "echo: System: Be brief" in first
    listed = aichat(home, "logs")
    cid, _, rest = listed.strip().partition("  ")
    assert len(cid) == 12
    assert "1 turn" in rest
    assert "tell me a joke" in rest

    # a new process goes on with it: the earlier turn and its system message are sent again
    ask_on_terminal(home, tmp_path, service, "-c", "and", "another")
    assert service.requests[-1].prompt == (
        "System: Be brief\nUser: tell me a joke\n"
        "Assistant: echo: System: Be brief\nUser: tell me a joke\nAssistant:\n"
        "User: and another\nAssistant:"
    )
    assert aichat(home, "logs").count("\n") == 1  # still one conversation, now of two turns
    assert "2 turns" in aichat(home, "logs")

    found = json.loads(aichat(home, "logs", "-q", "ANOTHER", "--json"))
    assert [exchange["prompt"] for exchange in found] == ["and another"]
    assert found[0]["conversation_id"] == cid
    assert found[0]["system"] == "Be brief"

    shown = json.loads(aichat(home, "logs", "show", cid[:5], "--json"))
    assert [e["prompt"] for e in shown["exchanges"]] == ["tell me a joke", "and another"]
    assert "you> and another" in aichat(home, "logs", "show", cid)


def test_cid_picks_an_older_conversation_and_chat_continue_resumes_it(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    ask_on_terminal(home, tmp_path, service, "first topic")
    ask_on_terminal(home, tmp_path, service, "second topic")
    conversations = json.loads(aichat(home, "logs", "--json"))
    assert [c["title"] for c in conversations] == ["first topic", "second topic"]
    older = conversations[0]["id"]

    ask_on_terminal(home, tmp_path, service, "--cid", older, "more on it")
    assert service.requests[-1].prompt.startswith("User: first topic\n")

    child = spawn(
        home,
        "chat",
        "--continue",
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        env=env_of(home),
    )
    child.expect(f"Going on with conversation {older}")
    child.expect("you> ")
    child.sendline("last one")
    child.expect("you> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert service.requests[-1].prompt.startswith("User: first topic\n")
    assert "User: more on it\n" in service.requests[-1].prompt
    titles = [c["exchanges"] for c in json.loads(aichat(home, "logs", "--json"))]
    assert titles == [1, 3]  # the chat's turn went into the continued conversation


def test_an_unknown_cid_is_a_usage_error_before_any_request(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run(
        AICHAT,
        "--cid",
        "abc123",
        "hi",
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        home=home,
    )
    assert result.returncode == 2
    assert "no conversation 'abc123' in the log; 'aichat logs' lists them" in result.stderr
    assert service.requests == []


def test_the_log_holds_no_secret_and_is_private(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run(
        AICHAT,
        "hi",
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "--header",
        f"X-Api-Key: {PROXY_PASSWORD}",
        home=home,
    )
    assert result.returncode == 0, result.stderr
    assert service.requests[0].cookies == {"session": SECRET_COOKIE}
    path = log_file(home)
    data = b"".join(p.read_bytes() for p in path.parent.glob("logs.db*"))
    assert b"echo: hi" in data  # the exchange is there...
    assert SECRET_COOKIE.encode() not in data  # ...and no cookie or header value
    assert PROXY_PASSWORD.encode() not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o022 == 0


def test_no_log_flag_and_config_switch(tmp_path: Path, home: Path, service: StandInService) -> None:
    base = ["--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))]
    assert run(AICHAT, "hi", "--no-log", *base, home=home).returncode == 0
    assert not log_file(home).exists()
    assert aichat(home, "logs") == "no conversations logged yet\n"
    aichat(home, "config", "set", "log", "false")
    result = run(AICHAT, "hi", "--json", *base, home=home)
    assert json.loads(result.stdout)["conversation_id"] is None
    assert not log_file(home).exists()
    aichat(home, "config", "set", "log", "true")
    assert run(AICHAT, "hi", *base, home=home).returncode == 0
    assert "hi" in aichat(home, "logs")


def test_an_old_log_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "logs.db"
    path.parent.mkdir(mode=0o700)
    with sqlite3.connect(path) as connection:  # a log from before the schema had a version
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 0
    _logs.record(
        "0123456789ab",
        model="gpt-3.5-turbo",
        system=None,
        prompt="p",
        answer="a",
        base_url="https://user:pw@chat.example",
        elapsed=0.1,
        attempts=1,
        path=path,
    )
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == _logs.SCHEMA_VERSION
        assert connection.execute("SELECT base_url FROM exchanges").fetchone()[0] == (
            "https://[redacted]@chat.example"
        )
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {_logs.SCHEMA_VERSION + 1}")
    with pytest.raises(_logs.errors.InvalidRequestError, match="written by a newer aichat"):
        _logs.conversations(5, path=path)


AUDIT = """
import asyncio, sys, threading
where = []

def hook(event, args):
    if event == "sqlite3.connect":
        try:
            asyncio.get_running_loop()
            where.append("event loop")
        except RuntimeError:
            where.append("no loop")

sys.addaudithook(hook)
from aichat_provider.cli import main
codes = [main([*sys.argv[1:], "first"]), main(["-c", *sys.argv[1:], "second"])]
print(codes, where)
"""


def test_the_log_is_never_touched_on_the_event_loop(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    """SQLite blocks: each connection (reading the conversation, writing the exchange) is opened
    with no event loop running in the thread."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            AUDIT,
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == (
        "[0, 0] ['no loop', 'no loop', 'no loop', 'no loop']"
    ), result.stdout + result.stderr
