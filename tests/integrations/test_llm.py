"""The ``aichat`` model of the real ``llm`` (found through the package's entry point), against the
stand-in: the command line, the Python API (sync, async, conversations, streams) and typed errors
as ``llm.ModelError``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aichat_provider import errors
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, assert_no_secrets, exposed_text


@pytest.fixture(autouse=True)
def framework(llm: Any, offline: dict[str, str], tmp_path: Path, monkeypatch: Any) -> Any:
    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm"))  # llm's keys and log database
    return llm


@pytest.fixture
def cookies_file(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps([{"name": k, "value": v, "domain": "127.0.0.1"} for k, v in COOKIES.items()])
    )
    return path


def options(service: StandInService, cookies_file: Path, **extra: Any) -> dict[str, Any]:
    return {"cookies_file": str(cookies_file), "base_url": service.base_url, **extra}


def run_llm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llm", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


@pytest.mark.slow
def test_the_command_line_finds_the_plugin_by_entry_point(
    service: StandInService, cookies_file: Path
) -> None:
    listed = run_llm("models")
    assert "AichatModel: aichat" in listed.stdout
    result = run_llm(
        "-m", "aichat",
        "-o", "cookies_file", str(cookies_file),
        "-o", "base_url", service.base_url,
        "-o", "temperature", "0.2",
        "Say hello",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "echo: Say hello"
    assert service.requests[0].cookies == COOKIES
    assert service.requests[0].json["temperature"] == 0.2


@pytest.mark.slow
def test_the_command_line_reports_a_typed_error_without_secrets(
    service: StandInService, cookies_file: Path
) -> None:
    service.set_default(Reply.status(429, retry_after=600))
    result = run_llm(
        "-m", "aichat", "-o", "cookies_file", str(cookies_file),
        "-o", "base_url", service.base_url, "Hi",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")
    assert "Retry-After" in result.stderr or "rate" in result.stderr.lower()
    assert_no_secrets(result.stdout + result.stderr)


def test_python_api_answer_stream_and_conversation(
    llm: Any, service: StandInService, cookies_file: Path
) -> None:
    model = llm.get_model("aichat")
    response = model.prompt("Hi", system="Be brief", **options(service, cookies_file))
    assert response.text() == f"echo: {service.requests[0].prompt}"
    assert service.requests[0].prompt == "System: Be brief\nUser: Hi\nAssistant:"
    chunks = list(model.prompt("Hi", **options(service, cookies_file)))
    assert chunks == ["echo: Hi"]
    conversation = model.conversation()
    conversation.prompt("One", **options(service, cookies_file)).text()
    conversation.prompt("Two", **options(service, cookies_file)).text()
    assert service.requests[-1].prompt == "User: One\nAssistant: echo: One\nUser: Two\nAssistant:"


async def test_async_model(llm: Any, service: StandInService, cookies_file: Path) -> None:
    model = llm.get_async_model("aichat")
    response = model.prompt("Hi", **options(service, cookies_file, browser="firefox,chrome"))
    assert await response.text() == "echo: Hi"
    chunks = [chunk async for chunk in model.prompt("Hi", **options(service, cookies_file))]
    assert chunks == ["echo: Hi"]


@pytest.mark.parametrize(
    ("reply", "extra", "ours"),
    [
        (Reply.status(429, retry_after=600), {}, errors.RateLimitError),
        (Reply.status(403), {}, errors.AuthenticationError),
        (None, {"temperature": 7}, errors.InvalidRequestError),
        (None, {"cookies_file": None, "browser": ""}, errors.MissingCookiesError),
    ],
    ids=["rate-limit", "rejected", "bad-argument", "no-cookies"],
)
def test_typed_errors_are_llm_model_errors_and_ours(
    llm: Any,
    service: StandInService,
    cookies_file: Path,
    reply: Reply | None,
    extra: dict[str, Any],
    ours: type[errors.ProviderError],
) -> None:
    if reply is not None:
        service.set_default(reply)
    given = {**options(service, cookies_file), **extra}
    given = {name: value for name, value in given.items() if value is not None}
    with pytest.raises(llm.ModelError) as caught:
        llm.get_model("aichat").prompt("Hi", **given).text()
    assert isinstance(caught.value, ours)
    assert type(caught.value.__cause__) is ours
    assert_no_secrets(exposed_text(caught.value))


def test_ca_bundle_option_is_the_verify_argument(
    llm: Any, tls_service: StandInService, cookies_file: Path
) -> None:
    assert tls_service.ca_path is not None
    response = llm.get_model("aichat").prompt(
        "Hi", **options(tls_service, cookies_file, ca_bundle=str(tls_service.ca_path))
    )
    assert response.text() == "echo: Hi"


def test_a_messages_text_parts_are_joined_as_written(
    llm: Any, service: StandInService, cookies_file: Path
) -> None:
    from llm.parts import Message, TextPart

    model = llm.get_model("aichat")
    message = Message(role="user", parts=[TextPart(text="Hel"), TextPart(text="lo")])
    response = model.prompt(messages=[message], **options(service, cookies_file))
    assert response.text() == "echo: Hello"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("cookies", f"session={COOKIES['session']}"),
        ("proxy", "http://user:pr0xy-passw0rd-91ac@127.0.0.1:3128"),
        ("cookies_file", {"session": COOKIES["session"]}),
    ],
)
def test_a_secret_given_where_llm_takes_none_is_not_quoted_by_the_refusal(
    llm: Any, service: StandInService, name: str, value: Any
) -> None:
    """There is no option for a cookie or a proxy on purpose; pydantic's refusal of one (or of
    a secret given to another option) quoted the value it refused."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        llm.get_model("aichat").prompt("Hi", base_url=service.base_url, **{name: value}).text()
    assert name in str(caught.value)
    assert_no_secrets(exposed_text(caught.value))
    assert service.requests == []


def test_an_error_crosses_a_process_boundary_whole(llm: Any, service: StandInService) -> None:
    """The class that is both ``llm.ModelError`` and ours could not be pickled."""
    import pickle

    with pytest.raises(llm.ModelError) as caught:
        llm.get_model("aichat").prompt("Hi", base_url=service.base_url, timeout=0).text()
    back = pickle.loads(pickle.dumps(caught.value))  # noqa: S301  # bytes this test just made
    assert type(back) is type(caught.value)
    assert isinstance(back, errors.InvalidRequestError)
    assert str(back) == str(caught.value)
