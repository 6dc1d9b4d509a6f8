"""A call that repeats an earlier call's configuration behaves exactly as if it were the first.

Calls with the same arguments share the work done for the first of them (the checked options,
headers, session key): nothing a later call changes may be lost in that sharing.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.testing import StandInService
from support.secrets import COOKIES, USER


async def test_each_call_sends_its_own_prompt_and_reports_its_own_model(
    service: StandInService,
) -> None:
    first = await Aichat.ask_async("", USER, cookies=COOKIES, base_url=service.base_url)
    second = await Aichat.ask_async(
        "gpt-3.5-turbo",
        [{"role": "user", "content": "Bye"}],
        cookies=COOKIES,
        base_url=service.base_url,
    )
    assert (first.text, second.text) == ("echo: Hi", "echo: Bye")
    assert second.model == "gpt-3.5-turbo"
    assert [request.prompt for request in service.requests] == ["Hi", "Bye"]


async def test_a_cookie_changed_in_the_same_dict_is_sent_as_changed(
    service: StandInService,
) -> None:
    cookies = {"session": "first-session-value"}
    await Aichat.create_async("", USER, cookies=cookies, base_url=service.base_url)
    cookies["session"] = "second-session-value"
    await Aichat.create_async("", USER, cookies=cookies, base_url=service.base_url)
    assert [request.cookies for request in service.requests] == [
        {"session": "first-session-value"},
        {"session": "second-session-value"},
    ]


async def test_an_argument_equal_to_an_earlier_one_but_of_another_type_is_checked(
    service: StandInService,
) -> None:
    await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url, temperature=1)
    with pytest.raises(errors.InvalidRequestError, match="temperature must be a number, not bool"):
        await Aichat.create_async(
            "", USER, cookies=COOKIES, base_url=service.base_url, temperature=True
        )
    await Aichat.create_async(
        "", USER, cookies=COOKIES, base_url=service.base_url, temperature=-0.0
    )
    await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url, temperature=0.0)
    signs = [math.copysign(1, request.json["temperature"]) for request in service.requests[1:]]
    assert signs == [-1, 1]
    assert len(service.requests) == 3


async def test_an_environment_variable_changed_between_calls_is_honoured(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url)
    monkeypatch.setenv("AICHAT_USER_AGENT", "EnvAgent/2.0")
    await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url)
    agents = [request.header("user-agent") or "" for request in service.requests]
    assert agents[0].startswith("Mozilla/5.0")
    assert agents[1] == "EnvAgent/2.0"


async def test_a_ca_bundle_removed_after_a_call_is_reported_before_the_next(
    tls_service: StandInService, tmp_path: Path
) -> None:
    assert tls_service.ca_path is not None
    bundle = tmp_path / "ca.pem"
    shutil.copyfile(tls_service.ca_path, bundle)
    kwargs = {"cookies": COOKIES, "base_url": tls_service.base_url, "verify": str(bundle)}
    assert await Aichat.create_async("", USER, **kwargs) == "echo: Hi"  # type: ignore[arg-type]
    bundle.unlink()
    with pytest.raises(errors.InvalidRequestError, match="no CA bundle file at that path"):
        await Aichat.create_async("", USER, **kwargs)  # type: ignore[arg-type]
    assert len(tls_service.requests) == 1


async def test_verify_false_is_warned_about_on_every_call(
    tls_service: StandInService, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(2):
        await Aichat.create_async(
            "", USER, cookies=COOKIES, base_url=tls_service.base_url, verify=False
        )
    warnings = [r for r in caplog.records if "verification is off" in r.getMessage()]
    assert len(warnings) == 2


async def test_ignored_keywords_are_logged_on_every_call(
    service: StandInService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="aichat_provider"):
        for _ in range(2):
            await Aichat.create_async(
                "",
                USER,
                cookies=COOKIES,
                base_url=service.base_url,
                stream=False,  # type: ignore[call-arg]
            )
    ignored = [r for r in caplog.records if "does not use: stream" in r.getMessage()]
    assert len(ignored) == 2


@pytest.mark.parametrize("given_as", ["argument", "environment"])
async def test_a_cookies_file_under_home_follows_a_changed_home(
    given_as: str, service: StandInService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("one", "two"):
        home = tmp_path / name
        home.mkdir()
        cookie = {"name": "session", "value": f"{name}-session-value", "domain": "127.0.0.1"}
        (home / "cookies.json").write_text(json.dumps([cookie]))
    kwargs = {"cookies_file": "~/cookies.json"} if given_as == "argument" else {}
    if given_as == "environment":
        monkeypatch.setenv("AICHAT_COOKIES_FILE", "~/cookies.json")
    for name in ("one", "two"):
        monkeypatch.setenv("HOME", str(tmp_path / name))
        await Aichat.create_async("", USER, base_url=service.base_url, **kwargs)  # type: ignore[arg-type]
    assert [request.cookies for request in service.requests] == [
        {"session": "one-session-value"},
        {"session": "two-session-value"},
    ]


@pytest.mark.parametrize("proxy", [[], {"http": "x"}, b"http://127.0.0.1:9"])
async def test_a_proxy_of_another_type_is_refused_as_before(
    proxy: object, service: StandInService
) -> None:
    with pytest.raises(errors.InvalidRequestError, match="proxy must be a URL string"):
        await Aichat.create_async("", USER, proxy, cookies=COOKIES, base_url=service.base_url)  # type: ignore[arg-type]
    assert service.requests == []
