"""Property-based tests: whatever the input, a typed error or a correct result, nothing else."""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from http.cookiejar import CookieJar
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from aichat_provider import Aichat, errors
from aichat_provider._options import OPTIONS, parse_options
from aichat_provider.cookies._argument import cookies_from_argument
from aichat_provider.cookies._files import parse_json_cookies, parse_netscape_cookies
from aichat_provider.cookies._jar import select_cookies
from aichat_provider.testing import Reply, StandInService
from support.secrets import cookie_jar

#: 150 examples a test in CI; FUZZ_EXAMPLES=5000 for a deeper run.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

#: Any code point, lone surrogates and control characters included, with the troublemakers
#: drawn often.
hostile_char = st.characters(exclude_categories=()) | st.sampled_from(
    ["\ud800", "\udfff", "\ud83d", "\n", "\r", "\x00", "\x7f", "\u2028", "\t", ";", "=", "@", ":"]
)
hostile_text = st.text(alphabet=hostile_char, max_size=40)
text = st.text(max_size=40) | hostile_text
#: Text as a file holds it; a lone surrogate becomes the invalid UTF-8 a careless writer leaves.
text_bytes = text.map(lambda value: value.encode("utf-8", "surrogatepass"))
extreme_numbers = (
    st.sampled_from(
        [
            10**400,
            -(10**400),
            2**63,
            -(2**63),
            1e308,
            -1e308,
            math.inf,
            -math.inf,
            math.nan,
            0,
            -0.0,
        ]
    )
    | st.integers()
    | st.floats()
)
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
    | extreme_numbers
    | anything
)
cookie_names = st.text(min_size=1, max_size=12) | hostile_text
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
header_names = (
    st.sampled_from(["X-A", "Accept", "x-b", "Cookie", "cookie\n", "X-A\n", "X-A\r\nX-B", "X A"])
    | token.map(lambda name: name + "\n")
    | hostile_text
)
header_dicts = (
    st.none()
    | st.dictionaries(st.sampled_from(["X-A", "Accept", "x-b"]), token)
    | st.dictionaries(header_names, text | anything, max_size=3)
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


def record(name: str) -> None:
    """Hypothesis's event(), also usable from a plain test."""
    if currently_in_test_context():
        event(name)


async def call(stand_in: StandInService, *, valid: bool | None = None, **kwargs: Any) -> None:
    """The call succeeds (with the echo answer) or raises InvalidRequestError, nothing else; or,
    once its timeout has really run out, ProviderTimeoutError (a loaded machine can take longer
    than a few milliseconds to answer). With ``valid`` known, a refusal must match it: a value
    inside its documented range is accepted, one outside refused."""
    options = {
        "base_url": stand_in.base_url,
        "max_retries": 0,
        "timeout": 10,
        "browser": [],
        **kwargs,
    }
    started = time.monotonic()
    try:
        answer = await Aichat.create_async(
            options.pop("model", ""), options.pop("messages"), **options
        )
    except errors.InvalidRequestError as error:
        if valid is True:
            pytest.fail(f"refused a value inside its documented range: {error}")
        record("InvalidRequestError")
        return
    except errors.ProviderTimeoutError:
        assert valid is not False, "a value outside its documented range reached the network"
        assert time.monotonic() - started >= float(options["timeout"]), "ended before its deadline"
        record("ProviderTimeoutError")
        return
    except errors.MissingCookiesError:
        # only a cookies argument that holds no cookie (None, {}, "", " ; ") may end here
        given = kwargs.get("cookies")
        assert given is None or not cookies_from_argument(given, url=stand_in.url)
        record("MissingCookiesError")
        return
    assert valid is not False, "accepted a value outside its documented range"
    record("answered")
    assert answer.startswith("echo: ")


#: The documented ranges of the numeric arguments (the README's argument table, the OPTIONS
#: help text, the error messages), written out here rather than read from the code under test:
#: name -> (low, high, whether low itself is allowed).
RANGES: dict[str, tuple[float, float, bool]] = {
    "temperature": (0, 2, True),
    "top_p": (0, 1, True),
    "presence_penalty": (-2, 2, True),
    "frequency_penalty": (-2, 2, True),
    "timeout": (0, 86400, False),
    "max_retries": (0, 100, True),
}


def documented(name: str, value: Any) -> bool:
    """Whether ``value`` is inside the documented range of argument ``name`` (None is the
    default, always valid; max_retries takes whole numbers only)."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if name == "max_retries" and not isinstance(value, int):
        return False
    low, high, low_allowed = RANGES[name]
    # exact comparisons: a NaN is in no range, an int too large for a float is compared exactly
    return (low < value or (low_allowed and value == low)) and value <= high


def around(name: str) -> st.SearchStrategy[Any]:
    """Values of ``name`` inside its range (the ends included) about as often as outside."""
    low, high, _ = RANGES[name]
    ends = [low, high, float(low), float(high), -0.0 if low == 0 else low]
    outside = [math.nextafter(low, -math.inf), math.nextafter(high, math.inf), low - 1, high + 1]
    inside = st.sampled_from(ends) | st.floats(min_value=low, max_value=high)
    if name == "max_retries":
        inside = st.integers(min_value=int(low), max_value=int(high))
    return inside | st.sampled_from(outside) | numbers


@pytest.mark.parametrize("name", ["temperature", "top_p", "presence_penalty", "frequency_penalty"])
def test_ranges_here_are_the_documented_ones(name: str) -> None:
    """The ranges this file checks against are the ones the help text (README, --help) gives."""
    low, high, _ = RANGES[name]
    (option,) = [option for option in OPTIONS if option.name == name]
    assert f"{low:g} to {high:g}" in option.help


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param(name, value, id=f"{name}={value!r}")
        for name, (low, high, _) in RANGES.items()
        for value in (
            *(low, high, float(low), float(high), (low + high) / 2, -0.0),
            *(math.nextafter(low, -math.inf), math.nextafter(high, math.inf), math.nan, True),
        )
    ],
)
def test_documented_range_ends(stand_in: StandInService, name: str, value: Any) -> None:
    """Both ends of each documented range are accepted (temperature=0 included) and the nearest
    values outside refused: a refusal is only right outside the range."""
    asyncio.run(
        call(
            stand_in,
            valid=documented(name, value),
            messages=[{"role": "user", "content": "x"}],
            cookies={"s": "x"},
            **{name: value},
        )
    )


@FUZZ
@given(messages=messages, model=st.sampled_from(["", "gpt-3.5-turbo"]) | text | anything)
def test_messages_and_model(stand_in: StandInService, messages: Any, model: Any) -> None:
    asyncio.run(call(stand_in, messages=messages, model=model, cookies={"s": "x"}))


@FUZZ
@given(
    temperature=around("temperature"),
    top_p=around("top_p"),
    presence=around("presence_penalty"),
    frequency=around("frequency_penalty"),
)
def test_sampling_values(
    stand_in: StandInService, temperature: Any, top_p: Any, presence: Any, frequency: Any
) -> None:
    """Accepted exactly when every value is inside its documented range, refused otherwise."""
    values = {
        "temperature": temperature,
        "top_p": top_p,
        "presence_penalty": presence,
        "frequency_penalty": frequency,
    }
    asyncio.run(
        call(
            stand_in,
            valid=all(documented(name, value) for name, value in values.items()),
            messages=[{"role": "user", "content": "x"}],
            cookies={"s": "x"},
            **values,
        )
    )


@FUZZ
@given(name=st.sampled_from(sorted(RANGES)), data=st.data())
def test_one_numeric_value(stand_in: StandInService, name: str, data: st.DataObject) -> None:
    """One argument at a time, so values inside a range are drawn often: each is accepted,
    each outside refused."""
    value = data.draw(around(name))
    valid = documented(name, value)
    # a tiny valid timeout may really run out: the call then ends in ProviderTimeoutError
    asyncio.run(
        call(
            stand_in,
            valid=valid,
            messages=[{"role": "user", "content": "x"}],
            cookies={"s": "x"},
            **{name: value},
        )
    )


@FUZZ
@given(
    field=st.sampled_from(
        ["model", "user_agent", "impersonate", "base_url", "proxy", "cookies_file", "browser"]
    ),
    value=hostile_text | anything,
)
def test_hostile_text_in_every_text_field(stand_in: StandInService, field: str, value: Any) -> None:
    """Surrogates, control characters and line breaks in any text argument: an answer or
    InvalidRequestError, never a raw exception (and never a request with the bad value)."""
    kwargs: dict[str, Any] = {"messages": [{"role": "user", "content": "x"}], "cookies": {"s": "x"}}
    if field == "base_url":
        asyncio.run(call_anywhere(stand_in, base_url=value, **kwargs))
        return
    kwargs[field] = value
    asyncio.run(call(stand_in, **kwargs))


async def call_anywhere(stand_in: StandInService, **kwargs: Any) -> None:
    """A call whose base_url is fuzzed: refused before I/O, or sent to a valid URL (which may
    refuse, or not exist: a typed error either way, and no DNS query leaves the machine since
    a base_url that names no loopback host goes through a dead proxy)."""
    try:
        await Aichat.create_async(
            "",
            kwargs.pop("messages"),
            "http://127.0.0.1:9",  # nothing listens there: no request leaves the machine
            max_retries=0,
            timeout=5,
            browser=[],
            **kwargs,
        )
    except errors.InvalidRequestError:
        event("InvalidRequestError")
    except errors.ProviderError as error:
        event(type(error).__name__)


@FUZZ
@given(
    role=st.sampled_from(["system", "user", "assistant"]) | hostile_text,
    content=hostile_text,
    parts=st.lists(hostile_text, max_size=3),
)
def test_hostile_text_in_messages(
    stand_in: StandInService, role: str, content: str, parts: list[str]
) -> None:
    messages = [
        {"role": "system", "content": content},
        {"role": "user", "content": [{"type": "text", "text": part} for part in parts]},
        {"role": role, "content": content},
    ]
    asyncio.run(call(stand_in, messages=messages, cookies={"s": "x"}))


@FUZZ
@given(timeout=around("timeout"), max_retries=around("max_retries"))
def test_extreme_timeouts_and_retry_counts(
    stand_in: StandInService, timeout: Any, max_retries: Any
) -> None:
    asyncio.run(
        call(
            stand_in,
            valid=documented("timeout", timeout) and documented("max_retries", max_retries),
            messages=[{"role": "user", "content": "x"}],
            cookies={"s": "x"},
            timeout=timeout,
            max_retries=max_retries,
        )
    )


FILE_KINDS = [
    "regular",
    "empty",
    "binary",
    "directory",
    "fifo",
    "socket",
    "symlink-to-fifo",
    "dangling-symlink",
    "dev-null",
    "dev-zero",
]


@FUZZ
@given(kind=st.sampled_from(FILE_KINDS), body=st.binary(max_size=200) | text_bytes)
def test_odd_cookies_file_kinds(stand_in: StandInService, kind: str, body: bytes) -> None:
    """Whatever sits at the path, the call answers or refuses at once; it never blocks."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "cookies")
        if kind in ("regular", "binary"):
            with open(path, "wb") as file:
                file.write(body if kind == "binary" else b"127.0.0.1\tFALSE\t/\tFALSE\t0\ts\tx\n")
        elif kind == "empty":
            open(path, "wb").close()
        elif kind == "directory":
            os.mkdir(path)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "socket":
            listener = socket.socket(socket.AF_UNIX)
            listener.bind(path)
            listener.close()
        elif kind == "symlink-to-fifo":
            os.mkfifo(path + ".fifo")
            os.symlink(path + ".fifo", path)
        elif kind == "dangling-symlink":
            os.symlink(path + ".missing", path)
        else:
            path = "/dev/null" if kind == "dev-null" else "/dev/zero"
        if os.path.exists(path) and stat.S_ISFIFO(os.stat(path).st_mode):
            event("fifo")

        async def main() -> None:
            try:
                answer = await asyncio.wait_for(
                    Aichat.create_async(
                        "",
                        [{"role": "user", "content": "x"}],
                        cookies_file=path,
                        base_url=stand_in.base_url,
                        browser=[],
                        max_retries=0,
                    ),
                    10,
                )
            except (errors.InvalidRequestError, errors.MissingCookiesError) as error:
                event(type(error).__name__)
                return
            assert answer == "echo: x"

        asyncio.run(main())


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
    | st.fixed_dictionaries({"response": st.just(True), "message": hostile_text}).map(
        lambda v: json.dumps(v).encode()
    )
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
        # lone surrogates (JSON escapes half an emoji) arrive as U+FFFD, as a browser shows them
        expected = data["message"].encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        assert answer == expected
        answer.encode("utf-8")

    asyncio.run(main())
