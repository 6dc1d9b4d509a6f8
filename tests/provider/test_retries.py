"""Retries: which failures are tried again, how long the provider waits, how many attempts."""

from __future__ import annotations

import time

import pytest

from aichat_provider import Aichat, errors
from aichat_provider._retry import RetryPolicy
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER


async def ask(service: StandInService, **kwargs: object) -> str:
    return await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fault",
    [
        Reply.status(500),
        Reply.status(502),
        Reply.status(503),
        Reply.status(504),
        Reply.status(429, retry_after=0),
        Reply.reset(),
        Reply.close(),
        Reply.truncated(),
    ],
    ids=["500", "502", "503", "504", "429", "reset", "closed", "truncated"],
)
@pytest.mark.slow
async def test_flaky_server_succeeds_within_max_retries(
    fault: Reply, service: StandInService
) -> None:
    service.push(fault, fault)
    assert await ask(service, max_retries=2) == "echo: Hi"
    assert len(service.requests) == 3


@pytest.mark.slow
async def test_exhausted_retries_raise_the_last_error(service: StandInService) -> None:
    service.push(Reply.status(502), Reply.status(503), Reply.status(500, body=b"third"))
    with pytest.raises(errors.ResponseStatusError) as caught:
        await ask(service, max_retries=2)
    assert caught.value.status_code == 500
    assert caught.value.body_excerpt == "third"
    assert len(service.requests) == 3


async def test_max_retries_zero_makes_one_attempt(service: StandInService) -> None:
    service.push(Reply.status(503))
    with pytest.raises(errors.ResponseStatusError):
        await ask(service, max_retries=0)
    assert len(service.requests) == 1


@pytest.mark.slow
async def test_default_is_two_retries(service: StandInService) -> None:
    service.set_default(Reply.status(500))
    with pytest.raises(errors.ResponseStatusError):
        await ask(service)
    assert len(service.requests) == 3


@pytest.mark.slow
async def test_retry_after_is_honoured(service: StandInService) -> None:
    service.push(Reply.status(429, retry_after=1))
    started = time.monotonic()
    assert await ask(service, max_retries=1) == "echo: Hi"
    assert time.monotonic() - started >= 0.95
    assert len(service.requests) == 2


async def test_rate_limit_after_retries_carries_retry_after(service: StandInService) -> None:
    service.set_default(Reply.status(429, retry_after=0))
    with pytest.raises(errors.RateLimitError) as caught:
        await ask(service, max_retries=1)
    assert caught.value.retry_after == 0
    assert len(service.requests) == 2


@pytest.mark.parametrize(
    "fault",
    [Reply.status(400), Reply.status(401), Reply.status(404), Reply.rejected("no"), Reply.html()],
)
async def test_final_errors_are_not_retried(fault: Reply, service: StandInService) -> None:
    service.set_default(fault)
    with pytest.raises(errors.ProviderError):
        await ask(service, max_retries=3)
    assert len(service.requests) == 1


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=8)
    error = errors.ProviderConnectionError("reset")
    for retries_done, full in enumerate([0.5, 1, 2, 4, 8, 8]):
        delays = [policy.delay_before_retry(error, retries_done) for _ in range(200)]
        assert all(d is not None and 0.75 * full <= d <= full for d in delays)
        assert len(set(delays)) > 1  # jitter


def test_retry_after_limit_and_non_transient_errors() -> None:
    policy = RetryPolicy(max_retries=2)
    assert policy.delay_before_retry(errors.RateLimitError("x", retry_after=60), 0) == 60
    assert policy.delay_before_retry(errors.RateLimitError("x", retry_after=61), 0) is None
    assert (
        policy.delay_before_retry(
            errors.ProviderConnectionError("untrusted certificate", transient=False), 0
        )
        is None
    )
    assert policy.delay_before_retry(errors.ProviderTimeoutError("slow"), 0) is None
    assert policy.delay_before_retry(errors.RateLimitError("x"), 2) is None
