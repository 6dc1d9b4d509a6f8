"""The ``aichat`` command as a shell user drives it: flags, --json, a terminal chat, doctor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from aichat_provider.testing import RecordedRequest, Reply, StandInService
from support.cli import AICHAT, cookies_file, run, run_against, run_doctor, spawn, spawn_chat
from support.profiles import Cookie, build_chrome_profile, build_firefox_profile
from support.proxy import ConnectProxy
from support.secrets import SECRET_CLEARANCE, SECRET_COOKIE, subprocess_env


@pytest.mark.slow
def test_json_output_has_model_answer_elapsed_and_attempts(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.push(Reply.status(503))
    result = run_against(AICHAT, service, tmp_path, home, "Hi", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"] == "gpt-3.5-turbo"
    assert data["answer"] == "echo: Hi"
    assert data["attempts"] == 2
    assert isinstance(data["elapsed"], float)
    assert data["elapsed"] >= 0
    assert SECRET_COOKIE not in result.stdout + result.stderr


@pytest.mark.slow
def test_flags_reach_the_request(tmp_path: Path, home: Path, service: StandInService) -> None:
    build_firefox_profile(home, [Cookie("127.0.0.1", "session", "from-firefox")])
    result = run(
        AICHAT,
        "Question",
        "--system",
        "Be brief.",
        "--temperature",
        "1.2",
        "--top-p",
        "0.4",
        "--max-retries",
        "0",
        "--timeout",
        "10",
        "--user-agent",
        "Agent/1.0",
        "--browser",
        "firefox",
        "--base-url",
        service.base_url,
        home=home,
    )
    assert result.returncode == 0, result.stderr
    request = service.requests[0]
    assert request.prompt == "System: Be brief.\nUser: Question\nAssistant:"
    assert request.json["temperature"] == 1.2
    assert request.json["top_p"] == 0.4
    assert request.header("user-agent") == "Agent/1.0"
    assert request.cookies == {"session": "from-firefox"}


@pytest.mark.slow
def test_timeout_exit_code(tmp_path: Path, home: Path, service: StandInService) -> None:
    service.set_default(Reply.hang())
    result = run_against(AICHAT, service, tmp_path, home, "Hi", "--timeout", "0.5")
    assert result.returncode == 5
    assert "0.5 s" in result.stderr


@pytest.mark.slow
def test_invalid_option_value_exit_code(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run_against(AICHAT, service, tmp_path, home, "Hi", "--temperature", "7")
    assert result.returncode == 2
    assert "temperature must be between 0 and 2" in result.stderr
    assert service.requests == []


@pytest.mark.slow
def test_verbose_logs_go_to_stderr_without_secrets(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.push(Reply.status(500))
    result = run_against(AICHAT, service, tmp_path, home, "Hi", "-v")
    assert result.returncode == 0
    assert result.stdout == "echo: Hi\n"
    assert "DEBUG aichat_provider" in result.stderr
    assert "retrying" in result.stderr
    assert SECRET_COOKIE not in result.stderr


# --- the terminal chat ------------------------------------------------------------------------


@pytest.mark.slow
def test_interactive_chat_keeps_the_conversation(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    turns: list[str] = []

    def answer(request: RecordedRequest) -> str:
        turns.append(request.prompt or "")
        return f"answer-{len(turns)}"

    service.answer = answer
    child = spawn_chat(home, tmp_path, service)
    child.expect("Ctrl-D quits")
    child.expect("you> ")
    child.sendline("Hello")
    child.expect("answer-1")
    child.expect("you> ")
    child.sendline("And then?")
    child.expect("answer-2")
    child.expect("you> ")
    child.sendline("/system Be brief.")
    child.expect("system message set")
    child.expect("you> ")
    child.sendline("Third")
    child.expect("answer-3")
    child.expect("you> ")
    child.sendline("/reset")
    child.expect("conversation cleared")
    child.expect("you> ")
    child.sendline("Fresh start")
    child.expect("answer-4")
    child.expect("you> ")
    child.sendintr()  # Ctrl-C at the prompt: the chat goes on
    child.expect("you> ")
    child.sendline("After Ctrl-C")
    child.expect("answer-5")
    child.expect("you> ")
    child.sendeof()  # Ctrl-D: a clean exit
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert turns[0] == "Hello"
    assert turns[1] == "User: Hello\nAssistant: answer-1\nUser: And then?\nAssistant:"
    assert turns[2] == (
        "System: Be brief.\nUser: Hello\nAssistant: answer-1\nUser: And then?\n"
        "Assistant: answer-2\nUser: Third\nAssistant:"
    )
    assert turns[3] == "System: Be brief.\nUser: Fresh start\nAssistant:"
    assert SECRET_COOKIE not in (child.before or "")


@pytest.mark.slow
def test_interactive_exit_command_and_errors_keep_the_session(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.push(Reply.status(403))
    child = spawn_chat(home, tmp_path, service)
    child.expect("you> ")
    child.sendline("first")
    child.expect("rejected the cookies")
    child.expect("you> ")
    child.sendline("second")
    child.expect("echo: second")
    child.expect("you> ")  # keystrokes only once the prompt is there
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.slow
def test_ctrl_c_during_a_request_abandons_it_and_the_chat_goes_on(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.push(Reply.hang())
    child = spawn_chat(home, tmp_path, service)
    child.expect("you> ")
    child.sendline("never answered")
    assert service.wait_for_requests(1)  # the request is at the server, which never answers
    child.sendintr()
    child.expect("interrupted")
    child.expect("you> ")
    child.sendline("answered")
    child.expect("echo: answered")
    child.expect("you> ")  # EOF only once the prompt is there (sent earlier, it raced)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.slow
def test_spinner_shows_elapsed_seconds_on_a_terminal(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.push(Reply.delayed(0.6))
    child = spawn_chat(home, tmp_path, service, "Slow one")
    child.expect(r"waiting +0\.\d s")
    child.expect("echo: Slow one")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


# --- doctor ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_doctor_on_a_profile_with_firefox_and_chrome(
    home: Path, service: StandInService, with_dbus: str
) -> None:
    build_firefox_profile(
        home,
        [
            Cookie("127.0.0.1", "session", SECRET_COOKIE),
            Cookie("127.0.0.1", "cf_clearance", SECRET_CLEARANCE),
        ],
    )
    build_chrome_profile(home, [Cookie("127.0.0.1", "session", SECRET_COOKIE)])
    env = {**subprocess_env(home), "DBUS_SESSION_BUS_ADDRESS": with_dbus}
    result = run_doctor(home, "--base-url", service.base_url, env=env)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert (
        "[ ok ] browser firefox (~/.mozilla/firefox/t3st.default-release): 2 for 127.0.0.1: "
        "session (expires" in out
    )
    assert "cf_clearance (expires" in out
    assert (
        "[ ok ] browser chrome (~/.config/google-chrome/Default): 1 for 127.0.0.1: session" in out
    )
    assert "[ -- ] browsers: not installed here: chromium, brave, " in out  # one line for all
    assert "[warn] cf_clearance: found in firefox, but no user agent is set" in out
    assert "[ ok ] connection: 127.0.0.1 answers over plain HTTP (HTTP 200)" in out
    assert "[ ok ] request: answered" in out
    assert SECRET_COOKIE not in out + result.stderr
    assert SECRET_CLEARANCE not in out + result.stderr


@pytest.mark.slow
def test_doctor_with_user_agent_and_a_cookies_file(
    tmp_path: Path, home: Path, tls_service: StandInService
) -> None:
    assert tls_service.ca_path is not None
    result = run_doctor(
        home,
        "--base-url",
        tls_service.base_url,
        "--ca-bundle",
        tls_service.ca_path,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "--browser",
        "firefox",
        "--user-agent",
        "Agent/2",
    )
    assert result.returncode == 0, result.stdout
    assert "[ ok ] cookies file: 1 for 127.0.0.1: session (expires session)" in result.stdout
    assert "answers over TLS (HTTP 200)" in result.stdout


@pytest.mark.slow
def test_doctor_without_any_cookies(
    home: Path, service: StandInService, without_dbus: None
) -> None:
    result = run_doctor(home, "--base-url", service.base_url)
    assert result.returncode == 3
    assert "[FAIL] cookies: no cookies for 127.0.0.1 anywhere" in result.stdout
    assert "[FAIL] request: not attempted without cookies" in result.stdout


@pytest.mark.slow
def test_doctor_reports_a_rejected_request(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.status(401))
    result = run_doctor(
        home,
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "--browser",
        "firefox",
    )
    assert result.returncode == 3
    assert "[FAIL] request: AuthenticationError" in result.stdout


@pytest.mark.slow
def test_doctor_reports_a_dead_proxy(tmp_path: Path, home: Path, service: StandInService) -> None:
    result = run_doctor(
        home,
        "--base-url",
        service.base_url,
        "--proxy",
        "http://user:hunter2-secret@127.0.0.1:9",
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "--browser",
        "firefox",
    )
    assert result.returncode == 5
    assert "[FAIL] proxy: http://[redacted]@127.0.0.1:9 cannot be reached" in result.stdout
    assert "hunter2-secret" not in result.stdout + result.stderr


@pytest.mark.parametrize("no_color", [False, True])
@pytest.mark.slow
def test_doctor_colours_only_on_a_terminal_without_no_color(
    no_color: bool, home: Path, service: StandInService
) -> None:
    env = subprocess_env(home)
    if no_color:
        env["NO_COLOR"] = "1"
    child = spawn(home, "doctor", "--base-url", service.base_url, "--browser", "firefox", env=env)
    child.expect(pexpect.EOF)
    child.close()
    assert ("\x1b[" in (child.before or "")) is not no_color


def test_python_m_runs_doctor_too(home: Path, service: StandInService) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aichat_provider",
            "doctor",
            "--base-url",
            service.base_url,
            "--browser",
            "firefox",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert result.returncode == 3
    assert "aichat doctor for" in result.stdout


# --- what the flags must do (each of these survived a mutation of the code before) ------------


def test_the_proxy_flag_carries_the_request(
    tmp_path: Path, home: Path, tls_service: StandInService
) -> None:
    assert tls_service.ca_path is not None
    with ConnectProxy() as proxy:
        result = run(
            AICHAT,
            "Hi",
            "--base-url",
            tls_service.base_url,
            "--ca-bundle",
            tls_service.ca_path,
            "--cookies-file",
            str(cookies_file(tmp_path)),
            "--proxy",
            proxy.url,
            home=home,
        )
        assert result.returncode == 0, result.stderr
        assert proxy.tunnels == [f"127.0.0.1:{tls_service.port}"]


def test_the_model_flag_is_checked_and_reported(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    wrong = run_against(AICHAT, service, tmp_path, home, "Hi", "--model", "gpt-4")
    assert wrong.returncode == 2
    assert "Model 'gpt-4' is not supported" in wrong.stderr
    assert service.requests == []
    right = run_against(AICHAT, service, tmp_path, home, "Hi", "--model", "gpt-3.5-turbo", "--json")
    assert json.loads(right.stdout)["model"] == "gpt-3.5-turbo"


@pytest.mark.parametrize("prompt", ["", "   ", "\n\n"])
def test_an_empty_prompt_is_a_usage_error(
    prompt: str, tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run_against(AICHAT, service, tmp_path, home, prompt)
    assert result.returncode == 2
    assert "the prompt is empty" in result.stderr
    assert "aichat 'your question'" in result.stderr  # the next step
    assert service.requests == []


def test_ctrl_c_while_waiting_exits_130(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.hang())
    child = spawn_chat(home, tmp_path, service, "never answered")
    assert service.wait_for_requests(1, timeout=20)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_options_that_can_never_work_end_the_chat_before_it_starts(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    child = spawn_chat(home, tmp_path, service, "--temperature", "7")
    child.expect("temperature must be between 0 and 2")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert service.requests == []


@pytest.mark.parametrize(
    ("flag", "value", "phrase"),
    [
        ("--proxy", "ftp://proxy.example:21", "proxy"),
        ("--base-url", "gopher://example", "base_url"),
        ("--ca-bundle", "/nonexistent/ca.pem", "verify"),
        ("--browser", "netscape", "browser"),
        ("--timeout", "-1", "timeout"),
    ],
)
def test_doctor_refuses_a_bad_option_before_checking_anything(
    flag: str, value: str, phrase: str, home: Path
) -> None:
    result = run_doctor(home, flag, value)
    assert result.returncode == 2
    assert result.stdout.startswith("[FAIL] options:")
    assert phrase in result.stdout
    assert "aichat doctor for" not in result.stdout
