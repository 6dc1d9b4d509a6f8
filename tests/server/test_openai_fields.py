"""Every field an OpenAI client relies on is honoured, or refused in words: driven by the real
``openai`` SDK and ``langchain-openai`` against ``aichat serve`` and the stand-in service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from pydantic import BaseModel

from aichat_provider.testing import Reply, StandInService
from support.server import Server, serve_stand_in

USER = [{"role": "user", "content": "Hi"}]


class Weather(BaseModel):
    city: str
    celsius: int


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("fields")
    (root / "home").mkdir()
    running = serve_stand_in(
        upstream,
        root,
        "--max-retries",
        "0",
    )
    yield running
    running.stop()


def chat_model(server: Server, **options: object) -> object:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model="gpt-3.5-turbo",
        base_url=server.base_url,
        api_key=str(server.api_key),
        max_retries=0,
        **options,
    )


# --- response_format ---------------------------------------------------------------------------


@pytest.mark.slow
def test_json_object_is_asked_for_and_checked(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer('```json\n{"city": "Paris", "celsius": 21}\n```'))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, response_format={"type": "json_object"}
    )
    content = completion.choices[0].message.content
    assert content is not None
    assert json.loads(content) == {"city": "Paris", "celsius": 21}  # fences taken off
    prompt = upstream.requests[0].prompt
    assert prompt is not None
    assert "System: Answer with one JSON object and nothing else" in prompt

    upstream.push(Reply.answer("Sure! The weather in Paris is nice."))
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(
            model="gpt-3.5-turbo", messages=USER, response_format={"type": "json_object"}
        )
    assert caught.value.status_code == 502
    assert caught.value.code == "invalid_model_output"
    assert "not valid JSON" in caught.value.message

    upstream.push(Reply.answer("[1, 2]"))
    with pytest.raises(openai.InternalServerError, match="not a JSON object"):
        client.chat.completions.create(
            model="gpt-3.5-turbo", messages=USER, response_format={"type": "json_object"}
        )


@pytest.mark.slow
def test_json_schema_with_the_sdks_parse(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"city": "Oslo", "celsius": -3}'))
    completion = client.chat.completions.parse(
        model="gpt-3.5-turbo", messages=USER, response_format=Weather
    )
    assert completion.choices[0].message.parsed == Weather(city="Oslo", celsius=-3)
    prompt = upstream.requests[0].prompt
    assert prompt is not None
    assert '"celsius"' in prompt  # the schema went to the model

    upstream.push(Reply.answer('{"city": "Oslo", "celsius": "cold"}'))
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.parse(model="gpt-3.5-turbo", messages=USER, response_format=Weather)
    assert "does not match the schema 'Weather'" in caught.value.message
    assert "celsius" in caught.value.message


def test_an_invalid_schema_is_refused_before_any_call(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    with pytest.raises(openai.BadRequestError, match="not a valid JSON Schema"):
        client.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=USER,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"type": "no-such-type"}},
            },
        )
    with pytest.raises(openai.BadRequestError, match=r"response_format\.type"):
        client.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=USER,
            response_format={"type": "yaml"},  # type: ignore[typeddict-item]
        )
    assert upstream.requests == []


@pytest.mark.filterwarnings("ignore:Cannot use method='json_schema'")  # LangChain's own advice
@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
def test_langchain_structured_output(server: Server, upstream: StandInService, method: str) -> None:
    upstream.push(Reply.answer('{"city": "Rome", "celsius": 30}'))
    model = chat_model(server).with_structured_output(Weather, method=method)  # type: ignore[attr-defined]
    assert model.invoke("Weather in Rome, as JSON") == Weather(city="Rome", celsius=30)


# --- tools ---------------------------------------------------------------------------------------

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string"}},
            "required": ["zone"],
        },
    },
}


@pytest.mark.slow
def test_a_named_tool_choice_gets_a_real_tool_call(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer('{"city": "Paris"}'))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,
        tools=TOOLS,  # type: ignore[arg-type]
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.type == "function"
    assert call.id.startswith("call_")
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    prompt = upstream.requests[0].prompt
    assert prompt is not None
    assert "Call the function get_weather (The weather in a city)" in prompt


def test_required_with_several_tools_lets_the_model_choose(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer('{"name": "get_time", "arguments": {"zone": "UTC"}}'))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,
        tools=[*TOOLS, TIME_TOOL],  # type: ignore[list-item]
        tool_choice="required",
    )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "get_time"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"zone": "UTC"}  # type: ignore[union-attr]

    # arguments that do not match the function's parameters are not passed off as a call
    upstream.push(Reply.answer('{"name": "get_time", "arguments": {}}'))
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=USER,
            tools=[*TOOLS, TIME_TOOL],  # type: ignore[list-item]
            tool_choice="required",
        )
    assert caught.value.code == "invalid_model_output"


def test_a_streamed_tool_call(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"city": "Lima"}'))
    stream = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,
        tools=TOOLS,  # type: ignore[arg-type]
        tool_choice="required",
        stream=True,
    )
    calls = [call for chunk in stream for call in (chunk.choices[0].delta.tool_calls or [])]
    [call] = calls
    assert call.index == 0
    assert call.function is not None
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments or "") == {"city": "Lima"}


@pytest.mark.parametrize(
    ("tools", "choice", "phrase"),
    [
        (TOOLS, {"type": "function", "function": {"name": "nope"}}, "does not offer"),
        (None, "required", "offers none"),
        ([{"type": "function"}], "required", r"tools\[0\] must be"),
        (TOOLS, "sometimes", "tool_choice must be"),
    ],
)
def test_tool_requests_that_make_no_sense_are_refused(
    client: openai.OpenAI,
    upstream: StandInService,
    tools: object,
    choice: object,
    phrase: str,
) -> None:
    extra: dict[str, object] = {"tool_choice": choice}
    if tools is not None:
        extra["tools"] = tools
    with pytest.raises(openai.BadRequestError, match=phrase):
        client.chat.completions.create(model="gpt-3.5-turbo", messages=USER, extra_body=extra)
    with pytest.raises(openai.BadRequestError, match="deprecated"):
        client.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=USER,
            extra_body={"functions": [TOOLS[0]["function"]], "function_call": {"name": "x"}},
        )
    assert upstream.requests == []


def test_langchain_bind_tools_any(server: Server, upstream: StandInService) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return city

    upstream.push(Reply.answer('{"city": "Rome"}'))
    model = chat_model(server).bind_tools([get_weather], tool_choice="any")  # type: ignore[attr-defined]
    reply = model.invoke("Weather in Rome?")
    [call] = reply.tool_calls
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "Rome"}


def test_langchain_structured_output_by_function_calling(
    server: Server, upstream: StandInService
) -> None:
    """LangChain's default for this model name: a named tool call."""
    upstream.push(Reply.answer('{"city": "Rome", "celsius": 30}'))
    model = chat_model(server).with_structured_output(Weather, method="function_calling")  # type: ignore[attr-defined]
    assert model.invoke("Weather in Rome") == Weather(city="Rome", celsius=30)


def test_tools_with_auto_get_a_text_answer(client: openai.OpenAI) -> None:
    """An answer that is not a call is the text answer (test_tools_auto.py has the rest)."""
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,
        tools=TOOLS,  # type: ignore[arg-type]
        tool_choice="auto",
    )
    content = completion.choices[0].message.content or ""
    assert content.startswith("echo: User: Hi\nSystem: You can call these functions")
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"


def test_a_history_with_tool_calls_is_written_into_the_prompt(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "21 C, sunny"},
    ]
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=messages,  # type: ignore[arg-type]
    )
    assert completion.choices[0].message.content is not None
    assert upstream.requests[0].prompt == (
        "System: Be brief.\n"
        "User: Weather in Paris?\n"
        'Assistant: Called tool get_weather (call call_1) with {"city": "Paris"}.\n'
        "User: Result of tool call call_1: 21 C, sunny\n"
        "Assistant:"
    )


def test_langchain_tool_round_trip_history(server: Server, upstream: StandInService) -> None:
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    history = [
        HumanMessage("Weather in Paris?"),
        AIMessage(
            "", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_9"}]
        ),
        ToolMessage("21 C", tool_call_id="call_9"),
    ]
    reply = chat_model(server).invoke(history)  # type: ignore[attr-defined]
    assert reply.content.startswith("echo: ")
    prompt = upstream.requests[0].prompt
    assert prompt is not None
    assert "Called tool get_weather (call call_9)" in prompt
    assert "Result of tool call call_9: 21 C" in prompt


# --- stop, n, max_tokens, stream -------------------------------------------------------------


@pytest.mark.slow
def test_stop_cuts_the_answer(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer("one, two. three. four"))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, stop=["four", ". "]
    )
    assert completion.choices[0].message.content == "one, two"
    assert completion.choices[0].finish_reason == "stop"


def test_n_choices_are_n_upstream_calls(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer("first"), Reply.answer("second"), Reply.answer("third"))
    completion = client.chat.completions.create(model="gpt-3.5-turbo", messages=USER, n=3)
    assert [choice.index for choice in completion.choices] == [0, 1, 2]
    assert sorted(choice.message.content or "" for choice in completion.choices) == [
        "first",
        "second",
        "third",
    ]
    assert len(upstream.requests) == 3
    with pytest.raises(openai.BadRequestError, match="at most 8"):
        client.chat.completions.create(model="gpt-3.5-turbo", messages=USER, n=9)
    assert len(upstream.requests) == 3


def test_max_tokens_cuts_with_finish_reason_length(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer("a" * 100))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, max_completion_tokens=5
    )
    assert completion.choices[0].message.content == "a" * 20
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 5


def test_stream_null_and_include_usage(
    server: Server, client: openai.OpenAI, upstream: StandInService
) -> None:
    status, _, body = server.post_json(
        "/v1/chat/completions", {"model": "gpt-3.5-turbo", "messages": USER, "stream": None}
    )
    assert status == 200
    assert body["object"] == "chat.completion"

    chunks = list(
        client.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 2  # "echo: Hi" is 8 characters
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + 2
    assert all(chunk.usage is None for chunk in chunks[:-1])
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: Hi"


def test_streamed_n_choices_keep_their_index(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer("A"), Reply.answer("B"))
    chunks = list(
        client.chat.completions.create(model="gpt-3.5-turbo", messages=USER, n=2, stream=True)
    )
    texts: dict[int, str] = {}
    finished = {}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finished[choice.index] = choice.finish_reason
    assert sorted(texts.values()) == ["A", "B"]
    assert finished == {0: "stop", 1: "stop"}


def test_langchain_streams(server: Server) -> None:
    chunks = list(chat_model(server).stream("Hi"))  # type: ignore[attr-defined]
    assert "".join(chunk.content for chunk in chunks) == "echo: Hi"


# --- fields refused, roles, models, other routes -------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"no_such_field": 1}, "no_such_field"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"n": True}, "n"),
    ],
)
def test_fields_that_cannot_be_honoured_are_refused(
    client: openai.OpenAI, upstream: StandInService, extra: dict[str, object], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-3.5-turbo", messages=USER, extra_body=extra)
    assert caught.value.param == param
    assert upstream.requests == []


def test_an_unknown_field_names_where_the_fields_are_listed(
    client: openai.OpenAI, server: Server
) -> None:
    """On every route: the next step is the server's own description, which a client has (a
    path in the project's repository is not on a pip user's machine)."""
    unknown = {"no_such_field": 1}
    for call in (
        lambda: client.chat.completions.create(
            model="gpt-3.5-turbo", messages=USER, extra_body=unknown
        ),
        lambda: client.completions.create(model="gpt-3.5-turbo", prompt="Hi", extra_body=unknown),
        lambda: client.responses.create(model="gpt-3.5-turbo", input="Hi", extra_body=unknown),
        lambda: client.post(
            "/messages",
            cast_to=object,
            body={"model": "gpt-3.5-turbo", "max_tokens": 5, "messages": [], **unknown},
        ),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            call()
        assert "'no_such_field'" in str(caught.value)
        assert "GET /openapi.json lists the fields each route accepts" in str(caught.value)
    described = client.get(server.origin + "/openapi.json", cast_to=object)
    assert isinstance(described, dict)
    schemas = described["components"]["schemas"]
    for request in ("ChatCompletionRequest", "CompletionRequest", "CreateResponseRequest"):
        assert "temperature" in schemas[request]["properties"]
    assert "max_tokens" in schemas["CreateMessageRequest"]["properties"]


def test_hints_are_accepted(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,
        user="someone",
        seed=7,
        store=False,
        metadata={"app": "test"},
        parallel_tool_calls=False,
    )
    assert completion.choices[0].message.content == "echo: Hi"


def test_models_retrieve(client: openai.OpenAI) -> None:
    assert client.models.retrieve("aichat/gpt-3.5-turbo").owned_by == "aichat"
    assert client.models.retrieve("gpt-3.5-turbo").id == "gpt-3.5-turbo"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


def test_an_unknown_model_of_a_known_provider_is_404(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="aichat/gpt-4", messages=USER)
    assert caught.value.code == "model_not_found"
    assert upstream.requests == []


def test_legacy_completions(client: openai.OpenAI, upstream: StandInService) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo", prompt="Hello", stop="l")
    assert completion.object == "text_completion"
    assert completion.choices[0].text == "echo: He"
    assert upstream.requests[0].prompt == "Hello"  # sent as it is, not as a chat
    chunks = list(client.completions.create(model="gpt-3.5-turbo", prompt=["A", "B"], stream=True))
    texts = sorted(choice.text for chunk in chunks for choice in chunk.choices if choice.text)
    assert texts == ["echo: A", "echo: B"]
    with pytest.raises(openai.BadRequestError, match="echo"):
        client.completions.create(model="gpt-3.5-turbo", prompt="x", echo=True)


def test_health(server: Server) -> None:
    status, _, body = server.raw("GET", "/health", None, {"Authorization": ""})
    assert status == 200
    assert json.loads(body) == {"status": "ok"}


def test_an_answer_with_a_lone_surrogate_is_a_valid_reply(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    cut_emoji = b'{"response": true, "message": "ok \\ud83d"}'
    for stream in (False, True):
        upstream.push(Reply(200, cut_emoji, (("Content-Type", "application/json"),)))
        if stream:
            chunks = client.chat.completions.create(
                model="gpt-3.5-turbo", messages=USER, stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            completion = client.chat.completions.create(model="gpt-3.5-turbo", messages=USER)
            text = completion.choices[0].message.content or ""
        assert text == "ok \ufffd"


def test_usage_counts_are_not_zero(client: openai.OpenAI, tmp_path: Path) -> None:
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "x" * 40}]
    )
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 10
    assert completion.usage.completion_tokens == 12  # "echo: " + 40 characters
