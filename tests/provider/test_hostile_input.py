"""Hostile input ends in the documented error tree, before any I/O, and never shows a secret.

Regression tests for issue 12, items 3 (lone surrogates), 4 (secrets in messages), 6 (raw
exceptions) and 7 (header injection).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, SECRET_COOKIE, USER, assert_no_secrets, exposed_text


async def refused(service: StandInService, *args: object, **kwargs: object) -> errors.ProviderError:
    """The call's error, after checking it reached no server."""
    if "cookies_file" not in kwargs:
        kwargs.setdefault("cookies", COOKIES)
    kwargs.setdefault("base_url", service.base_url)
    kwargs.setdefault("max_retries", 0)
    messages = args[0] if args else USER
    proxy = args[1] if len(args) > 1 else None
    with pytest.raises(errors.InvalidRequestError) as caught:
        await Aichat.create_async("", messages, proxy, **kwargs)  # type: ignore[arg-type]
    assert service.requests == []
    return caught.value


# --- 3. lone surrogates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["x\ud800", "\udfff", "emoji cut \ud83d", [{"type": "text", "text": "a\udc00b"}]],
    ids=["high", "low", "half-emoji", "in-a-text-part"],
)
async def test_a_lone_surrogate_in_a_message_is_an_invalid_request(
    content: object, service: StandInService
) -> None:
    error = await refused(service, [{"role": "user", "content": content}])
    assert "surrogate" in str(error)
    assert "messages[0]" in str(error)


async def test_an_answer_with_a_cut_emoji_arrives_with_a_replacement_character(
    service: StandInService,
) -> None:
    # JSON may escape half a surrogate pair; the service's answer is what a browser would show.
    body = b'{"response": true, "message": "cut \\ud83d emoji, whole \\ud83d\\ude00"}'
    service.push(Reply.raw(body, content_type="application/json"))
    answer = await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url)
    assert answer == "cut \ufffd emoji, whole \U0001f600"
    answer.encode("utf-8")  # printable, encodable, storable


async def test_a_refusal_with_a_cut_emoji_is_readable_too(service: StandInService) -> None:
    service.push(
        Reply.raw(
            b'{"response": false, "message": "busy \\udc00"}', content_type="application/json"
        )
    )
    with pytest.raises(errors.ResponseError) as caught:
        await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url)
    assert "busy \ufffd" in str(caught.value)


# --- 4. secrets in messages --------------------------------------------------------------------


@pytest.mark.parametrize(
    "proxy",
    [
        "user:hunter2-proxy-secret@proxy.example:3128",
        "http:/user:hunter2-proxy-secret@proxy.example:3128",
        "http//user:hunter2-proxy-secret@proxy.example",
        "ftp://user:hunter2-proxy-secret@proxy.example:21",
        "http://user:hunter2-proxy-secret@proxy.example:99999",
        "http://user:hunter2-proxy-secret@",
        "http://user:hunter2-proxy-secret@proxy example:8080",
        "http://user:hunter2%2Dproxy%2Dsecret@proxy.example:bad",
    ],
)
async def test_a_bad_proxy_never_shows_its_password(proxy: str, service: StandInService) -> None:
    error = await refused(service, USER, proxy)
    text = exposed_text(error)
    assert "hunter2" not in text
    assert "proxy" in str(error)


async def test_a_cookie_string_without_a_name_is_not_quoted(service: StandInService) -> None:
    error = await refused(service, cookies=SECRET_COOKIE)
    assert_no_secrets(exposed_text(error))
    assert "name=value" in str(error)


async def test_a_relative_redirect_carrying_the_cookie_is_scrubbed(
    service: StandInService,
) -> None:
    service.push(Reply.redirect(f"/relogin?sid={SECRET_COOKIE}&next=/chat"))
    with pytest.raises(errors.ResponseStatusError) as caught:
        await Aichat.create_async(
            "", USER, cookies=COOKIES, base_url=service.base_url, max_retries=0
        )
    assert_no_secrets(exposed_text(caught.value))
    assert "/relogin" in str(caught.value)


async def test_reprs_of_the_cookie_objects_show_names_not_values(
    service: StandInService, tmp_path: Path
) -> None:
    from aichat_provider.cookies._browsers import BrowserCookies
    from aichat_provider.cookies._jar import Selected
    from aichat_provider.cookies._sources import ResolvedCookies

    shown = "\n".join(
        [
            repr(ResolvedCookies(dict(COOKIES), "argument")),
            repr(BrowserCookies(dict(COOKIES), "firefox", {}, {"session": None})),
            repr(Selected(dict(COOKIES), {})),
        ]
    )
    assert_no_secrets(shown)
    assert "session" in shown


# --- 6. no raw exceptions ---------------------------------------------------------------------


async def test_a_non_ascii_path_in_base_url_is_percent_encoded_as_a_browser_does() -> None:
    with StandInService(api_path="/%C3%A4pi-%E6%97%A5/api/text") as service:
        answer = await Aichat.create_async(
            "", USER, cookies=COOKIES, base_url=f"{service.base_url}/äpi-日"
        )
        assert answer == "echo: Hi"
        assert (
            service.requests[0].header("referer") == f"{service.base_url}/%C3%A4pi-%E6%97%A5/chat"
        )


async def test_a_non_ascii_host_in_base_url_is_sent_in_idna(service: StandInService) -> None:
    # curl resolves *.localhost to the loopback address itself: no DNS query leaves the machine.
    answer = await Aichat.create_async(
        "", USER, cookies=COOKIES, base_url=f"http://münchen.localhost:{service.port}"
    )
    assert answer == "echo: Hi"
    request = service.requests[0]
    assert request.header("host") == f"xn--mnchen-3ya.localhost:{service.port}"
    assert request.header("origin") == f"http://xn--mnchen-3ya.localhost:{service.port}"


@pytest.mark.parametrize(
    "base_url",
    ["http://exa\u200fmple.com", "http://xn--a.example\x00", "http://bad..\udc80/", "http://a b/"],
)
async def test_an_impossible_base_url_is_an_invalid_request(
    base_url: str, service: StandInService
) -> None:
    await refused(service, base_url=base_url)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", 10**400),
        ("top_p", -(10**400)),
        ("timeout", 10**400),
        ("timeout", math.inf),
        ("max_retries", 10**400),
        ("presence_penalty", math.nan),
    ],
)
async def test_extreme_numbers_are_invalid_requests(
    name: str, value: object, service: StandInService
) -> None:
    error = await refused(service, **{name: value})
    assert name in str(error)
    assert len(str(error)) < 400


@pytest.mark.parametrize("expiry", ["inf", "1e400", "9" * 400, "-inf"])
async def test_extreme_expiry_in_cookies_txt(
    expiry: str, tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(f"127.0.0.1\tFALSE\t/\tFALSE\t{expiry}\tsession\tfar-future\n")
    answer = await Aichat.create_async("", USER, cookies_file=path, base_url=service.base_url)
    assert answer == "echo: Hi"
    assert service.requests[0].cookies == {"session": "far-future"}


@pytest.mark.parametrize("expiry", [10**400, 1e308, -(10**400)])
async def test_extreme_expiry_in_a_json_export(
    expiry: float, tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies.json"
    entry = {"name": "session", "value": "v", "domain": "127.0.0.1", "expirationDate": expiry}
    path.write_text(json.dumps([entry]))
    assert await Aichat.create_async("", USER, cookies_file=path, base_url=service.base_url)
    assert service.requests[0].cookies == {"session": "v"}


async def test_a_nan_expiry_is_an_invalid_request(tmp_path: Path, service: StandInService) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text("127.0.0.1\tFALSE\t/\tFALSE\tnan\tsession\tv\n")
    error = await refused(service, cookies_file=path)
    assert "line 1" in str(error)


# --- 7. header injection -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Cookie\n", "X-A\n", "X-A\r\nX-Injected", "X A", "X-Ä", "", "Cookie\r", "\nCookie"],
    ids=repr,
)
async def test_a_header_name_with_a_line_break_or_space_is_refused(
    name: str, service: StandInService
) -> None:
    error = await refused(service, headers={name: "x=1"})
    assert "header" in str(error).lower()


@pytest.mark.parametrize("name", ["cookie", "COOKIE", "Cookie"])
async def test_a_cookie_header_in_any_case_is_refused(name: str, service: StandInService) -> None:
    error = await refused(service, headers={name: "x=1"})
    assert "cookies=" in str(error)


@pytest.mark.parametrize(
    "cookies",
    [{"session\n": "x"}, {"a b": "x"}, {"ok": "x\ny"}, {"ok": "x;evil=1"}, "a\n=b", "a=b\r\nX: y"],
    ids=repr,
)
async def test_a_cookie_name_or_value_that_would_break_the_header_is_refused(
    cookies: object, service: StandInService
) -> None:
    await refused(service, cookies=cookies)


API_KEY = "sk-header-api-key-5e1f0a"


@pytest.mark.parametrize(
    "reply",
    [
        Reply.raw(f"Bad request; you sent Authorization: Bearer {API_KEY}".encode(), status=400),
        Reply.rejected(f"token {API_KEY} is not allowed here"),
    ],
    ids=["error page", "refusal"],
)
async def test_a_header_value_echoed_by_the_service_is_scrubbed(
    reply: Reply, service: StandInService
) -> None:
    """``headers`` is a secret option (an Authorization header): the service echoing it in an
    error page or a refusal must not put it in the error's message or fields."""
    service.push(reply)
    with pytest.raises(errors.ReplyError) as caught:
        await Aichat.create_async(
            "",
            USER,
            cookies=COOKIES,
            base_url=service.base_url,
            headers={"Authorization": f"Bearer {API_KEY}"},
            max_retries=0,
        )
    assert service.requests[0].header("authorization") == f"Bearer {API_KEY}"
    text = exposed_text(caught.value)
    assert API_KEY not in text
    assert "[redacted]" in str(caught.value)


async def test_a_base_url_with_port_0_is_an_invalid_request(service: StandInService) -> None:
    """curl tried to connect to port 0, and the refusal was retried as a network failure."""
    error = await refused(service, base_url="http://127.0.0.1:0", max_retries=2)
    assert "port 0" in str(error)
    assert error.attempts == 0


@pytest.mark.parametrize(
    "base_url",
    ["http://ab%0d/", "http://cafe%41", "http://1.2.3.4%25x", "http://localhost%2F.example"],
)
async def test_a_percent_sign_in_a_host_name_is_an_invalid_request(
    base_url: str, service: StandInService
) -> None:
    """Only an IPv6 address (in brackets) has a zone after '%': curl decoded the rest and
    looked up another name, or refused it as a bad host name, a network failure retried."""
    error = await refused(service, base_url=base_url, max_retries=2)
    assert "valid host" in str(error)


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "content": [{"type": "x" * 100_000, "text": "Hi"}]},
        {"role": "r" * 100_000, "content": "Hi"},
    ],
    ids=["part type", "role"],
)
async def test_a_huge_wrong_value_is_quoted_short(
    message: dict[str, object], service: StandInService
) -> None:
    error = await refused(service, [message])
    assert "messages[0]" in str(error)
    assert len(str(error)) < 400
