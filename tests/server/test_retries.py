"""Retries that add up: one call of the real ``openai`` SDK, with its default two retries, costs at
most three upstream requests whatever the fault, counted at the stand-in service."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest

from aichat_provider.testing import Reply, StandInService
from support.server import Server, serve_stand_in

USER = [{"role": "user", "content": "Hi"}]


def _serve(
    upstream: StandInService, tmp_path_factory: pytest.TempPathFactory, *args: str
) -> Server:
    root = tmp_path_factory.mktemp("retries")
    (root / "home").mkdir()
    return serve_stand_in(
        upstream,
        root,
        "--timeout",
        "1",
        *args,
    )


@pytest.fixture(scope="module")
def retrying(
    upstream: StandInService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The server's defaults: the provider retries twice itself."""
    server = _serve(upstream, tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def single(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``--max-retries 0``: the server tries once and leaves retrying to the client."""
    server = _serve(upstream, tmp_path_factory, "--max-retries", "0")
    yield server
    server.stop()


def sdk_call(server: Server) -> tuple[openai.APIStatusError, float]:
    """One chat call with the SDK's defaults (two retries); the error it ends in and the time."""
    client = openai.OpenAI(base_url=server.base_url, api_key=str(server.api_key))
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="gpt-3.5-turbo", messages=USER)  # type: ignore[arg-type]
    return caught.value, time.monotonic() - started


FAULTS = {
    "429 Retry-After 1": Reply.status(429, retry_after=1),
    "429 Retry-After 600": Reply.status(429, retry_after=600),
    "500": Reply.status(500),
    "reset": Reply.reset(),
    "cloudflare": Reply.cloudflare(403),
    "rejected cookies": Reply.status(403),
    "timeout": Reply.hang(),
}


@pytest.mark.parametrize(
    ("fault", "status", "upstream_requests", "should_retry"),
    [
        ("429 Retry-After 1", 429, 3, "false"),  # the provider waited and retried twice
        ("429 Retry-After 600", 429, 1, "false"),  # too long to wait: nobody retries
        ("500", 502, 3, "false"),
        # libcurl itself sends a request once more when a kept-alive connection dies before
        # any answer (it cannot tell a stale connection from a reset): 3 attempts, and a 4th
        # request when the first went over a kept-alive connection
        ("reset", 502, (3, 4), "false"),
        ("cloudflare", 503, 1, "false"),  # a retry cannot pass a challenge
        ("rejected cookies", 401, 1, "false"),
        ("timeout", 504, 3, "true"),  # the provider does not retry a timeout; the SDK may
    ],
)
@pytest.mark.slow
def test_upstream_requests_for_one_call_with_a_retrying_server(
    retrying: Server,
    upstream: StandInService,
    fault: str,
    status: int,
    upstream_requests: int | tuple[int, ...],
    should_retry: str,
) -> None:
    upstream.set_default(FAULTS[fault])
    error, elapsed = sdk_call(retrying)
    assert error.status_code == status
    assert error.response.headers["x-should-retry"] == should_retry
    allowed = upstream_requests if isinstance(upstream_requests, tuple) else (upstream_requests,)
    assert len(upstream.requests) in allowed
    if fault == "429 Retry-After 600":
        assert error.response.headers["retry-after"] == "60"  # capped
        assert elapsed < 20  # neither the server nor the SDK waited it out


@pytest.mark.parametrize(
    ("fault", "status", "upstream_requests", "should_retry"),
    [
        ("429 Retry-After 1", 429, 3, "true"),  # the SDK's two retries, after 1 s each
        ("429 Retry-After 600", 429, 1, "false"),
        ("500", 502, 3, "true"),
        ("cloudflare", 503, 1, "false"),
    ],
)
@pytest.mark.slow
def test_upstream_requests_for_one_call_when_the_client_retries(
    single: Server,
    upstream: StandInService,
    fault: str,
    status: int,
    upstream_requests: int,
    should_retry: str,
) -> None:
    upstream.set_default(FAULTS[fault])
    error, _ = sdk_call(single)
    assert error.status_code == status
    assert error.response.headers["x-should-retry"] == should_retry
    assert len(upstream.requests) == upstream_requests


@pytest.mark.slow
def test_a_transient_fault_is_retried_once_and_answered(
    retrying: Server, upstream: StandInService
) -> None:
    upstream.push(Reply.status(503), Reply.answer("after one retry"))
    client = openai.OpenAI(base_url=retrying.base_url, api_key=str(retrying.api_key))
    completion = client.chat.completions.create(model="gpt-3.5-turbo", messages=USER)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == "after one retry"
    assert len(upstream.requests) == 2
