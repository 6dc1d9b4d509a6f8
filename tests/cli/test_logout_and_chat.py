"""``aichat logout`` and the chat's smaller paths."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pexpect
import pytest

from aichat_provider.cookies._store import browser_profile_dir, save_login, store_path
from aichat_provider.testing import Reply, StandInService
from support.cli import AICHAT, cookies_file, run, spawn_chat
from support.secrets import subprocess_env


def saved(host: str) -> None:
    save_login(
        host=host,
        base_url=f"http://{host}",
        cookies=[{"name": "s", "value": "v", "domain": host, "expires": 4e9}],
        user_agent=None,
        browser=None,
    )


@pytest.mark.slow
def test_logout_of_every_site(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(home))
    saved("a.example")
    saved("b.example")
    browser_profile_dir("b.example").mkdir(parents=True)
    result = run(AICHAT, "logout", "--all", home=home)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "a.example: forgot its cookies",
        "b.example: forgot its cookies and browser profile",
    ]
    assert not store_path("a.example").exists()
    again = run(AICHAT, "logout", "--all", home=home)
    assert again.stdout == "nothing saved\n"
    none = run(AICHAT, "logout", "--base-url", "http://c.example", home=home)
    assert none.stdout == "c.example: nothing saved\n"


def test_logout_with_a_bad_url(home: Path) -> None:
    result = run(AICHAT, "logout", "--base-url", "ftp://x", home=home)
    assert result.returncode == 2
    assert "--base-url" in result.stderr


@pytest.mark.slow
def test_the_chat_commands_and_blank_lines(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    child = spawn_chat(home, tmp_path, service, "--system", "Be brief.")
    child.expect("you> ")
    child.sendline("")
    child.expect("you> ")
    child.sendline("/nonsense")
    child.expect("unknown command")
    child.expect("you> ")
    child.sendline("/system")
    child.expect("system message cleared")
    child.expect("you> ")
    child.sendline("hello")
    child.expect("echo: hello")
    child.expect("you> ")
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert service.requests[0].prompt == "hello"  # the system message was cleared


def test_a_line_that_is_not_utf8_is_typed_again(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    """Fed from a pipe in another encoding (a terminal's line editor would drop the byte)."""
    result = subprocess.run(
        [
            *AICHAT,
            "chat",
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        input=b"caf\xe9\nfine\n",
        capture_output=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.returncode == 0
    assert b"that line is not UTF-8 text; type it again." in result.stderr
    assert result.stdout == b"echo: fine\n"
    assert [r.prompt for r in service.requests] == ["fine"]


def test_verbose_failures_keep_their_details_on_stderr(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.status(400, body=b"bad request"))
    result = run(
        AICHAT,
        "hi",
        "-v",
        "--max-retries",
        "0",
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        home=home,
    )
    assert result.returncode == 1
    assert "DEBUG aichat_provider: details" in result.stderr
    assert "ResponseStatusError" in result.stderr
