"""Which setting wins (the call, the cookie store, the environment), values at the edges of
their documented ranges, a Retry-After date already past, and secrets at the edge of an
excerpt. Each is a real call to the stand-in service."""

from __future__ import annotations

import json
from email.utils import formatdate
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors
from aichat_provider._constants import BODY_EXCERPT_CHARS
from aichat_provider.cookies._store import save_login
from aichat_provider.testing import Reply, StandInService
from support.proxy import ConnectProxy
from support.secrets import (
    COOKIES,
    PROXY_PASSWORD,
    SECRET_COOKIE,
    USER,
    assert_no_secrets,
    exposed_text,
)


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for name in ("AICHAT_DATA_DIR", "AICHAT_REFRESH_COOKIES", "AICHAT_BROWSER"):
        monkeypatch.delenv(name, raising=False)


async def ask(service: StandInService, **kwargs: object) -> str:
    options: dict[str, object] = {"base_url": service.base_url, "browser": [], "max_retries": 0}
    return await Aichat.create_async("", USER, **{**options, **kwargs})  # type: ignore[arg-type]


# --- values at the edges of their ranges ------------------------------------------------------

EDGES = [
    ("temperature", 0),
    ("temperature", 0.0),
    ("temperature", 2),
    ("top_p", 0),
    ("top_p", 1),
    ("presence_penalty", -2),
    ("presence_penalty", 2),
    ("frequency_penalty", -2.0),
    ("frequency_penalty", 2),
]


@pytest.mark.parametrize(("name", "value"), EDGES, ids=[f"{n}={v!r}" for n, v in EDGES])
async def test_each_documented_edge_is_accepted_and_sent_as_given(
    name: str, value: float, service: StandInService
) -> None:
    assert await ask(service, cookies=COOKIES, **{name: value}) == "echo: Hi"
    assert json.loads(service.requests[0].body)[name] == value


OUTSIDE = [
    ("temperature", -0.001),
    ("temperature", 2.001),
    ("top_p", 1.001),
    ("top_p", -0.001),
    ("presence_penalty", -2.001),
    ("frequency_penalty", 2.001),
    ("temperature", True),
]


@pytest.mark.parametrize(("name", "value"), OUTSIDE, ids=[f"{n}={v!r}" for n, v in OUTSIDE])
async def test_just_outside_an_edge_is_refused_before_any_request(
    name: str, value: object, service: StandInService
) -> None:
    with pytest.raises(errors.InvalidRequestError, match=name):
        await ask(service, cookies=COOKIES, **{name: value})
    assert service.requests == []


# --- the call, the store and the environment ---------------------------------------------------


async def test_the_calls_own_arguments_beat_the_environment(
    tmp_path: Path, service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_environment = tmp_path / "environment.json"
    from_environment.write_text(
        json.dumps([{"name": "session", "value": "from-environment", "domain": "127.0.0.1"}])
    )
    from_call = tmp_path / "call.json"
    from_call.write_text(
        json.dumps([{"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1"}])
    )
    monkeypatch.setenv("AICHAT_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(from_environment))
    monkeypatch.setenv("AICHAT_USER_AGENT", "Environment/1.0")
    await ask(service, cookies_file=from_call, user_agent="Call/1.0")
    request = service.requests[0]
    assert request.cookies == {"session": SECRET_COOKIE}
    assert request.header("user-agent") == "Call/1.0"


def store_login(service: StandInService, user_agent: str | None) -> None:
    save_login(
        host="127.0.0.1",
        base_url=service.base_url,
        cookies=[{"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1"}],
        user_agent=user_agent,
        browser="chromium",
    )


@pytest.mark.parametrize(
    ("call", "stored", "environment", "sent"),
    [
        ("Call/1.0", "Stored/1.0", "Environment/1.0", "Call/1.0"),
        (None, "Stored/1.0", "Environment/1.0", "Stored/1.0"),
        (None, None, "Environment/1.0", "Environment/1.0"),
        ("Call/1.0", None, None, "Call/1.0"),
    ],
    ids=["call-wins", "store-beats-environment", "environment-alone", "call-alone"],
)
async def test_user_agent_precedence_is_call_then_store_then_environment(
    call: str | None,
    stored: str | None,
    environment: str | None,
    sent: str,
    service: StandInService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store keeps the user agent that earned its cf_clearance, which the environment's
    must not replace; only the call itself may."""
    store_login(service, stored)
    if environment is not None:
        monkeypatch.setenv("AICHAT_USER_AGENT", environment)
    await ask(service, **({} if call is None else {"user_agent": call}))
    assert service.requests[0].cookies == {"session": SECRET_COOKIE}
    assert service.requests[0].header("user-agent") == sent


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", "off", ""])
async def test_refresh_cookies_switched_off_in_the_environment_is_off(
    value: str, service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHAT_REFRESH_COOKIES", value)
    service.push(Reply.status(401))
    with pytest.raises(errors.AuthenticationError) as caught:
        await ask(service, cookies=COOKIES)
    assert "automatic refresh" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "reply"),
    [
        ("true", Reply.status(401)),
        ("1", Reply.status(403)),
        ("yes", Reply.cloudflare()),
        ("on", Reply.cloudflare(503, header=False)),
    ],
)
async def test_refresh_cookies_switched_on_in_the_environment_tries_the_refresh(
    value: str, reply: Reply, service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On, rejected cookies or a challenge try the refresh, which here has no login profile."""
    monkeypatch.setenv("AICHAT_REFRESH_COOKIES", value)
    service.push(reply)
    with pytest.raises((errors.AuthenticationError, errors.CloudflareError)) as caught:
        await ask(service, cookies=COOKIES)
    assert "automatic refresh did not help" in str(caught.value)
    assert "no login profile" in str(caught.value)


async def test_the_refresh_needs_this_hosts_own_login_profile(
    home: Path, service: StandInService
) -> None:
    """Another host's login profile is no reason to start a browser for this one."""
    from aichat_provider.cookies._store import browser_profile_dir

    browser_profile_dir("elsewhere.example").mkdir(parents=True)
    service.push(Reply.status(401))
    with pytest.raises(errors.AuthenticationError) as caught:
        await ask(service, cookies=COOKIES, refresh_cookies=True)
    assert "there is no login profile for 127.0.0.1" in str(caught.value)


async def test_refresh_cookies_false_in_the_call_beats_the_environment(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHAT_REFRESH_COOKIES", "true")
    service.push(Reply.status(401))
    with pytest.raises(errors.AuthenticationError) as caught:
        await ask(service, cookies=COOKIES, refresh_cookies=False)
    assert "automatic refresh" not in str(caught.value)


# --- Retry-After --------------------------------------------------------------------------


async def test_a_retry_after_date_in_the_past_means_now_never_a_negative_wait(
    service: StandInService,
) -> None:
    past = formatdate(1_000_000_000, usegmt=True)  # 2001
    service.push(Reply.status(429, retry_after=past))
    with pytest.raises(errors.RateLimitError) as caught:
        await ask(service, cookies=COOKIES)
    assert caught.value.retry_after == 0
    assert "retry after 0 s" in str(caught.value)
    assert "-" not in str(caught.value).split("retry after", 1)[1]
    # and a retry goes at once, with no wait
    service.push(Reply.status(429, retry_after=past))
    assert await ask(service, cookies=COOKIES, max_retries=1) == "echo: Hi"


# --- secrets at the edges -----------------------------------------------------------------


@pytest.mark.parametrize("shift", [5, len(SECRET_COOKIE) - 4])
async def test_a_secret_cut_by_the_excerpts_end_is_removed_whole(
    shift: int, service: StandInService
) -> None:
    """The excerpt is scrubbed before it is cut: cut first, the part of a cookie value before
    the cut would no longer match and would be shown (its first ``shift`` characters)."""
    start = BODY_EXCERPT_CHARS - 3 - shift  # the cut falls ``shift`` characters into it
    body = ("x" * start + SECRET_COOKIE + " tail" * 50).encode()
    service.push(Reply.status(500, body=body))
    with pytest.raises(errors.ResponseStatusError) as caught:
        await ask(service, cookies=COOKIES)
    excerpt = caught.value.body_excerpt or ""
    assert SECRET_COOKIE[:4] not in excerpt
    assert_no_secrets(exposed_text(caught.value))


@pytest.mark.parametrize(
    "reply",
    [
        Reply.status(500, body=f"proxy said {PROXY_PASSWORD}".encode()),
        Reply(200, f"<html>{PROXY_PASSWORD}</html>".encode(), (("Content-Type", "text/html"),)),
        Reply.json({"response": False, "message": f"bad proxy {PROXY_PASSWORD}"}),
    ],
    ids=["error-status", "not-json", "refusal"],
)
async def test_a_proxy_password_echoed_by_the_service_is_scrubbed(
    reply: Reply, tls_service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    """The call's proxy password is one of the secrets every message is scrubbed of, whatever
    the service sends back."""
    tls_service.push(reply)
    with ConnectProxy(username="user", password=PROXY_PASSWORD) as proxy:
        with pytest.raises(errors.ProviderError) as caught:
            await Aichat.create_async(
                "",
                USER,
                proxy=proxy.url,
                cookies=COOKIES,
                base_url=tls_service.base_url,
                verify=tls_service.ca_path,
                max_retries=0,
            )
        assert proxy.tunnels == [f"127.0.0.1:{tls_service.port}"]
    assert "[redacted]" in exposed_text(caught.value)
    assert_no_secrets(exposed_text(caught.value, debug_logs))


# --- what a reply's status means --------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_a_challenge_page_is_a_challenge_and_not_retried_whatever_its_status(
    status: int, service: StandInService
) -> None:
    """Cloudflare also challenges with 429 and 503, which would otherwise mean "wait and
    retry"; retrying cannot pass a challenge."""
    service.push(Reply.cloudflare(status, header=False))
    with pytest.raises(errors.CloudflareError) as caught:
        await ask(service, cookies=COOKIES, max_retries=2)
    assert caught.value.status_code == status
    assert len(service.requests) == 1


async def test_a_retry_after_date_without_a_zone_is_not_guessed(service: StandInService) -> None:
    """HTTP dates are GMT; ``-0000`` means "zone unknown", which is not read as local time."""
    service.push(Reply.status(429, retry_after="Wed, 21 Oct 2099 07:28:00 -0000"))
    with pytest.raises(errors.RateLimitError) as caught:
        await ask(service, cookies=COOKIES)
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("location", "shown", "hidden"),
    [
        ("http://elsewhere.example/login?sid=a1b2c3d4e5&next=/chat", "elsewhere.example", "a1b2"),
        (f"/login/{SECRET_COOKIE}", "/login/[redacted]", SECRET_COOKIE),
    ],
    ids=["query", "cookie-in-path"],
)
async def test_a_redirect_names_where_it_goes_without_its_query_or_a_secret(
    location: str, shown: str, hidden: str, service: StandInService
) -> None:
    service.push(Reply.redirect(location, 302))
    with pytest.raises(errors.ResponseStatusError) as caught:
        await ask(service, cookies=COOKIES)
    assert f"redirecting to {shown};" in str(caught.value)
    assert hidden not in exposed_text(caught.value)


# --- more options at their edges ------------------------------------------------------------


async def test_an_empty_environment_variable_counts_as_unset(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``export AICHAT_USER_AGENT=`` (or a cookies file of "") is no setting at all."""
    monkeypatch.setenv("AICHAT_USER_AGENT", "")
    monkeypatch.setenv("AICHAT_COOKIES_FILE", "")
    monkeypatch.setenv("AICHAT_BASE_URL", "")
    assert await ask(service, cookies=COOKIES) == "echo: Hi"
    assert "Chrome/" in (service.requests[0].header("user-agent") or "")


@pytest.mark.parametrize("name", ["cookie", "COOKIE", "Cookie"])
async def test_a_cookie_header_in_any_case_is_refused(name: str, service: StandInService) -> None:
    with pytest.raises(errors.InvalidRequestError, match="cookies="):
        await ask(service, cookies=COOKIES, headers={name: f"session={SECRET_COOKIE}"})
    assert service.requests == []


async def test_max_retries_has_an_upper_limit(service: StandInService) -> None:
    from aichat_provider._constants import MAX_RETRIES_LIMIT

    assert await ask(service, cookies=COOKIES, max_retries=MAX_RETRIES_LIMIT) == "echo: Hi"
    with pytest.raises(errors.InvalidRequestError, match="max_retries"):
        await ask(service, cookies=COOKIES, max_retries=MAX_RETRIES_LIMIT + 1)
    assert len(service.requests) == 1
