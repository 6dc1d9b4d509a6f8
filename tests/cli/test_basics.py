"""The installed package: light import, the console script and ``python -m``, the pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aichat_provider import Aichat
from aichat_provider.testing import Reply, StandInService
from support.cli import COMMANDS, cookies_file, run, run_against
from support.docs import page_text
from support.secrets import SECRET_COOKIE, USER, subprocess_env


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.slow
def test_prompt_argument_prints_only_the_answer(
    command: list[str], tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run_against(command, service, tmp_path, home, "Hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: Hello\n"
    assert result.stderr == ""
    assert service.requests[0].cookies == {"session": SECRET_COOKIE}


@pytest.mark.parametrize("prompt_args", [[], ["-"]], ids=["no-argument", "dash"])
@pytest.mark.slow
def test_prompt_from_standard_input(
    prompt_args: list[str], tmp_path: Path, home: Path, service: StandInService
) -> None:
    result = run(
        COMMANDS["python-m"],
        *prompt_args,
        "--base-url",
        service.base_url,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        home=home,
        stdin="From stdin\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: From stdin\n"


@pytest.mark.slow
def test_https_with_a_ca_bundle(tmp_path: Path, home: Path, tls_service: StandInService) -> None:
    assert tls_service.ca_path is not None
    result = run(
        COMMANDS["console-script"],
        "Hi",
        "--base-url",
        tls_service.base_url,
        "--ca-bundle",
        tls_service.ca_path,
        "--cookies-file",
        str(cookies_file(tmp_path)),
        home=home,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: Hi\n"


@pytest.mark.parametrize(
    ("reply", "code", "phrase"),
    [
        (Reply.status(403), 3, "rejected the cookies"),
        (Reply.status(429, retry_after=300), 4, "rate limiting"),
        (Reply.cloudflare(), 4, "Cloudflare"),
        (Reply.rejected("quota"), 1, "quota"),
    ],
    ids=["auth", "rate-limit", "cloudflare", "response-false"],
)
@pytest.mark.slow
def test_failures_exit_with_their_code_and_one_line(
    reply: Reply, code: int, phrase: str, tmp_path: Path, home: Path, service: StandInService
) -> None:
    service.set_default(reply)
    result = run_against(COMMANDS["console-script"], service, tmp_path, home, "Hi")
    assert result.returncode == code
    assert result.stdout == ""
    assert phrase in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET_COOKIE not in result.stderr


@pytest.mark.slow
def test_missing_cookies_and_bad_input_exit_codes(home: Path, service: StandInService) -> None:
    missing = run(COMMANDS["console-script"], "Hi", "--base-url", service.base_url, home=home)
    assert missing.returncode == 3
    assert "--cookies-file" in missing.stderr
    bad = run(COMMANDS["console-script"], "Hi", "--base-url", "ftp://nowhere", home=home)
    assert bad.returncode == 2


@pytest.mark.slow
def test_network_failure_exit_code(tmp_path: Path, home: Path) -> None:
    result = run(
        COMMANDS["console-script"],
        "Hi",
        "--base-url",
        "http://127.0.0.1:9",
        "--cookies-file",
        str(cookies_file(tmp_path)),
        "--timeout",
        "5",
        home=home,
    )
    assert result.returncode == 5
    assert "127.0.0.1" in result.stderr


@pytest.mark.slow
def test_help_documents_exit_codes_and_version(home: Path) -> None:
    result = run(COMMANDS["python-m"], "--help", home=home)
    assert result.returncode == 0
    assert "exit codes" in result.stdout
    version = run(COMMANDS["console-script"], "--version", home=home)
    assert version.stdout.startswith("aichat ")


@pytest.mark.slow
async def test_pytest_plugin_fixture(aichat_service: StandInService) -> None:
    """``aichat_service`` comes from the plugin the package installs, as a user would use it."""
    aichat_service.push(Reply.status(503))
    answer = await Aichat.create_async(
        "", USER, base_url=aichat_service.base_url, cookies={"session": "x"}
    )
    assert answer == "echo: Hi"
    assert len(aichat_service.requests) == 2


async def test_pytest_plugin_tls_fixture(aichat_service_tls: StandInService) -> None:
    answer = await Aichat.create_async(
        "",
        USER,
        base_url=aichat_service_tls.base_url,
        verify=aichat_service_tls.ca_path,
        cookies={"s": "x"},
    )
    assert answer == "echo: Hi"


@pytest.mark.slow
def test_readme_offline_try_out(tmp_path: Path, home: Path) -> None:
    """The offline try-out of the README and Getting started, as written (on a free port)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "aichat_provider.testing", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=subprocess_env(home),
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == (
            f"stand-in for chat-gpt.org at http://127.0.0.1:{port}"
        )
        cookies = tmp_path / "demo-cookies.json"
        cookies.write_text('[{"name": "session", "value": "demo"}]\n')
        result = run(
            COMMANDS["console-script"],
            "--base-url",
            f"http://127.0.0.1:{port}",
            "--cookies-file",
            str(cookies),
            "Hello",
            home=home,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "echo: Hello\n"
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0


@pytest.mark.slow
def test_the_testing_page_example_runs() -> None:
    """The testing page's ``aichat_provider.testing`` example, executed from its text."""
    import asyncio
    import re

    block = re.search(
        r"```python\n(import pytest\n\nfrom aichat_provider import Aichat\nfrom aichat_provider"
        r"\.testing.*?)```",
        page_text("testing"),
        re.S,
    )
    assert block is not None
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "docs/testing.md", "exec"), namespace)  # noqa: S102
    test = namespace["test_my_app_survives_a_rate_limit"]
    asyncio.run(test())  # type: ignore[operator]
