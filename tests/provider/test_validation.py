"""Bad input fails with a typed error before any network or file I/O."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from aichat_provider import Aichat, errors, format_prompt
from aichat_provider.testing import StandInService
from support.secrets import (
    COOKIES,
    PROXY_PASSWORD,
    SECRET_COOKIE,
    USER,
    assert_no_secrets,
    exposed_text,
)

BAD_MESSAGES: list[tuple[object, str]] = [
    ([], "empty"),
    ("Hi", "list of"),
    ({"role": "user", "content": "Hi"}, "list of"),
    (None, "list of"),
    (["Hi"], "messages[0] must be a dict"),
    ([{"content": "Hi"}], "role None"),
    ([{"role": "tool", "content": "x"}], "role 'tool'"),
    ([{"role": "user"}], "no 'content'"),
    ([{"role": "user", "content": 5}], "string or a list of text parts"),
    ([{"role": "user", "content": None}], "string or a list of text parts"),
    (
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
        "only accepts text parts",
    ),
    ([{"role": "user", "content": [{"type": "text"}]}], "string 'text'"),
    ([{"role": "user", "content": ["plain"]}], "must be a dict"),
]

BAD_KWARGS: list[tuple[dict[str, Any], str]] = [
    ({"temperature": 2.5}, "temperature must be between 0 and 2"),
    ({"temperature": -0.1}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"temperature": "0.5"}, "temperature must be a number"),
    ({"temperature": True}, "temperature must be a number"),
    ({"top_p": 1.5}, "top_p must be between 0 and 1"),
    ({"presence_penalty": 3}, "presence_penalty"),
    ({"frequency_penalty": -2.1}, "frequency_penalty"),
    ({"timeout": 0}, "timeout must be a positive"),
    ({"timeout": "10"}, "timeout must be a number"),
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": 1.5}, "max_retries"),
    ({"cookies": 42}, "cookies must be a dict"),
    ({"cookies": ["session"]}, "cookies must be a dict"),
    ({"cookies": {"bad name": "x"}}, "not a valid cookie name"),
    ({"cookies": {"session": 5}}, "string value"),
    ({"cookies": {"session": f"{SECRET_COOKIE}\r\nX-Injected: 1"}}, "control character"),
    ({"cookies": f"session={SECRET_COOKIE}; broken"}, "has no '='"),
    ({"cookies_file": 3}, "cookies_file must be a path"),
    ({"browser": "netscape"}, "not supported"),
    ({"browser": 5}, "browser must be"),
    ({"impersonate": "chrome 99; rm"}, "impersonate"),
    ({"impersonate": "chrome9999"}, "impersonate"),
    ({"user_agent": "evil\r\nX: 1"}, "control characters"),
    ({"user_agent": ""}, "user_agent"),
    ({"headers": ["x"]}, "headers must be a dict"),
    ({"headers": {"Cookie": f"session={SECRET_COOKIE}"}}, "cookies=..."),
    ({"headers": {"X-A": "1\r\nX-B: 2"}}, "control characters"),
    ({"headers": {"bad header": "1"}}, "not valid"),
    ({"headers": {"X-Name": "Ā"}}, "printable ASCII"),  # found by test_fuzz
    ({"headers": {"X-Name": "\x80"}}, "printable ASCII"),  # found by test_fuzz
    ({"cookies": {"session": "café"}}, "non-ASCII"),
    ({"user_agent": "Agent/ü"}, "printable ASCII"),
    ({"verify": "/nonexistent/ca.pem"}, "no CA bundle"),
    ({"verify": 1}, "verify must be"),
    ({"base_url": "ftp://example.com"}, "http:// or https://"),
    ({"base_url": "https://user:pw@example.com"}, "user name or password"),
    ({"base_url": "https://example.com?x=1"}, "query"),
    ({"base_url": "https://example.com:99999"}, "not a valid URL"),
]

BAD_PROXIES = [
    ("ftp://proxy:21", "must start with"),
    (f"socks4://user:{PROXY_PASSWORD}@127.0.0.1:1080", "must start with"),
    (f"http://user:{PROXY_PASSWORD}@:8080", "no host"),
    (f"http://user:{PROXY_PASSWORD}@127.0.0.1:notaport", "not a valid URL"),
    (123, "proxy must be a URL"),
]


@pytest.mark.parametrize(("messages", "phrase"), BAD_MESSAGES)
async def test_bad_messages(messages: object, phrase: str, service: StandInService) -> None:
    with pytest.raises(errors.InvalidRequestError, match=re.escape(phrase)) as caught:
        await Aichat.create_async(
            "",
            messages,
            cookies=COOKIES,  # type: ignore[arg-type]
            base_url=service.base_url,
        )
    assert isinstance(caught.value, ValueError)
    assert service.requests == []


@pytest.mark.parametrize(("kwargs", "phrase"), BAD_KWARGS)
async def test_bad_keyword_arguments(
    kwargs: dict[str, Any], phrase: str, service: StandInService
) -> None:
    kwargs.setdefault("cookies", COOKIES)
    with pytest.raises(errors.InvalidRequestError, match=re.escape(phrase)) as caught:
        await Aichat.create_async(
            "", USER, base_url=kwargs.pop("base_url", service.base_url), **kwargs
        )
    assert service.requests == []
    assert_no_secrets(exposed_text(caught.value))


@pytest.mark.parametrize(("proxy", "phrase"), BAD_PROXIES)
async def test_bad_proxies_never_show_the_password(
    proxy: object, phrase: str, service: StandInService
) -> None:
    with pytest.raises(errors.InvalidRequestError, match=re.escape(phrase)) as caught:
        await Aichat.create_async(
            "",
            USER,
            proxy=proxy,  # type: ignore[arg-type]
            cookies=COOKIES,
            base_url=service.base_url,
        )
    assert_no_secrets(exposed_text(caught.value))
    assert service.requests == []


@pytest.mark.parametrize("model", ["gpt-4", "GPT-3.5-TURBO", "claude"])
async def test_unsupported_model(model: str, service: StandInService) -> None:
    with pytest.raises(errors.ModelNotSupportedError) as caught:
        await Aichat.create_async(model, USER, cookies=COOKIES, base_url=service.base_url)
    assert isinstance(caught.value, errors.InvalidRequestError)
    assert caught.value.model == model
    assert "gpt-3.5-turbo" in str(caught.value)
    assert service.requests == []


async def test_model_of_the_wrong_type(service: StandInService) -> None:
    with pytest.raises(errors.InvalidRequestError, match="model must be a string"):
        await Aichat.create_async(
            35,
            USER,
            cookies=COOKIES,  # type: ignore[arg-type]
            base_url=service.base_url,
        )


async def test_invalid_cookie_in_a_cookies_file_is_reported_by_line(
    tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\n"
        "127.0.0.1\tFALSE\t/\tFALSE\tsoon\tother\tvalue\n"
    )
    with pytest.raises(errors.InvalidRequestError, match="line 3"):
        await Aichat.create_async("", USER, cookies_file=path, base_url=service.base_url)
    assert service.requests == []


def test_format_prompt_contract() -> None:
    assert format_prompt([{"role": "user", "content": "Only one"}]) == "Only one"
    assert (
        format_prompt([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
        == "System: S\nUser: U\nAssistant:"
    )
    parts = [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]
    assert format_prompt(parts) == "ab"
    with pytest.raises(errors.InvalidRequestError):
        format_prompt([])
