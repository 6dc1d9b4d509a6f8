"""Bad input fails with a typed error before any network or file I/O."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from aichat_provider import Aichat, errors, format_prompt
from aichat_provider._urls import parse_proxy
from aichat_provider.testing import StandInService
from support.proxy import ConnectProxy
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
    ({"cookies_file": " \t"}, "cookies_file is blank"),
    ({"cookies_file": "a\x00b"}, "without NUL characters"),
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
    # curl frames the body itself: a length of its own made the server wait for bytes never sent
    ({"headers": {"Content-Length": "999"}, "timeout": 5}, "sets it from the body"),
    ({"headers": {"transfer-encoding": "gzip"}, "timeout": 5}, "sets it from the body"),
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


#: Proxy URLs whose user name or password holds a character curl reads as part of the URL's
#: structure (each tried with curl_cffi 0.17 / libcurl 8.23): curl refuses the first five with
#: "Unsupported proxy syntax" (curl 5); the last it reads, as Python does, as host ``user`` and
#: port 1234, and looks that name up. ``{port}`` is a listening socket in the proxy's place.
UNENCODED_CREDENTIALS = {
    "@ in the password": ("socks5h://user:{secret}@127.0.0.1:{port}", "pr0xy-p@ss-91ac", "@"),
    "@ in the user name": ("http://{secret}:pw@127.0.0.1:{port}", "pr0xy-p@ss-91ac", "@"),
    "/ in the password": ("http://user:{secret}@127.0.0.1:{port}", "pr0xy-p/ss-91ac", "/"),
    "? in the password": ("socks5://user:{secret}@127.0.0.1:{port}", "pr0xy-p?ss-91ac", "?"),
    "# in the password": ("http://user:{secret}@127.0.0.1:{port}", "pr0xy-p#ss-91ac", "#"),
    "digits then /": ("socks5h://user:{secret}@127.0.0.1:{port}", "1234/pr0xy-ss-91ac", "/"),
}


@pytest.fixture
def idle_proxy() -> Iterator[socket.socket]:
    """A listening socket in the proxy's place: a connection would wait in its backlog."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        yield listener


def was_connected_to(listener: socket.socket) -> bool:
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


@pytest.mark.parametrize(
    ("template", "secret", "char"), UNENCODED_CREDENTIALS.values(), ids=list(UNENCODED_CREDENTIALS)
)
async def test_proxy_credentials_curl_would_misread_are_refused_before_any_connection(
    template: str, secret: str, char: str, idle_proxy: socket.socket, service: StandInService
) -> None:
    proxy = template.format(secret=secret, port=idle_proxy.getsockname()[1])
    with pytest.raises(errors.InvalidRequestError) as caught:
        await Aichat.create_async(
            "", USER, proxy=proxy, cookies=COOKIES, base_url=service.base_url, max_retries=0
        )
    assert "percent-encode" in str(caught.value)
    assert f"{quote(char, safe='')}" in str(caught.value)  # the escape to use, e.g. %40
    text = exposed_text(caught.value)
    pieces = [piece for piece in secret.split(char) if not piece.isdigit()]  # digits: the port's?
    for part in (secret, *pieces, quote(secret, safe=""), proxy):
        assert part not in text
    assert_no_secrets(text)
    assert not was_connected_to(idle_proxy)
    assert service.requests == []


async def test_the_example_password_p_at_ss_is_never_shown(idle_proxy: socket.socket) -> None:
    proxy = f"socks5h://user:p@ss@127.0.0.1:{idle_proxy.getsockname()[1]}"
    with pytest.raises(errors.InvalidRequestError) as caught:
        parse_proxy(proxy)
    text = exposed_text(caught.value)
    for part in ("p@ss", "ss@", ":p@", "user:p", "[redacted]@ss"):
        assert part not in text
    assert "socks5h://[redacted]@127.0.0.1:" in str(caught.value)
    assert "'@' as %40" in str(caught.value)
    assert not was_connected_to(idle_proxy)


#: What else curl refuses in a proxy URL that Python's urlsplit accepts (curl 3 or 5).
CURL_REFUSES = {
    "encoded line break": ("http://user:pr0xy-passw0rd%0a91ac@127.0.0.1:{port}", "control"),
    "encoded NUL": ("http://user:pr0xy-passw0rd%0091ac@127.0.0.1:{port}", "control"),
    "! in the host": ("http://user:pr0xy-passw0rd-91ac@ho!st:{port}", "valid host"),
    "text after [::1]": ("http://[::1]x:{port}", "valid host"),
    "text before [::1]": ("http://a[::1]:{port}", "valid host"),
    "port 0": ("http://user:pr0xy-passw0rd-91ac@127.0.0.1:0", "port"),
}


@pytest.mark.parametrize(("template", "phrase"), CURL_REFUSES.values(), ids=list(CURL_REFUSES))
async def test_proxy_urls_curl_refuses_are_refused_before_any_connection(
    template: str, phrase: str, idle_proxy: socket.socket, service: StandInService
) -> None:
    proxy = template.format(port=idle_proxy.getsockname()[1])
    with pytest.raises(errors.InvalidRequestError, match=re.escape(phrase)) as caught:
        await Aichat.create_async(
            "", USER, proxy=proxy, cookies=COOKIES, base_url=service.base_url, max_retries=0
        )
    text = exposed_text(caught.value)
    assert_no_secrets(text)
    assert "pr0xy-passw0rd" not in text
    assert not was_connected_to(idle_proxy)
    assert service.requests == []


@pytest.mark.parametrize(
    "proxy",
    [
        "socks5h://user:p%40ss%2F%3F%23%3A%25@127.0.0.1:1080",
        "socks5://us%3Aer:pw@proxy.example:1080",
        "http://user:pa$&()*+,=!;~ss@proxy.example:3128",
        "http://user:50%off@proxy.example:3128",  # curl sends a stray % as it is
        "http://user@proxy.example:3128",
        "http://proxy.example:3128/",
        "http://proxy.example:",
        "HTTP://Proxy.Example",
        "http://[::1]:3128",
        "http://[fe80::1%25eth0]:3128",
    ],
)
def test_proxy_urls_curl_reads_as_written_are_accepted(proxy: str) -> None:
    assert parse_proxy(proxy) == proxy


async def test_a_percent_encoded_password_reaches_the_proxy_as_written(
    tls_service: StandInService,
) -> None:
    """What the error message advises works: the proxy gets the password, reserved characters
    and all."""
    password = "p@ss/w?rd#:%"
    with ConnectProxy(username="us:er", password=password) as proxy:
        credentials = f"{quote('us:er', safe='')}:{quote(password, safe='')}"
        answer = await Aichat.create_async(
            "",
            USER,
            proxy=f"http://{credentials}@127.0.0.1:{proxy.port}",
            cookies=COOKIES,
            base_url=tls_service.base_url,
            verify=tls_service.ca_path,
        )
        assert proxy.tunnels == [f"127.0.0.1:{tls_service.port}"]
        assert proxy.rejected_auth == 0
    assert answer == "echo: Hi"


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


@pytest.mark.parametrize(
    ("variable", "value", "phrase"),
    [
        ("AICHAT_BASE_URL", "ftp://chat.example", "http:// or https://"),
        ("AICHAT_REFRESH_COOKIES", "maybe", "True or False"),
        ("AICHAT_USER_AGENT", "Agent\x01", "printable ASCII"),
    ],
)
async def test_a_bad_environment_variable_is_named_in_the_error(
    variable: str,
    value: str,
    phrase: str,
    service: StandInService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The call gave no such argument: the message must say where the value came from."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(errors.InvalidRequestError, match=re.escape(phrase)) as caught:
        await Aichat.create_async("", USER, cookies=COOKIES)
    assert str(caught.value).startswith(f"{variable}: ")
    assert "unset" in str(caught.value)
    assert service.requests == []
