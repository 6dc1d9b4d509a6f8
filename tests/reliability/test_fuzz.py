"""Property-based tests: whatever the input, a typed error or a correct result, nothing else."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from http.cookiejar import CookieJar
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aichat_provider import Aichat, errors
from aichat_provider._options import parse_options
from aichat_provider.cookies import cookies_from_argument, select_cookies
from aichat_provider.cookies._files import parse_json_cookies, parse_netscape_cookies
from aichat_provider.testing import Reply, StandInService
from support.secrets import cookie_jar

#: 150 examples a test in CI; FUZZ_EXAMPLES=5000 for a deeper run.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

text = st.text(max_size=40)
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
roles = st.sampled_from(["system", "user", "assistant"]) | text
content = (
    text
    | st.lists(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "image_url"]) | text, "text": text | anything}
        ),
        max_size=3,
    )
    | anything
)
message = st.fixed_dictionaries({"role": roles, "content": content}) | anything
valid_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": text}
)
messages = (
    st.lists(valid_message, min_size=1, max_size=4) | st.lists(message, max_size=4) | anything
)
numbers = (
    st.floats(min_value=-3, max_value=3)
    | st.integers(min_value=-3, max_value=3)
    | st.floats(allow_nan=True, allow_infinity=True)
    | anything
)
cookie_names = st.text(min_size=1, max_size=12)
token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
cookie_dicts = st.dictionaries(token, token, min_size=1, max_size=3) | st.dictionaries(
    cookie_names, text | anything, max_size=3
)
cookie_strings = (
    st.lists(st.tuples(cookie_names, text), max_size=3).map(
        lambda pairs: "; ".join(f"{n}={v}" for n, v in pairs)
    )
    | text
)
header_dicts = (
    st.none()
    | st.dictionaries(st.sampled_from(["X-A", "Accept", "x-b"]), token)
    | st.dictionaries(text, text | anything, max_size=3)
    | anything
)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandInService]:
    with StandInService(max_recorded=10) as service:
        yield service


def jar_of(pairs: list[tuple[str, str]]) -> CookieJar:
    return cookie_jar(*[(name, value, "127.0.0.1") for name, value in pairs])


cookies = (
    cookie_dicts
    | cookie_strings
    | st.lists(st.tuples(cookie_names, text), max_size=3).map(jar_of)
    | anything
)


async def call(stand_in: StandInService, **kwargs: Any) -> None:
    """The call succeeds (with the echo answer) or raises InvalidRequestError, nothing else."""
    try:
        answer = await Aichat.create_async(
            kwargs.pop("model", ""),
            kwargs.pop("messages"),
            base_url=stand_in.base_url,
            max_retries=0,
            timeout=10,
            browser=[],
            **kwargs,
        )
    except errors.InvalidRequestError:
        event("InvalidRequestError")
        return
    except errors.MissingCookiesError:
        # only a cookies argument that holds no cookie (None, {}, "", " ; ") may end here
        given = kwargs.get("cookies")
        assert given is None or not cookies_from_argument(given, url=stand_in.url)
        event("MissingCookiesError")
        return
    event("answered")
    assert answer.startswith("echo: ")


@FUZZ
@given(messages=messages, model=st.sampled_from(["", "gpt-3.5-turbo"]) | text | anything)
def test_messages_and_model(stand_in: StandInService, messages: Any, model: Any) -> None:
    asyncio.run(call(stand_in, messages=messages, model=model, cookies={"s": "x"}))


@FUZZ
@given(temperature=numbers, top_p=numbers, presence=numbers, frequency=numbers)
def test_sampling_values(
    stand_in: StandInService, temperature: Any, top_p: Any, presence: Any, frequency: Any
) -> None:
    asyncio.run(
        call(
            stand_in,
            messages=[{"role": "user", "content": "x"}],
            cookies={"s": "x"},
            temperature=temperature,
            top_p=top_p,
            presence_penalty=presence,
            frequency_penalty=frequency,
        )
    )


@FUZZ
@given(cookies=cookies, headers=header_dicts)
def test_cookies_in_every_form_and_headers(
    stand_in: StandInService, cookies: Any, headers: Any
) -> None:
    asyncio.run(
        call(
            stand_in, messages=[{"role": "user", "content": "x"}], cookies=cookies, headers=headers
        )
    )


@FUZZ
@given(
    proxy=st.from_regex(r"\A(https?|socks5h?|ftp|)(://)?([a-z0-9:@%.\-\[\]]{0,30})\Z")
    | text
    | anything
)
def test_proxy_strings_are_validated_before_any_io(proxy: Any) -> None:
    try:
        options = parse_options(
            "",
            [{"role": "user", "content": "x"}],
            proxy,
            {"cookies": {"s": "x"}},
            models=["gpt-3.5-turbo"],
            default_model="gpt-3.5-turbo",
        )
    except errors.InvalidRequestError:
        event("InvalidRequestError")
        return
    event("accepted")
    assert options.proxy is None or options.proxy.split("://")[0].lower() in (
        "http",
        "https",
        "socks5",
        "socks5h",
    )


VALID_NETSCAPE = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc\n"
VALID_JSON = json.dumps(
    [{"name": "session", "value": "abc", "domain": "127.0.0.1", "expirationDate": 4102444800}]
)


@FUZZ
@given(
    body=text | st.text(alphabet="\t\n#.0123456789abcdefTRUEFALS_-", max_size=200),
    cut=st.integers(min_value=0, max_value=len(VALID_JSON)),
)
def test_cookie_file_parsers_on_random_and_truncated_files(body: str, cut: int) -> None:
    for parse, sample in (
        (parse_netscape_cookies, body),
        (parse_json_cookies, body),
        (parse_netscape_cookies, VALID_NETSCAPE[:cut]),
        (parse_json_cookies, VALID_JSON[:cut]),
    ):
        try:
            found = select_cookies(parse(sample), "http://127.0.0.1/api/text").values
        except errors.InvalidRequestError:
            continue
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in found.items())


@FUZZ
@given(
    body=st.binary(max_size=300)
    | anything.map(lambda v: json.dumps(v, default=str).encode())
    | st.fixed_dictionaries({"response": anything, "message": anything}).map(
        lambda v: json.dumps(v, default=str).encode()
    ),
    status=st.sampled_from([200, 201, 204, 206]),
)
def test_response_parser_on_random_bodies(
    stand_in: StandInService, body: bytes, status: int
) -> None:
    stand_in.push(Reply.raw(body, status=status, content_type="application/json"))

    async def main() -> None:
        try:
            answer = await Aichat.create_async(
                "",
                [{"role": "user", "content": "x"}],
                cookies={"s": "x"},
                base_url=stand_in.base_url,
                max_retries=0,
            )
        except errors.ResponseError:
            event("ResponseError")
            return
        event("answered")
        data = json.loads(body)
        assert data["response"] is True
        assert answer == data["message"]

    asyncio.run(main())
