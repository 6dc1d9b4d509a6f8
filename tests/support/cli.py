"""Running the ``aichat`` command the way a shell user does: as a child process or on a terminal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pexpect

from aichat_provider.testing import StandInService

from .secrets import SECRET_COOKIE, subprocess_env

SCRIPT = Path(sys.executable).with_name("aichat")
#: The two ways in, which must behave the same.
COMMANDS = {"console-script": [str(SCRIPT)], "python-m": [sys.executable, "-m", "aichat_provider"]}
AICHAT = COMMANDS["console-script"]


def run(
    command: list[str],
    *args: str,
    home: Path,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env or subprocess_env(home),
        timeout=60,
    )


def log_file(home: Path) -> Path:
    """Where ``aichat`` keeps its log under a test HOME (the XDG data folder's default)."""
    return home / ".local" / "share" / "aichat-provider" / "logs.db"


def record_exchange(cid: str, prompt: str, *, path: Path, system: str | None = None) -> None:
    """One exchange of conversation ``cid`` written to the log at ``path``, as ``aichat`` does."""
    from aichat_provider.cli import _logs

    _logs.record(
        cid,
        model="gpt-test",
        system=system,
        prompt=prompt,
        answer=f"answer to {prompt}",
        base_url="http://127.0.0.1:9",
        elapsed=0.1,
        attempts=1,
        path=path,
    )


def cookies_file(tmp_path: Path) -> Path:
    """A JSON cookies file holding one secret session cookie for 127.0.0.1."""
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps([{"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1"}])
    )
    return path


def run_against(
    command: list[str],
    service: StandInService,
    tmp_path: Path,
    home: Path,
    *args: str,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``command *args`` pointed at the stand-in, with a cookies file for it."""
    return run(
        command,
        *args,
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        home=home,
        stdin=stdin,
    )


def run_doctor(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run(AICHAT, "doctor", *args, home=home, env=env)


def _interrupt_as_on_a_terminal() -> None:
    """Ctrl-C reaches the child as it would from a terminal: a suite started in the background
    (``nohup``, ``cmd &``) inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(home: Path, *args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    """``aichat *args`` on a pseudo-terminal."""
    return pexpect.spawn(
        AICHAT[0],
        list(args),
        env=env or subprocess_env(home),
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 200),
        preexec_fn=_interrupt_as_on_a_terminal,
    )


def spawn_chat(home: Path, tmp_path: Path, service: StandInService, *args: str) -> pexpect.spawn:
    """``aichat`` on a terminal, pointed at the stand-in with a cookies file."""
    return spawn(
        home, *args, "--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))
    )
