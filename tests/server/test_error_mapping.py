"""What a client is told when a provider fails: status, OpenAI error code and the retry advice
(``x-should-retry``, ``Retry-After``) the official SDKs obey, for each exception and at the edges
of each rule (found by mutation testing: every row here failed on a mutant the suite let
through). The provider is a plugin written here, so each exception is raised exactly as given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx
import pytest

from aichat_provider import AsyncProvider, errors
from aichat_provider.registry import ProviderRegistry
from aichat_provider.server import ServerConfig, create_app


class Failing(AsyncProvider):
    working = True
    models: ClassVar[list[str]] = ["failing-1"]
    failure: ClassVar[BaseException | None] = None

    @classmethod
    async def create_async(  # type: ignore[override]
        cls, model: str, messages: Sequence[Mapping[str, Any]], proxy: str | None = None, **_: Any
    ) -> str:
        assert cls.failure is not None
        raise cls.failure


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    registry = ProviderRegistry(group=None)
    registry.register(Failing)
    app = create_app(ServerConfig(registry=registry))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as opened:
        yield opened


def tried(error: errors.ProviderError, attempts: int) -> errors.ProviderError:
    error.attempts = attempts
    return error


def status_error(status: int, retry_after: float | None = None) -> errors.ResponseStatusError:
    return errors.ResponseStatusError(f"HTTP {status}", status_code=status, retry_after=retry_after)


CASES = [
    # (exception, status, code, x-should-retry, Retry-After)
    (tried(errors.RateLimitError("slow down"), 0), 429, "rate_limited", "true", None),
    (tried(errors.RateLimitError("slow down"), 1), 429, "rate_limited", "true", None),
    # The provider already retried: a client retry would only add requests.
    (tried(errors.RateLimitError("slow down"), 2), 429, "rate_limited", "false", None),
    (
        tried(errors.RateLimitError("slow down", retry_after=60), 1),
        429,
        "rate_limited",
        "true",
        "60",
    ),
    # Longer than the server passes on: the client is told not to wait it out here.
    (
        tried(errors.RateLimitError("slow down", retry_after=61), 1),
        429,
        "rate_limited",
        "false",
        "60",
    ),
    (tried(status_error(500), 1), 502, "upstream_failed", "true", None),
    (tried(status_error(503, retry_after=5), 1), 502, "upstream_failed", "true", "5"),
    (tried(status_error(599), 2), 502, "upstream_failed", "false", None),
    # Not a server failure upstream: a retry cannot change it.
    (tried(status_error(499), 1), 502, "upstream_failed", "false", None),
    (tried(status_error(418, retry_after=5), 1), 502, "upstream_failed", "false", None),
    (
        errors.AllProvidersFailedError("every one failed", errors={"a": RuntimeError("x")}),
        502,
        "all_providers_failed",
        "false",
        None,
    ),
    (errors.ResponseError("not an answer"), 502, "upstream_failed", "false", None),
    (tried(errors.ProviderTimeoutError("late"), 1), 504, "upstream_timeout", "true", None),
    (tried(errors.ProviderTimeoutError("late"), 3), 504, "upstream_timeout", "false", None),
    (
        tried(errors.ProviderConnectionError("refused", transient=False), 1),
        502,
        "upstream_unreachable",
        "false",
        None,
    ),
    (errors.MissingCookiesError("no cookies"), 401, "upstream_cookies", "false", None),
]


@pytest.mark.parametrize(("failure", "status", "code", "should_retry", "retry_after"), CASES)
async def test_what_the_client_is_told(
    client: httpx.AsyncClient,
    failure: errors.ProviderError,
    status: int,
    code: str,
    should_retry: str,
    retry_after: str | None,
) -> None:
    Failing.failure = failure
    reply = await client.post(
        "/v1/chat/completions",
        json={"model": "failing-1", "messages": [{"role": "user", "content": "Hi"}]},
    )
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["code"] == code
    message = reply.json()["error"]["message"]
    if isinstance(failure, errors.MissingCookiesError):  # what the server's operator can do
        assert message.startswith("This server has no cookies for the service. ")
    else:
        assert message == str(failure)
    assert reply.headers["x-should-retry"] == should_retry
    assert reply.headers.get("retry-after") == retry_after
