"""Every row of the contract's error table, driven by a real fault of a real server.

Each test asserts the exception class, its fields and message, that the call ended on time, and
that no cookie value or proxy password is in the exception, its traceback or any DEBUG log line.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider import Aichat, StreamSession, errors
from aichat_provider._session import _curl_seconds
from aichat_provider.testing import Reply, StandInService
from support.proxy import ConnectProxy
from support.secrets import COOKIES, PROXY_PASSWORD, USER, assert_no_secrets, exposed_text


async def fail(service: StandInService, **kwargs: object) -> errors.ProviderError:
    kwargs.setdefault("cookies", COOKIES)
    kwargs.setdefault("base_url", service.base_url)
    kwargs.setdefault("max_retries", 0)
    if service.ca_path:
        kwargs.setdefault("verify", service.ca_path)
    with pytest.raises(errors.ProviderError) as caught:
        await Aichat.create_async("gpt-3.5-turbo", USER, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# --- non-2xx statuses ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_cookies_raise_authentication_error(
    status: int, service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    service.push(Reply.json({"error": "invalid session"}, status=status))
    error = await fail(service)
    assert type(error) is errors.AuthenticationError
    assert isinstance(error, errors.ResponseStatusError)
    assert error.status_code == status
    assert "invalid session" in error.body_excerpt
    assert "Run 'aichat login'" in str(error)
    assert "log in to 127.0.0.1" in str(error)
    assert_no_secrets(exposed_text(error, debug_logs))


@pytest.mark.parametrize(
    ("status", "header"), [(403, True), (503, True), (403, False), (503, False)]
)
async def test_cloudflare_challenge_raises_cloudflare_error_with_advice(
    status: int, header: bool, service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    service.set_default(Reply.cloudflare(status, header=header))
    error = await fail(service, max_retries=2)
    assert type(error) is errors.CloudflareError
    assert error.status_code == status
    assert "Just a moment" in error.body_excerpt
    assert "Run 'aichat login'" in str(error)
    assert "user agent" in str(error)
    assert "cf_clearance" in str(error)
    assert len(service.requests) == 1  # a challenge is not retried
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_the_cf_mitigated_header_alone_marks_a_challenge(service: StandInService) -> None:
    """Cloudflare's header decides even when the page is not the usual one (another language,
    a custom block page): the user still gets the advice, not a bare 403."""
    service.set_default(
        Reply(403, b"<html>Zugriff verweigert</html>", (("cf-mitigated", "challenge"),))
    )
    error = await fail(service)
    assert type(error) is errors.CloudflareError
    assert "Run 'aichat login'" in str(error)


async def test_rate_limit_with_a_long_retry_after_is_raised_at_once(
    service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    service.set_default(Reply.status(429, retry_after=120, body=b"slow down"))
    started = time.monotonic()
    error = await fail(service, max_retries=2)
    assert time.monotonic() - started < 5
    assert type(error) is errors.RateLimitError
    assert error.status_code == 429
    assert error.retry_after == 120
    assert error.body_excerpt == "slow down"
    assert "120" in str(error)
    assert len(service.requests) == 1
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_rate_limit_retry_after_as_http_date(service: StandInService) -> None:
    from email.utils import formatdate

    service.push(Reply.status(429, retry_after=formatdate(time.time() + 90, usegmt=True)))
    error = await fail(service)
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after is not None
    assert 80 < error.retry_after <= 90


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_other_client_errors_raise_response_status_error(
    status: int, service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    service.push(Reply.status(status, body=b"bad request: field 'message' missing"))
    error = await fail(service, max_retries=2)
    assert type(error) is errors.ResponseStatusError
    assert error.status_code == status
    assert "field 'message' missing" in error.body_excerpt
    assert f"HTTP {status}" in str(error)
    assert len(service.requests) == 1  # a 4xx is not retried
    assert_no_secrets(exposed_text(error, debug_logs))


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_raise_response_status_error(
    status: int, service: StandInService
) -> None:
    service.set_default(Reply.status(status, body=b"upstream trouble"))
    error = await fail(service)
    assert type(error) is errors.ResponseStatusError
    assert error.status_code == status
    assert "try again later" in str(error)


async def test_error_page_that_echoes_the_cookie_header_is_scrubbed(
    service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    reflected = f"Bad request. You sent: Cookie: session={COOKIES['session']}".encode()
    service.push(Reply.status(400, body=reflected))
    error = await fail(service)
    assert isinstance(error, errors.ResponseStatusError)
    assert "[redacted]" in error.body_excerpt
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_long_body_excerpt_is_short(service: StandInService) -> None:
    service.push(Reply.status(400, body=b"x" * 100_000))
    error = await fail(service)
    assert isinstance(error, errors.ResponseStatusError)
    assert len(error.body_excerpt) <= 200


# --- redirects -------------------------------------------------------------------------------


async def test_redirect_to_another_host_is_not_followed(
    service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    with StandInService() as elsewhere:
        target = f"http://localhost:{elsewhere.port}/api/text"
        service.push(Reply.redirect(target, 307))
        error = await fail(service)
        assert elsewhere.requests == []
    assert type(error) is errors.ResponseStatusError
    assert error.status_code == 307
    assert "localhost" in str(error)
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_redirect_to_the_same_host_is_not_followed_either(service: StandInService) -> None:
    service.push(Reply.redirect("/api/other", 302))
    error = await fail(service)
    assert isinstance(error, errors.ResponseStatusError)
    assert error.status_code == 302
    assert len(service.requests) == 1


# --- 2xx replies that are not the answer ---------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "phrase"),
    [
        (Reply.html(), "not JSON"),
        (Reply.raw(b""), "empty body"),
        (Reply.raw(b'{"response": true, "message": ', content_type="application/json"), "not JSON"),
        (Reply.json(["a", "list"]), "instead of an object"),
        (Reply.json({"response": True}), "no answer text"),
        (Reply.json({"response": True, "message": 42}), "no answer text"),
        (Reply.json({"message": "no response flag"}), "reported a failure"),
    ],
    ids=[
        "html",
        "empty",
        "invalid-json",
        "json-list",
        "missing-message",
        "number-message",
        "missing-response-flag",
    ],
)
async def test_unexpected_2xx_bodies_raise_response_error(
    reply: Reply, phrase: str, service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    service.push(reply)
    error = await fail(service)
    assert type(error) is errors.ResponseError
    assert error.status_code == 200
    assert phrase in str(error)
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_response_false_includes_the_services_own_text(service: StandInService) -> None:
    service.push(Reply.rejected("Your daily quota is used up."))
    error = await fail(service)
    assert type(error) is errors.ResponseError
    assert "Your daily quota is used up." in str(error)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_the_cap_is_refused_while_reading(
    chunked: bool, service: StandInService
) -> None:
    service.push(Reply.oversize(17 * 1024 * 1024, chunked=chunked))
    error = await fail(service)
    assert type(error) is errors.ResponseError
    assert "is larger than 16 MiB and was refused" in str(error)


async def test_compressed_body_over_the_cap_is_refused_after_decoding(
    service: StandInService,
) -> None:
    bomb = Reply(
        body=b'{"response": true, "message": "' + b"a" * (20 * 1024 * 1024) + b'"}',
        encoding="gzip",
    )
    service.push(bomb)
    error = await fail(service)
    assert type(error) is errors.ResponseError
    assert "is larger than 16 MiB and was refused" in str(error)


# --- time-outs -------------------------------------------------------------------------------


async def test_server_that_never_answers_times_out_on_time(
    service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    service.set_default(Reply.hang())
    started = time.monotonic()
    error = await fail(service, timeout=0.5, max_retries=2)
    elapsed = time.monotonic() - started
    assert type(error) is errors.ProviderTimeoutError
    assert isinstance(error, TimeoutError)
    assert 0.4 < elapsed < 2.0  # timeouts are not retried
    assert "0.5 s" in str(error)
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_a_timeout_under_a_millisecond_is_still_a_deadline(service: StandInService) -> None:
    """curl counts whole milliseconds and reads 0 as "no limit": 0.0005 s must not mean forever."""
    service.set_default(Reply.hang())
    for timeout in (0.0005, 1e-9):
        error = await asyncio.wait_for(fail(service, timeout=timeout), 5)
        assert type(error) is errors.ProviderTimeoutError
        assert f"{timeout:g} s" in str(error)


@pytest.mark.slow
async def test_trickling_body_is_cut_off_at_the_timeout(service: StandInService) -> None:
    service.push(Reply.trickle(0.05, "a slow answer that takes several seconds to arrive"))
    started = time.monotonic()
    error = await fail(service, timeout=0.6)
    assert type(error) is errors.ProviderTimeoutError
    assert time.monotonic() - started < 2.0


async def test_slow_but_complete_answer_within_the_timeout_succeeds(
    service: StandInService,
) -> None:
    service.push(Reply.delayed(0.3))
    answer = await Aichat.create_async(
        "", USER, cookies=COOKIES, base_url=service.base_url, timeout=5
    )
    assert answer == "echo: Hi"


# --- connection failures ---------------------------------------------------------------------


async def test_connection_refused(closed_port: int, debug_logs: pytest.LogCaptureFixture) -> None:
    with pytest.raises(errors.ProviderConnectionError) as caught:
        await Aichat.create_async(
            "", USER, cookies=COOKIES, max_retries=0, base_url=f"http://127.0.0.1:{closed_port}"
        )
    assert isinstance(caught.value, ConnectionError)
    message = str(caught.value)
    # curl's own words, without curl_cffi's boilerplate around them
    assert message.startswith("Could not talk to 127.0.0.1 (curl error 7: Failed to connect to ")
    assert "curl: (7)" not in message
    assert "See https://" not in message
    assert_no_secrets(exposed_text(caught.value, debug_logs))


async def test_reset_connection(service: StandInService) -> None:
    service.push(Reply.reset())
    error = await fail(service)
    assert type(error) is errors.ProviderConnectionError


async def test_closed_without_reply(service: StandInService) -> None:
    service.push(Reply.close())
    error = await fail(service)
    assert type(error) is errors.ProviderConnectionError


async def test_truncated_body(service: StandInService) -> None:
    service.push(Reply.truncated())
    error = await fail(service)
    assert type(error) is errors.ProviderConnectionError
    assert "closed before the whole reply" in str(error)


async def test_unresolvable_host() -> None:
    with pytest.raises(errors.ProviderConnectionError) as caught:
        await Aichat.create_async(
            "",
            USER,
            cookies=COOKIES,
            max_retries=0,
            # a 64-character label: refused by the resolver without a query leaving the machine
            base_url="https://" + "a" * 64 + ".example",
        )
    assert "could not be resolved" in str(caught.value)
    assert caught.value.transient is True


async def test_an_unresolvable_proxy_never_shows_its_password(
    tls_service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    proxy = f"http://user:{PROXY_PASSWORD}@{'b' * 64}.example:3128"
    error = await fail(tls_service, proxy=proxy)
    assert type(error) is errors.ProviderConnectionError
    assert f"The proxy http://[redacted]@{'b' * 64}.example:3128 failed" in str(error)
    assert tls_service.requests == []
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_self_signed_certificate_fails_with_verification_on(
    tls_service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    error = await fail(tls_service, verify=True, max_retries=2)
    assert type(error) is errors.ProviderConnectionError
    assert "TLS" in str(error)
    assert "verify=" in str(error)
    assert len(tls_service.requests) == 0
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_certificate_for_another_hostname_fails() -> None:
    with StandInService(tls=True, tls_hostnames=["other.example"]) as stand_in:
        error = await fail(stand_in)
        assert stand_in.requests == []
    assert type(error) is errors.ProviderConnectionError
    assert "TLS" in str(error)


async def test_a_file_that_is_no_ca_bundle_is_a_tls_error_not_worth_retrying(
    tls_service: StandInService, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    error = await fail(tls_service, verify=str(bundle), max_retries=2)
    assert type(error) is errors.ProviderConnectionError
    assert "TLS with 127.0.0.1 failed" in str(error)
    assert error.transient is False  # the same file fails the same way every time
    assert tls_service.requests == []
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_a_stream_session_made_without_arguments_verifies_tls(
    tls_service: StandInService, closed_port: int
) -> None:
    """``StreamSession`` is public: its defaults are the safe ones, and its GET maps transport
    failures like its POST does."""
    async with StreamSession() as session:
        with pytest.raises(errors.ProviderConnectionError) as untrusted:
            await session.post_json(f"{tls_service.base_url}/api/text", {}, headers={})
        with pytest.raises(errors.ProviderConnectionError) as refused:
            await session.get(f"http://127.0.0.1:{closed_port}/")
    assert "TLS with 127.0.0.1 failed" in str(untrusted.value)
    assert "Could not talk to 127.0.0.1" in str(refused.value)
    assert tls_service.requests == []


async def test_verify_false_connects_and_logs_a_warning(
    tls_service: StandInService, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await Aichat.create_async(
        "", USER, cookies=COOKIES, base_url=tls_service.base_url, verify=False
    )
    assert answer == "echo: Hi"
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert any("verification is off" in r.getMessage() for r in warnings)


# --- proxies ---------------------------------------------------------------------------------


async def test_proxy_with_password_carries_the_request(
    tls_service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    with ConnectProxy(username="user", password=PROXY_PASSWORD) as proxy:
        answer = await Aichat.create_async(
            "",
            USER,
            proxy=proxy.url,
            cookies=COOKIES,
            base_url=tls_service.base_url,
            verify=tls_service.ca_path,
        )
        assert proxy.tunnels == [f"127.0.0.1:{tls_service.port}"]
    assert answer == "echo: Hi"
    assert_no_secrets(debug_logs.text)


async def test_proxy_with_wrong_password_hides_the_password(
    tls_service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    with ConnectProxy(username="user", password="the-right-one") as proxy:
        wrong = f"http://user:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"
        error = await fail(tls_service, proxy=wrong)
        assert proxy.rejected_auth == 1
    assert type(error) is errors.ProviderConnectionError
    assert str(error).startswith(f"The proxy http://[redacted]@127.0.0.1:{proxy.port} failed")
    assert "another user name or password" in str(error)
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_proxy_that_refuses_connect(
    tls_service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    with ConnectProxy(refuse=True) as proxy:
        error = await fail(tls_service, proxy=proxy.url)
    assert type(error) is errors.ProviderConnectionError
    assert str(error).startswith(f"The proxy http://127.0.0.1:{proxy.port} failed")
    assert tls_service.requests == []


async def test_dead_proxy(
    tls_service: StandInService, closed_port: int, debug_logs: pytest.LogCaptureFixture
) -> None:
    proxy = f"socks5h://user:{PROXY_PASSWORD}@127.0.0.1:{closed_port}"
    error = await fail(tls_service, proxy=proxy)
    assert type(error) is errors.ProviderConnectionError
    assert str(error).startswith(
        f"The proxy socks5h://[redacted]@127.0.0.1:{closed_port} cannot be reached"
    )
    assert tls_service.requests == []
    assert_no_secrets(exposed_text(error, debug_logs))


async def test_explicit_proxy_is_used_even_when_no_proxy_lists_the_host(
    tls_service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with ConnectProxy() as proxy:
        await Aichat.create_async(
            "",
            USER,
            proxy=proxy.url,
            cookies=COOKIES,
            base_url=tls_service.base_url,
            verify=tls_service.ca_path,
        )
        assert len(proxy.tunnels) == 1


async def test_environment_proxy_applies_when_no_proxy_is_given(
    tls_service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectProxy() as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        await Aichat.create_async(
            "", USER, cookies=COOKIES, base_url=tls_service.base_url, verify=tls_service.ca_path
        )
        assert proxy.tunnels == [f"127.0.0.1:{tls_service.port}"]


async def test_the_services_own_refusal_text_is_scrubbed(
    service: StandInService, debug_logs: pytest.LogCaptureFixture
) -> None:
    service.push(Reply.rejected(f"bad session {COOKIES['session']}, try again"))
    error = await fail(service)
    assert type(error) is errors.ResponseError
    assert "The service reported a failure: bad session [redacted], try again" in str(error)
    assert_no_secrets(exposed_text(error, debug_logs))


@pytest.mark.parametrize("flag", [1, "true", "yes", [True], {"ok": True}])
async def test_only_a_json_true_response_is_an_answer(
    flag: object, service: StandInService
) -> None:
    service.push(Reply.json({"response": flag, "message": "looks like an answer"}))
    error = await fail(service)
    assert type(error) is errors.ResponseError
    assert "reported a failure" in str(error)


@pytest.mark.parametrize(
    ("timeout", "milliseconds"),
    [(1e-9, 1), (0.0005, 1), (0.001, 1), (0.0078125, 8), (0.5, 500), (120, 120_000)],
)
def test_curl_is_handed_whole_milliseconds_rounded_up(timeout: float, milliseconds: int) -> None:
    """What curl_cffi gives CURLOPT_TIMEOUT_MS (``int(seconds * 1000)``) is never shorter than
    the timeout asked for, never 0 ("no limit"), and at most a millisecond longer."""
    assert int(_curl_seconds(timeout) * 1000) == milliseconds
