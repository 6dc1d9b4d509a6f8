"""``.attempts`` on a provider call's error: how many requests the call sent, so a caller (the
API server, an app with its own retries) can see that the provider already retried."""

from __future__ import annotations

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER


@pytest.mark.parametrize(
    ("fault", "max_retries", "attempts", "kind"),
    [
        (Reply.status(500), 2, 3, errors.ResponseStatusError),
        (Reply.status(429, retry_after=0), 1, 2, errors.RateLimitError),
        (Reply.status(500), 0, 1, errors.ResponseStatusError),
        (Reply.cloudflare(403), 2, 1, errors.CloudflareError),  # never retried
        (Reply.status(403), 2, 1, errors.AuthenticationError),
    ],
    ids=["500-retried", "429-retried", "500-no-retries", "cloudflare", "rejected"],
)
async def test_attempts_count_the_requests_sent(
    service: StandInService,
    fault: Reply,
    max_retries: int,
    attempts: int,
    kind: type[errors.ProviderError],
) -> None:
    service.set_default(fault)
    with pytest.raises(kind) as caught:
        await Aichat.create_async(
            "", USER, cookies=COOKIES, base_url=service.base_url, max_retries=max_retries
        )
    assert type(caught.value) is kind
    assert caught.value.attempts == attempts == len(service.requests)


async def test_no_request_no_attempt(service: StandInService) -> None:
    with pytest.raises(errors.InvalidRequestError) as caught:
        await Aichat.create_async("", [], cookies=COOKIES, base_url=service.base_url)
    assert caught.value.attempts == 0
    assert service.requests == []
