"""The command line as people type it: short flags, a prompt of several words, ``-f FILE``,
"did you mean", messages in flags, exit codes that mean one thing, and ``--help`` that says
everything the same way."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from pathlib import Path

import pytest

from aichat_provider.cli import build_parser
from aichat_provider.testing import Reply, StandInService
from support.cli import AICHAT, cookies_file, run, run_against, run_doctor, spawn_chat
from support.secrets import SECRET_COOKIE, subprocess_env


def test_short_flags_and_the_rest_of_the_words_are_the_prompt(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run_against(
        AICHAT, service, tmp_path, home, "-m", "gpt-3.5-turbo", "-s", "Be brief", "tell", "me",
        "a", "joke",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert service.requests[0].prompt == "System: Be brief\nUser: tell me a joke\nAssistant:"
    assert run(AICHAT, "-V", home=home).stdout == run(AICHAT, "--version", home=home).stdout


def test_files_are_context_before_the_prompt(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("line one\n```code```\n")
    other = tmp_path / "b.md"
    other.write_text("second file")
    result = run_against(
        AICHAT, service, tmp_path, home, "-f", str(notes), "--file", str(other), "summarise"
    )
    assert result.returncode == 0, result.stderr
    assert service.requests[0].prompt == (
        f"{notes}:\n````\nline one\n```code```\n````\n\n{other}:\n```\nsecond file\n```"
        "\n\nsummarise"
    )
    missing = run_against(AICHAT, service, tmp_path, home, "-f", str(tmp_path / "no"), "hi")
    assert missing.returncode == 2
    assert f"-f {tmp_path / 'no'}: cannot be read (No such file or directory)" in missing.stderr
    assert len(service.requests) == 1


def test_a_near_miss_of_a_command_is_not_sent_as_a_prompt(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run_against(AICHAT, service, tmp_path, home, "hepl")
    assert result.returncode == 2
    assert "'hepl' is not a command; did you mean 'aichat help'?" in result.stderr
    assert "aichat ask hepl" in result.stderr
    served = run_against(AICHAT, service, tmp_path, home, "serv")
    assert "did you mean 'aichat serve'?" in served.stderr
    assert service.requests == []
    assert "usage: aichat" in run(AICHAT, "help", home=home).stdout
    assert "usage: aichat logs" in run(AICHAT, "help", "logs", home=home).stdout


def test_flags_before_a_command_name(tmp_path: Path, home: Path, service: StandInService) -> None:
    result = run(
        AICHAT,
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "ask",
        "doctor",
        home=home,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: doctor\n"


def test_messages_speak_in_flags(tmp_path: Path, home: Path, service: StandInService) -> None:
    missing = run(AICHAT, "Hi", "--base-url", service.base_url, "--browser", "firefox", home=home)
    assert missing.returncode == 3
    assert "Point --cookies-file (or AICHAT_COOKIES_FILE) at" in missing.stderr
    assert "cookies_file=" not in missing.stderr
    assert "cookies={" not in missing.stderr
    service.set_default(Reply.cloudflare())
    blocked = run_against(AICHAT, service, tmp_path, home, "Hi")
    assert blocked.returncode == 4
    assert "(--user-agent or AICHAT_USER_AGENT)" in blocked.stderr
    assert "user_agent=" not in blocked.stderr


def test_json_failures_are_a_json_error_object(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(Reply.status(429, retry_after="3600"))
    result = run_against(AICHAT, service, tmp_path, home, "Hi", "--json")
    assert result.returncode == 4
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "RateLimitError"
    assert error["exit_code"] == 4
    assert "429" in error["message"]
    assert result.stderr == ""
    assert SECRET_COOKIE not in result.stdout
    # a usage error too, before any request
    unreadable = run_against(AICHAT, service, tmp_path, home, "-f", "/nonexistent", "Hi", "--json")
    assert unreadable.returncode == 2
    assert json.loads(unreadable.stdout) == {
        "error": {
            "type": "InvalidRequestError",
            "message": "-f /nonexistent: cannot be read (No such file or directory).",
            "exit_code": 2,
        }
    }


def test_the_chat_names_the_service_it_talks_to(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    child = spawn_chat(home, tmp_path, service, "chat")
    child.expect(r"chatting with (\S+)\. ")
    assert child.match.group(1) == "127.0.0.1"
    child.sendeof()
    child.close()


def _without_playwright(tmp_path: Path) -> dict[str, str]:
    """A Python on which ``import playwright`` fails, as where the login extra is missing."""
    shadow = tmp_path / "shadow" / "playwright"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named playwright')\n")
    env = subprocess_env(tmp_path / "home")
    env["PYTHONPATH"] = os.pathsep.join([str(shadow.parent), env.get("PYTHONPATH", "")])
    return env


def test_login_without_its_extra_or_a_display_exits_6_with_the_next_step(
    tmp_path: Path, home: Path
) -> None:
    result = run(AICHAT, "login", home=home, env=_without_playwright(tmp_path))
    assert result.returncode == 6
    assert "needs the login extra" in result.stderr
    hint = result.stderr.partition("(Playwright): ")[2]
    assert hint.startswith(str(Path(sys.executable).parent))  # this venv's own Python
    assert hint.endswith(" -m pip install 'playwright>=1.45'\n")
    assert "aichat-provider[login]" not in result.stderr  # not on any index
    env = {k: v for k, v in subprocess_env(home).items() if "DISPLAY" not in k}
    result = run(AICHAT, "login", home=home, env=env)
    assert result.returncode == 6
    assert "no display to open the browser on" in result.stderr
    assert "--headless" in result.stderr


def test_serve_on_a_busy_port_is_one_line_and_exit_7(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(AICHAT, "serve", "--port", str(port), home=home)
    assert result.returncode == 7
    assert result.stdout == ""
    assert result.stderr == (
        f"aichat: error: the server could not start: port {port} on 127.0.0.1 is in use; "
        f"pick another with --port (e.g. --port {port + 1}).\n"
    )


def test_doctor_lists_browsers_that_are_not_installed_once(home: Path, tmp_path: Path) -> None:
    result = run_doctor(home, "--base-url", "http://127.0.0.1:9", "--cookies-file", "/nonexistent")
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith("[ -- ] browser ")]
    assert any(
        line.startswith("[ -- ] browsers: not installed here: chrome, chromium") for line in lines
    )


def test_doctor_gives_no_challenge_warning_when_the_cookies_pass(
    home: Path, tmp_path: Path
) -> None:
    from aichat_provider.testing import Challenge

    with StandInService(challenge=Challenge()) as service:
        agent = "Agent/1.0"
        clearance = service.site._token("cf_clearance", agent, 600)
        cookies = tmp_path / "cookies.json"
        cookies.write_text(
            json.dumps(
                [
                    {"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1"},
                    {"name": "cf_clearance", "value": clearance, "domain": "127.0.0.1"},
                ]
            )
        )
        result = run_doctor(
            home,
            "--base-url",
            service.base_url,
            "--cookies-file",
            str(cookies),
            "--user-agent",
            agent,
            "--browser",
            "firefox",
        )
    assert result.returncode == 0, result.stdout
    assert "[warn]" not in result.stdout
    assert "a visit without cookies gets a Cloudflare challenge" in result.stdout
    assert "[ ok ] request" in result.stdout


def _helps() -> dict[str, str]:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    return {"aichat": parser.format_help(), **{n: p.format_help() for n, p in commands.items()}}


def test_help_lists_every_variable_and_only_each_commands_exit_codes() -> None:
    helps = _helps()
    for variable in (
        "AICHAT_COOKIES_FILE", "AICHAT_BASE_URL", "AICHAT_USER_AGENT", "AICHAT_API_KEY",
        "AICHAT_CORS_ORIGINS", "AICHAT_ALLOWED_HOSTS", "AICHAT_BROWSER", "AICHAT_DATA_DIR",
        "AICHAT_REFRESH_COOKIES", "AICHAT_CONFIG_FILE", "NO_COLOR",
    ):  # fmt: skip
        assert variable in helps["aichat"]
    assert "examples:" in helps["aichat"]
    assert "rate limited" not in helps["logout"]
    assert "cookies missing" in helps["ask"]
    assert "6    something to install" in helps["login"]
    assert "7    the server could not start" in helps["serve"]


@pytest.mark.parametrize(
    "command", ["aichat", "ask", "chat", "login", "logout", "logs", "config", "serve"]
)
def test_help_writes_defaults_one_way(command: str) -> None:
    text = _helps()[command]
    # "(default: X)" only: not "(300)", "(default X)" or "[default: X]"
    assert not re.search(r"\((?:\d[\d.]*|default [^:])\)", text), text
    assert "[default" not in text
    assert not re.search(r"\(default: .*\(default: ", text), text  # said once per line
