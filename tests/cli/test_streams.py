"""The command line with closed or broken standard streams, and answers that cannot be printed.

Regression tests for issue 12, items 8 and 3: with stdin closed the command ended in an
AttributeError traceback, a reader that went away (``| head -c1``) in a BrokenPipeError
traceback, a closed stdout silently dropped the answer with exit code 0, and an answer holding
half an emoji broke the printing and the chat. Each must end with one line and its exit code.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from aichat_provider.testing import RecordedRequest, Reply, StandInService
from support.cli import AICHAT, cookies_file, spawn_chat
from support.secrets import SECRET_COOKIE, subprocess_env


def aichat(
    service: StandInService,
    tmp_path: Path,
    home: Path,
    *args: str,
    preexec: Callable[[], None] | None = None,
    stdout: int = subprocess.PIPE,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *AICHAT,
            *args,
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(home),
        timeout=60,
        preexec_fn=preexec,  # closes a standard stream in the child only
    )


def close_stdin() -> None:
    os.close(0)


def close_stdout() -> None:
    os.close(1)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("aichat: error: ")
    return lines[0]


def test_no_prompt_and_stdin_closed(tmp_path: Path, home: Path, service: StandInService) -> None:
    result = aichat(service, tmp_path, home, preexec=close_stdin)
    assert result.returncode == 2
    assert "standard input" in one_error_line(result.stderr)
    assert service.requests == []


def test_dash_and_stdin_closed(tmp_path: Path, home: Path, service: StandInService) -> None:
    result = aichat(service, tmp_path, home, "-", preexec=close_stdin)
    assert result.returncode == 2
    assert "standard input" in one_error_line(result.stderr)


def test_stdin_that_is_not_utf8(tmp_path: Path, home: Path, service: StandInService) -> None:
    result = subprocess.run(
        [
            *AICHAT,
            "-",
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        input=b"caf\xe9\n",
        capture_output=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.returncode == 2
    assert "UTF-8" in one_error_line(result.stderr.decode())


def test_a_reader_that_went_away_is_one_line_and_exit_1(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the answer is written: EPIPE
    try:
        result = aichat(service, tmp_path, home, "Hi", stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert "broken pipe" in one_error_line(result.stderr)
    assert len(service.requests) == 1


def test_head_c1_on_a_long_answer(tmp_path: Path, home: Path, service: StandInService) -> None:
    """The shell form of the same fault: ``aichat ... | head -c1`` with an answer longer than
    the pipe buffer, so the write is still going when ``head`` exits."""
    service.answer = lambda request: "x" * 1_000_000
    command = (
        f"{AICHAT[0]} Hi --base-url {service.base_url} --cookies-file "
        f'{cookies_file(tmp_path)} | head -c1; echo " status=${{PIPESTATUS[0]}}"'
    )
    result = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.stdout == "x status=1\n"
    assert "broken pipe" in one_error_line(result.stderr)


@pytest.mark.slow
def test_stdout_closed_is_not_a_silent_success(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = aichat(service, tmp_path, home, "Hi", preexec=close_stdout)
    assert result.returncode == 1
    assert "standard output is closed" in one_error_line(result.stderr)


def test_json_output_to_a_closed_stdout(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = aichat(service, tmp_path, home, "Hi", "--json", preexec=close_stdout)
    assert result.returncode == 1
    one_error_line(result.stderr)


def test_an_answer_with_half_an_emoji_is_printed(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.push(
        Reply.raw(b'{"response": true, "message": "ok \\ud83d"}', content_type="application/json")
    )
    result = aichat(service, tmp_path, home, "Hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok \ufffd\n"
    assert result.stderr == ""


@pytest.mark.slow
def test_the_chat_goes_on_after_an_answer_with_half_an_emoji(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    prompts: list[str] = []

    def answer(request: RecordedRequest) -> str:
        prompts.append(request.prompt or "")
        return f"answer {len(prompts)}"

    service.answer = answer
    service.push(
        Reply.raw(b'{"response": true, "message": "cut \\ud83d"}', content_type="application/json")
    )
    child = spawn_chat(home, tmp_path, service)
    child.expect("you> ")
    child.sendline("first")
    child.expect("cut \ufffd")
    child.expect("you> ")
    child.sendline("second")
    child.expect("answer 1")
    child.expect("you> ")  # Ctrl-D only once the prompt reads it (sent earlier, it can be lost)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert prompts == ["User: first\nAssistant: cut \ufffd\nUser: second\nAssistant:"]
    assert SECRET_COOKIE not in (child.before or "")
