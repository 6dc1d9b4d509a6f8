"""LiteLLM with ``aichat/<model>`` after ``integrations.litellm.register()``, against the real
LiteLLM and the stand-in: answers (sync, async, inside a running loop), a stream, and typed errors
as LiteLLM's own exception classes, chained to ours."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aichat_provider import errors
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER, assert_no_secrets, exposed_text

MODEL = "aichat/gpt-3.5-turbo"


@pytest.fixture(autouse=True)
def registered(litellm: Any, offline: dict[str, str]) -> Iterator[Any]:
    from aichat_provider.integrations import litellm as integration

    before = list(litellm.custom_provider_map)
    integration.register()
    yield litellm
    litellm.custom_provider_map = before


def on(service: StandInService, **extra: Any) -> dict[str, Any]:
    return {"cookies": COOKIES, "api_base": service.base_url, **extra}


def test_completion(registered: Any, service: StandInService) -> None:
    response = registered.completion(
        model=MODEL, messages=USER, temperature=0.2, top_p=0.3, **on(service)
    )
    assert response.choices[0].message.content == "echo: Hi"
    assert response.choices[0].finish_reason == "stop"
    sent = service.requests[0]
    assert sent.cookies == COOKIES
    assert (sent.json["temperature"], sent.json["top_p"]) == (0.2, 0.3)


def test_base_url_and_headers_reach_the_provider(registered: Any, service: StandInService) -> None:
    registered.completion(
        model=MODEL,
        messages=USER,
        cookies=COOKIES,
        base_url=service.base_url,
        headers={"X-Trace": "t-1"},
        max_tokens=50,  # LiteLLM's own settings are not sent to the provider
    )
    assert service.requests[0].header("x-trace") == "t-1"


async def test_acompletion_and_completion_inside_a_running_loop(
    registered: Any, service: StandInService
) -> None:
    response = await registered.acompletion(model=MODEL, messages=USER, **on(service))
    assert response.choices[0].message.content == "echo: Hi"
    response = registered.completion(model=MODEL, messages=USER, **on(service))
    assert response.choices[0].message.content == "echo: Hi"


def test_stream_gives_the_answer_as_one_chunk(registered: Any, service: StandInService) -> None:
    chunks = list(registered.completion(model=MODEL, messages=USER, stream=True, **on(service)))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: Hi"
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("stop", [": H", ["Hi", ": H"], ["x", ": "]])
async def test_stop_sequences_cut_the_answer(
    registered: Any, service: StandInService, stop: Any
) -> None:
    """The service has no ``stop``: it was dropped, and the whole answer returned (LangChain's
    adapter and ``aichat serve`` cut the answer at the first stop sequence)."""
    sync = registered.completion(model=MODEL, messages=USER, stop=stop, **on(service))
    assert sync.choices[0].message.content == "echo"
    answer = await registered.acompletion(model=MODEL, messages=USER, stop=stop, **on(service))
    assert answer.choices[0].message.content == "echo"
    stream = registered.completion(
        model=MODEL, messages=USER, stop=stop, stream=True, **on(service)
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "echo"
    assert service.requests[0].prompt == "Hi"


def test_a_stream_that_fails_raises_the_documented_class_from_completion(
    registered: Any, service: StandInService
) -> None:
    """The answer is asked for when the stream is: a failure is raised by ``completion()``, as
    an HTTP error is by any provider, and LiteLLM does not wrap it as a mid-stream failure
    (``MidStreamFallbackError``, which ``except litellm.RateLimitError`` misses)."""
    service.push(Reply.status(429, retry_after=600))
    with pytest.raises(registered.RateLimitError) as caught:
        registered.completion(model=MODEL, messages=USER, stream=True, **on(service))
    assert type(caught.value) is registered.RateLimitError
    assert caught.value.headers == {"retry-after": "600"}
    assert len(service.requests) == 1


async def test_async_stream(registered: Any, service: StandInService) -> None:
    stream = await registered.acompletion(model=MODEL, messages=USER, stream=True, **on(service))
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "echo: Hi"


@pytest.mark.parametrize(
    ("reply", "extra", "theirs", "ours"),
    [
        (Reply.status(429, retry_after=600), {}, "RateLimitError", errors.RateLimitError),
        (Reply.status(403), {}, "AuthenticationError", errors.AuthenticationError),
        (None, {"cookies": None}, "AuthenticationError", errors.MissingCookiesError),
        (Reply.cloudflare(), {}, "ServiceUnavailableError", errors.CloudflareError),
        (Reply.html(), {}, "BadGatewayError", errors.ResponseError),
        (Reply.hang(), {"timeout": 0.5, "max_retries": 0}, "Timeout", errors.ProviderTimeoutError),
        (None, {"temperature": 7}, "BadRequestError", errors.InvalidRequestError),
        (None, {"model": "aichat/gpt-4"}, "NotFoundError", errors.ModelNotSupportedError),
    ],
    ids=[
        "rate-limit",
        "rejected",
        "no-cookies",
        "cloudflare",
        "not-json",
        "timeout",
        "bad",
        "model",
    ],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_typed_errors_are_litellm_exceptions(
    registered: Any,
    service: StandInService,
    reply: Reply | None,
    extra: dict[str, Any],
    theirs: str,
    ours: type[errors.ProviderError],
    mode: str,
) -> None:
    if reply is not None:
        service.set_default(reply)
    kwargs: dict[str, Any] = {"model": MODEL, "messages": USER, **on(service, browser=[])}
    kwargs.update(extra)
    expected = getattr(registered, theirs)

    async def call() -> Any:
        if mode == "sync":
            return registered.completion(**kwargs)
        return await registered.acompletion(**kwargs)

    with pytest.raises(expected) as caught:
        await call()
    assert type(caught.value) is expected
    assert isinstance(caught.value.__cause__, ours)
    assert caught.value.llm_provider == "aichat"
    assert_no_secrets(exposed_text(caught.value))
    if ours is errors.RateLimitError:
        assert caught.value.headers == {"retry-after": "600"}


def test_register_again_replaces_the_handler(registered: Any) -> None:
    from aichat_provider.integrations import litellm as integration

    integration.register()
    assert [e["provider"] for e in registered.custom_provider_map].count("aichat") == 1
