"""Cookies files that are not regular files, or are huge: refused at once, never read for ever.

Regression tests for issue 12, item 5: a FIFO blocked a worker thread for ever (``asyncio.run``
never returned, the CLI needed SIGKILL) and ``/dev/zero`` was read until memory ran out. Each
case runs in a child process with a hard deadline, so a hang fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aichat_provider.testing import StandInService
from support.cli import AICHAT, run, run_doctor
from support.secrets import subprocess_env

#: A correct program answers in well under a second; the child is killed after this.
DEADLINE = 20


def call_in_a_child(cookies_file: str, service: StandInService, home: Path) -> str:
    """Call the provider with ``cookies_file`` in a fresh interpreter; return what it printed."""
    code = textwrap.dedent(
        f"""
        import asyncio
        from aichat_provider import Aichat, errors
        async def main():
            try:
                await Aichat.create_async(
                    "", [{{"role": "user", "content": "Hi"}}], cookies_file={cookies_file!r},
                    base_url={service.base_url!r}, browser=[], timeout=5, max_retries=0)
            except errors.ProviderError as error:
                print(type(error).__name__, error)
        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=DEADLINE,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.fifo"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_without_waiting_for_a_writer(
    fifo: Path, service: StandInService, home: Path
) -> None:
    out = call_in_a_child(str(fifo), service, home)
    assert out.startswith("InvalidRequestError")
    assert "not a regular file" in out
    assert service.requests == []


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_without_reading_it(service: StandInService, home: Path) -> None:
    out = call_in_a_child("/dev/zero", service, home)
    assert out.startswith("InvalidRequestError")
    assert "not a regular file" in out


def test_a_directory_is_refused(tmp_path: Path, service: StandInService, home: Path) -> None:
    out = call_in_a_child(str(tmp_path), service, home)
    assert out.startswith("InvalidRequestError")
    assert "is a directory" in out


def test_a_huge_file_is_refused_after_reading_at_most_the_limit(
    tmp_path: Path, service: StandInService, home: Path
) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as file:
        file.truncate(2 * 1024**3)  # 2 GiB, sparse: reading it whole would take the memory
    out = call_in_a_child(str(path), service, home)
    assert out.startswith("InvalidRequestError")
    assert "over 10 MiB" in out


def test_the_command_line_refuses_a_fifo_with_exit_code_2(
    fifo: Path, service: StandInService, home: Path
) -> None:
    result = run(
        AICHAT, "Hi", "--base-url", service.base_url, "--cookies-file", str(fifo), home=home
    )
    assert result.returncode == 2
    assert "not a regular file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
@pytest.mark.slow
def test_doctor_reports_a_cookies_file_that_is_not_a_file(
    kind: str, fifo: Path, service: StandInService, home: Path
) -> None:
    target = str(fifo) if kind == "fifo" else kind
    result = run_doctor(
        home, "--base-url", service.base_url, "--cookies-file", target, "--browser", "firefox"
    )
    assert "[FAIL] cookies file:" in result.stdout
    assert "not a regular file" in result.stdout
    assert result.returncode == 3
