"""``ChatAichat`` against the real langchain-core and the stand-in: invoke, ainvoke, stream,
astream, batch, the options as fields, and typed errors as LangChain's error kinds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aichat_provider import errors
from aichat_provider.testing import RecordedRequest, Reply, StandInService
from support.secrets import COOKIES, SECRET_COOKIE, assert_no_secrets, exposed_text


@pytest.fixture(autouse=True)
def framework(langchain_core: Any, offline: dict[str, str]) -> Any:
    return langchain_core


def chat_model(service: StandInService, **fields: Any) -> Any:
    from aichat_provider.integrations.langchain import ChatAichat

    values: dict[str, Any] = {"cookies": COOKIES, "base_url": service.base_url, **fields}
    return ChatAichat(**values)


def test_invoke_sends_the_fields_and_the_conversation(service: StandInService) -> None:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    chat = chat_model(service, temperature=0.2, top_p=0.3, headers={"X-Trace": "t"})
    answer = chat.invoke(
        [SystemMessage("Be brief"), HumanMessage("Hi"), AIMessage("Hello"), HumanMessage("Bye")]
    )
    assert isinstance(answer, AIMessage)
    sent = service.requests[0]
    assert answer.content == f"echo: {sent.prompt}"
    assert sent.prompt == "System: Be brief\nUser: Hi\nAssistant: Hello\nUser: Bye\nAssistant:"
    assert (sent.json["temperature"], sent.json["top_p"]) == (0.2, 0.3)
    assert sent.cookies == COOKIES
    assert sent.header("x-trace") == "t"


def test_call_arguments_override_fields(service: StandInService) -> None:
    chat = chat_model(service, temperature=0.2)
    chat.invoke("Hi", temperature=1.5, cookies={"session": "per-call"})
    assert service.requests[0].json["temperature"] == 1.5
    assert service.requests[0].cookies == {"session": "per-call"}


def test_a_call_argument_of_none_leaves_the_field_as_it_is(service: StandInService) -> None:
    """None is "not given", as everywhere in the provider's options."""
    chat_model(service, temperature=0.2).invoke("Hi", temperature=None, cookies=None)
    assert service.requests[0].json["temperature"] == 0.2
    assert service.requests[0].cookies == COOKIES


async def test_ainvoke_and_invoke_inside_a_running_loop(service: StandInService) -> None:
    chat = chat_model(service)
    assert (await chat.ainvoke("Hi")).content == "echo: Hi"
    assert chat.invoke("Hi").content == "echo: Hi"


def test_stream_gives_the_answer_as_one_chunk(service: StandInService) -> None:
    chunks = list(chat_model(service).stream("Hi"))
    assert [chunk.content for chunk in chunks] == ["echo: Hi"]


async def test_astream(service: StandInService) -> None:
    chunks = [chunk.content async for chunk in chat_model(service).astream("Hi")]
    assert chunks == ["echo: Hi"]


def test_batch_keeps_each_answer_with_its_prompt(service: StandInService) -> None:
    prompts = [f"question {i}" for i in range(6)]
    answers = chat_model(service).batch(prompts)
    assert [a.content for a in answers] == [f"echo: {p}" for p in prompts]


async def test_abatch(service: StandInService) -> None:
    answers = await chat_model(service).abatch(["a", "b", "c"])
    assert [a.content for a in answers] == ["echo: a", "echo: b", "echo: c"]


def test_stop_sequences_cut_the_answer(service: StandInService) -> None:
    def answer(request: RecordedRequest) -> str:
        return "one. two. three."

    service.answer = answer
    assert chat_model(service).invoke("Hi", stop=[" three", ". two"]).content == "one"


def test_a_stop_sequence_at_the_very_start_gives_an_empty_answer(
    service: StandInService,
) -> None:
    service.push(Reply.answer("STOP and the rest"))
    assert chat_model(service).invoke("Hi", stop=["STOP"]).content == ""


def test_tool_messages_are_refused_before_any_request(service: StandInService) -> None:
    from langchain_core.exceptions import ModelInvalidRequestError
    from langchain_core.messages import ToolMessage

    with pytest.raises(ModelInvalidRequestError) as caught:
        chat_model(service).invoke([ToolMessage("42", tool_call_id="1")])
    assert isinstance(caught.value, errors.InvalidRequestError)
    assert service.requests == []


@pytest.mark.parametrize(
    ("reply", "fields", "kind", "ours"),
    [
        (Reply.status(429, retry_after=600), {}, "ModelRateLimitError", errors.RateLimitError),
        (Reply.status(403), {}, "ModelAuthenticationError", errors.AuthenticationError),
        (None, {"cookies": None}, "ModelAuthenticationError", errors.MissingCookiesError),
        (Reply.cloudflare(), {}, "ModelPermissionDeniedError", errors.CloudflareError),
        (Reply.status(502), {"max_retries": 0}, "ModelAPIError", errors.ResponseStatusError),
        (
            Reply.hang(),
            {"timeout": 0.5, "max_retries": 0},
            "ModelTimeoutError",
            errors.ProviderTimeoutError,
        ),
        (None, {"model": "gpt-4"}, "ModelNotFoundError", errors.ModelNotSupportedError),
    ],
    ids=["rate-limit", "rejected", "no-cookies", "cloudflare", "5xx", "timeout", "model"],
)
@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_typed_errors_are_langchain_error_kinds_and_ours(
    service: StandInService,
    reply: Reply | None,
    fields: dict[str, Any],
    kind: str,
    ours: type[errors.ProviderError],
    mode: str,
) -> None:
    from langchain_core import exceptions

    if reply is not None:
        service.set_default(reply)
    chat = chat_model(service, browser=[], **fields)
    call = chat.invoke if mode == "invoke" else lambda text: asyncio.run(chat.ainvoke(text))
    with pytest.raises(getattr(exceptions, kind)) as caught:
        call("Hi")
    error = caught.value
    assert isinstance(error, ours)  # code that catches ours still does
    assert type(error.__cause__) is ours
    assert vars(error) == vars(error.__cause__)  # every field kept
    assert error.provider == "Aichat"
    assert_no_secrets(exposed_text(error))
    if ours is errors.RateLimitError:
        assert error.retry_after == 600


def test_with_fallbacks_moves_on_after_a_provider_error(service: StandInService) -> None:
    from langchain_core.exceptions import ModelError

    service.push(Reply.status(403))
    chat = chat_model(service, max_retries=0).with_fallbacks(
        [chat_model(service)], exceptions_to_handle=(ModelError,)
    )
    assert chat.invoke("Hi").content == "echo: Hi"
    assert len(service.requests) == 2


def test_no_secret_in_repr_cache_key_or_what_callbacks_see(service: StandInService) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    seen: list[str] = []

    class Recorder(BaseCallbackHandler):
        def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
            seen.append(repr(serialized) + repr(kwargs))

    chat = chat_model(service, proxy=None, headers={"Authorization": "Bearer t0ken-123"})
    chat.invoke("Hi", cookies={"session": SECRET_COOKIE}, config={"callbacks": [Recorder()]})
    assert service.requests[0].cookies == {"session": SECRET_COOKIE}
    assert len(seen) == 1
    for text in (repr(chat), str(chat), seen[0], repr(chat._identifying_params)):
        assert_no_secrets(text)
        assert "t0ken-123" not in text
    assert chat._llm_type == "aichat"


def test_no_secret_given_per_call_reaches_the_llm_cache(service: StandInService) -> None:
    """LangChain builds the cache key from the call's keyword arguments as they are: a cache
    (SQLite, Redis, ...) stored the cookie values, the proxy password and the headers given to
    ``invoke``. The key says they were given, not what they are."""
    from langchain_core.caches import InMemoryCache
    from langchain_core.globals import get_llm_cache, set_llm_cache

    keys: list[str] = []

    class Recording(InMemoryCache):
        def lookup(self, prompt: str, llm_string: str) -> Any:
            keys.append(llm_string)
            return super().lookup(prompt, llm_string)

        def update(self, prompt: str, llm_string: str, return_val: Any) -> None:
            keys.append(llm_string)
            super().update(prompt, llm_string, return_val)

    before = get_llm_cache()
    set_llm_cache(Recording())
    try:
        chat = chat_model(service, cookies=None)
        for _ in range(2):  # the second answer comes from the cache
            answer = chat.invoke(
                "Hi",
                cookies={"session": SECRET_COOKIE},
                headers={"Authorization": "Bearer t0ken-123"},
                temperature=0.5,
            )
            assert answer.content == "echo: Hi"
    finally:
        set_llm_cache(before)
    assert len(service.requests) == 1
    assert len(keys) == 3
    for key in keys:
        assert_no_secrets(key)
        assert "t0ken-123" not in key
        assert "0.5" in key  # what is not secret still tells configurations apart


@pytest.mark.parametrize(
    "fields",
    [
        {"cookies": [("session", SECRET_COOKIE)]},
        {"proxy": {"https": "http://user:pr0xy-passw0rd-91ac@127.0.0.1:3128"}},
        {"headers": [("Authorization", f"Bearer {SECRET_COOKIE}")]},
    ],
    ids=["cookies as pairs", "proxy as a dict", "headers as pairs"],
)
def test_a_secret_field_of_the_wrong_type_is_refused_without_quoting_it(
    fields: dict[str, Any],
) -> None:
    """pydantic's refusal quoted the value it refused: the cookie, the proxy password."""
    from pydantic import ValidationError

    from aichat_provider.integrations.langchain import ChatAichat

    with pytest.raises(ValidationError) as caught:
        ChatAichat(**fields)
    assert next(iter(fields)) in str(caught.value)
    assert_no_secrets(exposed_text(caught.value))


def test_an_error_crosses_a_process_boundary_whole(service: StandInService) -> None:
    """Every error of the package pickles with its fields (a process pool, a task queue); the
    class that is both LangChain's kind and ours could not be pickled at all."""
    import pickle

    from langchain_core.exceptions import ModelRateLimitError

    service.set_default(Reply.status(429, retry_after=600))
    with pytest.raises(errors.RateLimitError) as caught:
        chat_model(service, max_retries=0).invoke("Hi")
    back = pickle.loads(pickle.dumps(caught.value))  # noqa: S301  # bytes this test just made
    assert type(back) is type(caught.value)
    assert isinstance(back, ModelRateLimitError)
    assert (back.retry_after, back.status_code, back.attempts) == (600, 429, 1)
    assert (back.provider, back.url, str(back)) == ("Aichat", service.url, str(caught.value))
