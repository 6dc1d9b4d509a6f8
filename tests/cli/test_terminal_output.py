"""Text from the service on a terminal: its control characters are shown, never obeyed.

An answer or a refusal holding ESC sequences used to reach the terminal raw: OSC 52 wrote the
clipboard, OSC 0 set the window title, CSI 2J cleared the screen, and an error message with
newlines took several lines. On a terminal every control byte but newline and tab is shown in
``cat -v`` notation (ESC as ``^[``, U+009B as ``M-^[``); through a pipe the answer stays exact.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pexpect
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aichat_provider.cli._common import one_line, shown
from aichat_provider.testing import Reply, StandInService
from support.cli import AICHAT, cookies_file
from support.secrets import subprocess_env

#: An answer with paragraphs, a tab, and every kind of control a terminal would obey.
HOSTILE_ANSWER = (
    "BEGIN first paragraph\n\n\tsecond paragraph"
    " clipboard\x1b]52;c;cHduZWQ=\x07"
    " title\x1b]0;pwned\x07"
    " clear\x1b[2J"
    " c1-csi\x9b31m"
    " real secret\rfake"
    " abc\x08\x08\x08xyz"
    " bell\x07 del\x7f nel\x85 nul\x00 crlf\r\nEND"
)
#: What a terminal must receive of it: the controls made visible, newlines and tab kept.
SHOWN_ANSWER = (
    "BEGIN first paragraph\n\n\tsecond paragraph"
    " clipboard^[]52;c;cHduZWQ=^G"
    " title^[]0;pwned^G"
    " clear^[[2J"
    " c1-csiM-^[31m"
    " real secret^Mfake"
    " abc^H^H^Hxyz"
    " bell^G del^? nelM-^E nul^@ crlf\r\nEND"
)
#: A refusal in the service's own words, spread over several lines.
HOSTILE_REFUSAL = "Refused.\n\nReason:\x1b]0;pwned\x07 quota\r\n\x1b[2J\x9b1m over\n"
SHOWN_REFUSAL = "Refused. Reason:^[]0;pwned^G quota ^[[2JM-^[1m over"
REFUSAL_LINE = f"aichat: error: The service reported a failure: {SHOWN_REFUSAL}"


def terminal_env(home: Path, tmp_path: Path) -> dict[str, str]:
    """No colours (our own ESC bytes) and no bracketed paste from readline, so that any ESC the
    terminal receives came from the service."""
    inputrc = tmp_path / "inputrc"
    inputrc.write_text("set enable-bracketed-paste off\n")
    return {**subprocess_env(home), "NO_COLOR": "1", "INPUTRC": str(inputrc), "TERM": "xterm"}


def on_terminal(
    home: Path, tmp_path: Path, service: StandInService, *args: str
) -> tuple[pexpect.spawn, io.BytesIO]:
    """``aichat *args`` on a pseudo-terminal, pointed at the stand-in; everything the terminal
    receives is kept, as bytes."""
    child = pexpect.spawn(
        AICHAT[0],
        [*args, "--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))],
        env=terminal_env(home, tmp_path),
        timeout=20,
        dimensions=(40, 200),
    )
    received = io.BytesIO()
    child.logfile_read = received
    return child, received


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus is not None
    return child.exitstatus


def assert_nothing_obeyable(received: bytes) -> str:
    """No ESC and no C1 control (raw or UTF-8 encoded) reached the terminal; the text."""
    assert b"\x1b" not in received
    text = received.decode("utf-8")
    assert not [c for c in text if "\x80" <= c <= "\x9f"], text
    assert [c for c in text if c < " " and c not in "\t\n\r"] == [], text
    return text


def as_typed(text: str) -> str:
    """``text`` as a terminal in its usual mode shows it: each newline arrives as CR LF."""
    return text.replace("\n", "\r\n")


@pytest.mark.slow
def test_an_answer_on_a_terminal_shows_its_controls(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.answer(HOSTILE_ANSWER))
    child, received = on_terminal(home, tmp_path, service, "hi")
    assert finish(child) == 0
    text = assert_nothing_obeyable(received.getvalue())
    assert as_typed(SHOWN_ANSWER) + "\r\n" in text


def test_a_piped_answer_is_exactly_what_the_service_sent(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.answer(HOSTILE_ANSWER))
    result = subprocess.run(
        [
            *AICHAT,
            "hi",
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        capture_output=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout == HOSTILE_ANSWER.encode() + b"\n"
    assert result.stderr == b""


def test_a_piped_chat_answer_is_exact_too(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.answer(HOSTILE_ANSWER))
    result = subprocess.run(
        [
            *AICHAT,
            "chat",
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        input=b"hi\n",
        capture_output=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout == HOSTILE_ANSWER.encode() + b"\n"


def test_json_on_a_terminal_escapes_the_controls_json_leaves_raw(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    """JSON escapes ESC itself, but not DEL or C1 controls; the object must still decode to
    the exact answer."""
    service.set_default(Reply.answer(HOSTILE_ANSWER))
    child, received = on_terminal(home, tmp_path, service, "--json", "hi")
    assert finish(child) == 0
    text = assert_nothing_obeyable(received.getvalue())
    assert "\x7f" not in text
    lines = [line.split("\r")[-1] for line in text.split("\r\n")]  # past the spinner's CRs
    line = next(line for line in lines if line.startswith("{"))
    assert json.loads(line)["answer"] == HOSTILE_ANSWER


def test_a_refusal_is_one_line_on_the_terminal(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.rejected(HOSTILE_REFUSAL))
    child, received = on_terminal(home, tmp_path, service, "hi")
    assert finish(child) == 1
    text = assert_nothing_obeyable(received.getvalue())
    lines = [line for line in text.split("\r\n") if line.strip(" \r")]
    assert lines[-1].split("\r")[-1] == REFUSAL_LINE  # after the spinner's own CR
    assert len(lines) == 1, lines


def test_a_refusal_is_one_line_through_a_pipe_as_well(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    """Errors are for people: they are made safe wherever stderr goes."""
    service.set_default(Reply.rejected(HOSTILE_REFUSAL))
    result = subprocess.run(
        [
            *AICHAT,
            "hi",
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies_file(tmp_path)),
        ],
        capture_output=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == REFUSAL_LINE + "\n"


def test_verbose_details_show_the_controls_too(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    """The traceback that ``--verbose`` logs carries the service's message as well."""
    service.set_default(Reply.rejected(HOSTILE_REFUSAL))
    child, received = on_terminal(home, tmp_path, service, "hi", "-v")
    assert finish(child) == 1
    text = assert_nothing_obeyable(received.getvalue())
    assert "DEBUG aichat_provider: details" in text
    assert "^[]0;pwned^G" in text


def test_the_chat_shows_controls_of_answers_and_refusals(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.push(Reply.answer(HOSTILE_ANSWER), Reply.rejected(HOSTILE_REFUSAL))
    child, received = on_terminal(home, tmp_path, service, "chat")
    child.expect("you> ")
    child.sendline("first")
    child.expect("END")
    child.expect("you> ")
    child.sendline("second")
    child.expect("over")
    child.expect("you> ")
    child.sendeof()
    assert finish(child) == 0
    text = assert_nothing_obeyable(received.getvalue())
    assert as_typed(SHOWN_ANSWER) + "\r\n" in text
    assert REFUSAL_LINE + "\r\n" in text
    # the conversation keeps the exact answer, whatever the terminal was shown
    assert service.requests[1].prompt is not None
    assert HOSTILE_ANSWER in service.requests[1].prompt


@pytest.mark.parametrize("stream", ["pipe", "terminal"])
@pytest.mark.slow
def test_doctor_shows_a_refusal_on_one_line(
    tmp_path: Path, home: Path, service: StandInService, stream: str
) -> None:
    service.set_default(Reply.rejected(HOSTILE_REFUSAL))
    if stream == "terminal":
        child, received = on_terminal(home, tmp_path, service, "doctor")
        assert finish(child) == 1
        output = received.getvalue()
    else:
        result = subprocess.run(
            [
                *AICHAT,
                "doctor",
                "--base-url",
                service.base_url,
                "--cookies-file",
                str(cookies_file(tmp_path)),
            ],
            capture_output=True,
            env=subprocess_env(home),
            timeout=60,
        )
        assert result.returncode == 1
        output = result.stdout
    text = assert_nothing_obeyable(output)
    request = [line for line in text.splitlines() if "request:" in line]
    assert request == [
        f"[FAIL] request: ResponseError: The service reported a failure: {SHOWN_REFUSAL}"
    ]


#: Text that favours controls, line breaks and look-alikes over ordinary letters.
CONTROL_HEAVY = st.lists(
    st.one_of(
        st.sampled_from([chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]),
        st.sampled_from(["\r\n", "\u2028", "\u2029", "^[", "M-"]),
        st.characters(),
    )
).map("".join)


def is_control(char: str) -> bool:
    return char < " " or "\x7f" <= char <= "\x9f"


@given(CONTROL_HEAVY)
def test_shown_text_holds_no_control_but_newline_and_tab(text: str) -> None:
    result = shown(text)
    for position, char in enumerate(result):
        if char == "\r":  # allowed only as part of CR LF, which overwrites nothing
            assert result[position + 1 : position + 2] == "\n"
        else:
            assert char in "\t\n" or not is_control(char), repr(char)
    plain = "".join(c for c in text if c in "\t\n" or not is_control(c))
    assert shown(plain) == plain  # only controls are rewritten


@given(CONTROL_HEAVY)
def test_one_line_is_one_line(text: str) -> None:
    result = one_line(text)
    assert len(result.splitlines()) <= 1
    assert "\x1b" not in result
    assert [c for c in result if is_control(c)] == [c for c in result if c == "\t"]


def test_caret_notation_examples() -> None:
    assert shown("a\x1b[2Jb\x9b1m\x07\x7f\x00\x08x\ry\r\n\tz") == (
        "a^[[2JbM-^[1m^G^?^@^Hx^My\r\n\tz"
    )
    assert one_line("  first\n\n second \r\n\x1b]0;t\x07\u2028end\n") == (
        "first second ^[]0;t^G end"
    )
