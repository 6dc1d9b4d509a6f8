"""Flag values the command must pass on exactly as given: a zero, repeated headers, '-' for
standard input. Run as a shell user runs it, against the stand-in."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from aichat_provider.testing import Reply, StandInService
from support.cli import AICHAT, cookies_file, run_against
from support.secrets import subprocess_env


def test_zero_is_a_value_not_an_absent_flag(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run_against(
        AICHAT,
        service,
        tmp_path,
        home,
        "Hi",
        "--temperature",
        "0",
        "--top-p",
        "0",
        "--presence-penalty",
        "0",
        "--max-retries",
        "0",
    )
    assert result.returncode == 0, result.stderr
    sent = service.requests[0].json
    assert (sent["temperature"], sent["top_p"], sent["presence_penalty"]) == (0, 0, 0)


def test_each_header_flag_is_sent(tmp_path: Path, home: Path, service: StandInService) -> None:
    result = run_against(
        AICHAT,
        service,
        tmp_path,
        home,
        "Hi",
        "--header",
        "X-Trace: abc",
        "--header",
        "Accept-Language: de-DE",
    )
    assert result.returncode == 0, result.stderr
    request = service.requests[0]
    assert request.header("x-trace") == "abc"
    assert request.header("accept-language") == "de-DE"


def test_a_dash_reads_the_prompt_from_standard_input(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run_against(AICHAT, service, tmp_path, home, "-", stdin="from the pipe\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: from the pipe\n"
    assert service.requests[0].prompt == "from the pipe"


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply.status(401), 3),
        (Reply.cloudflare(), 4),
        (Reply.status(429, retry_after=300), 4),
        (Reply.hang(), 5),
    ],
    ids=["rejected-cookies", "cloudflare", "rate-limit", "timeout"],
)
def test_each_kind_of_failure_has_its_exit_code(
    reply: Reply, code: int, tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(reply)
    result = run_against(AICHAT, service, tmp_path, home, "Hi", "--timeout", "1")
    assert result.returncode == code, result.stderr
    assert result.stdout == ""


class TakesNothing(io.RawIOBase):
    """A byte stream whose writes take no byte (a non-blocking pipe that is full)."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        return 0


class Stdout(io.TextIOBase):
    """Standard output over :class:`TakesNothing`, as ``sys.stdout`` is over its buffer."""

    encoding = "utf-8"

    def __init__(self) -> None:
        self.buffer = TakesNothing()


def test_an_answer_that_could_not_be_written_is_not_taken_for_success(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aichat_provider.cli._common import OutputClosedError, write_out

    monkeypatch.setattr(sys, "stdout", Stdout())
    with pytest.raises(OutputClosedError, match="nothing could be written"):
        write_out("the answer")


def test_piped_standard_input_is_one_prompt_not_a_chat(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    """No prompt and a pipe: the whole input is one question (a terminal would start the
    chat, which would send each line as a turn)."""
    result = run_against(AICHAT, service, tmp_path, home, stdin="line one\nline two\n")
    assert result.returncode == 0, result.stderr
    assert [request.prompt for request in service.requests] == ["line one\nline two"]


def test_standard_input_that_is_not_utf8_is_a_usage_error(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = subprocess.run(
        [*AICHAT, "--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))],
        input=b"caf\xe9\n",
        capture_output=True,
        env={**subprocess_env(home), "PYTHONIOENCODING": "utf-8"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert b"standard input is not UTF-8 text" in result.stderr
    assert b"Traceback" not in result.stderr
    assert service.requests == []
