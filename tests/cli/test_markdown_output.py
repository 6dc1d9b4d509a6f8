"""Answers as Markdown on a terminal (rich, from the cli extra); exactly the text anywhere else,
with ``--raw``, with ``NO_COLOR`` or without rich. Nothing from the service reaches the terminal
raw either way."""

from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path

import pexpect

from aichat_provider.testing import Reply, StandInService
from support.cli import AICHAT, cookies_file
from support.secrets import subprocess_env

ANSWER = "# Plan\n\n- **first** step\n- second step\n\n```python\nprint('hi')\n```\n\nDone."
HOSTILE = "Title\x1b]52;c;cHduZWQ=\x07 and\x1b]0;pwned\x07 clear\x1b[2J c1\x9b31m end"


def on_terminal(
    home: Path, tmp_path: Path, service: StandInService, *args: str, env: dict[str, str]
) -> bytes:
    child = pexpect.spawn(
        AICHAT[0],
        [*args, "--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))],
        env=env,
        timeout=20,
        dimensions=(40, 120),
    )
    received = io.BytesIO()
    child.logfile_read = received
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, received.getvalue()
    return received.getvalue()


def colour_env(home: Path) -> dict[str, str]:
    env = {**subprocess_env(home), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    return env


def test_markdown_is_rendered_on_a_terminal(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.answer(ANSWER))
    shown = on_terminal(home, tmp_path, service, "plan", env=colour_env(home)).decode()
    assert "# Plan" not in shown  # a heading, not its markup
    assert "**first**" not in shown
    assert "• " in shown  # list bullets
    assert "print('hi')" in re.sub(r"\x1b\[[0-9;]*m", "", shown)
    assert "\x1b[" in shown  # styled


def test_raw_no_color_and_a_pipe_get_the_text(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.answer(ANSWER))
    env = colour_env(home)
    raw = on_terminal(home, tmp_path, service, "plan", "--raw", env=env)
    # after the spinner (on stderr), the answer as it came
    assert raw.decode().endswith("\r" + " " * 24 + "\r" + ANSWER.replace("\n", "\r\n") + "\r\n")
    plain = on_terminal(home, tmp_path, service, "plan", env={**env, "NO_COLOR": "1"})
    assert plain.endswith(raw.partition(b"\r" + b" " * 24 + b"\r")[2])
    piped = subprocess.run(
        [
            *AICHAT,
            "plan",
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert piped.stdout == ANSWER.encode() + b"\n"


def test_without_rich_a_terminal_gets_the_text(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    shadow = tmp_path / "shadow" / "rich"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named rich')\n")
    env = colour_env(home)
    env["PYTHONPATH"] = os.pathsep.join([str(shadow.parent), env.get("PYTHONPATH", "")])
    service.set_default(Reply.answer(ANSWER))
    shown = on_terminal(home, tmp_path, service, "plan", env=env)
    assert shown.decode().endswith("\r" + " " * 24 + "\r" + ANSWER.replace("\n", "\r\n") + "\r\n")


def test_rendered_answers_show_the_services_controls(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.answer(HOSTILE))
    shown = on_terminal(home, tmp_path, service, "hi", env=colour_env(home))
    for obeyed in (b"\x1b]52", b"\x1b]0;", b"\x1b[2J", b"\x07", "\x9b".encode(), b"\x9b"):
        assert obeyed not in shown
    text = shown.decode()
    assert "^[]52;c;cHduZWQ=^G" in text
    assert "^[[2J" in text
    assert "M-^[31m" in text
