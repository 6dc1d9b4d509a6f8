"""Tools under ``tool_choice: "auto"`` (every agent framework's default): the model sees the
tools and answers in text or with a call. Driven by openai-python, LangChain and pydantic-ai
against ``aichat serve`` and the stand-in's scripted replies."""

from __future__ import annotations

import json

import openai
import pytest

from aichat_provider.testing import Reply, StandInService
from support.server import Server

USER = [{"role": "user", "content": "Weather in Paris?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}


def test_an_answer_that_is_a_call_becomes_tool_calls(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(
        Reply.answer('{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}')
    )
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[WEATHER, TIME],  # type: ignore[list-item]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.id.startswith("call_")
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    prompt = upstream.requests[0].prompt
    assert prompt is not None
    assert "- get_weather: The weather in a city" in prompt
    assert '"required": ["city"]' in prompt  # the parameters reached the model
    assert "- get_time\n" in prompt
    assert "answer in plain text as usual" in prompt


def test_an_answer_in_text_stays_text(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer("It is sunny in Paris."))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="auto",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content == "It is sunny in Paris."
    assert choice.message.tool_calls is None


@pytest.mark.parametrize(
    "answer",
    [
        # a function that is not offered
        '{"tool_calls": [{"name": "delete_everything", "arguments": {}}]}',
        # arguments that do not match the parameters (city is required)
        '{"name": "get_weather", "arguments": {"town": "Paris"}}',
        # arguments that are not an object
        '{"name": "get_weather", "arguments": ["Paris"]}',
        # JSON, but not a call
        '{"city": "Paris"}',
        # one good call and one bad one: not passed off as calls
        '[{"name": "get_weather", "arguments": {"city": "Paris"}},'
        ' {"name": "nope", "arguments": {}}]',
    ],
)
def test_anything_but_a_valid_call_is_the_text_answer(
    client: openai.OpenAI, upstream: StandInService, answer: str
) -> None:
    upstream.push(Reply.answer(answer))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content == answer
    assert completion.choices[0].message.tool_calls is None


def test_several_calls_in_one_answer(client: openai.OpenAI, upstream: StandInService) -> None:
    both = (
        '```json\n[{"name": "get_weather", "arguments": {"city": "Oslo"}},'
        ' {"name": "get_time", "arguments": "{\\"zone\\": \\"CET\\"}"}]\n```'
    )
    upstream.push(Reply.answer(both))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[WEATHER, TIME],  # type: ignore[list-item]
    )
    calls = completion.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert json.loads(calls[1].function.arguments) == {"zone": "CET"}  # type: ignore[union-attr]
    assert len({c.id for c in calls}) == 2

    # parallel_tool_calls=False: one call per answer, said in the prompt
    upstream.push(Reply.answer(both))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[WEATHER, TIME],  # type: ignore[list-item]
        parallel_tool_calls=False,
    )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert "call one function at a time" in (upstream.requests[-1].prompt or "")


def test_a_streamed_call_under_auto(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Lima"}}'))
    chunks = list(
        client.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=USER,  # type: ignore[arg-type]
            tools=[WEATHER],  # type: ignore[list-item]
            stream=True,
        )
    )
    calls = [call for chunk in chunks for call in (chunk.choices[0].delta.tool_calls or [])]
    [call] = calls
    assert call.function is not None
    assert call.function.name == "get_weather"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_none_keeps_the_tools_out_of_the_prompt(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Lima"}}'))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="none",
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None
    assert upstream.requests[0].prompt == "Weather in Paris?"


def test_legacy_functions_with_auto(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Rome"}}'))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        functions=[WEATHER["function"]],  # type: ignore[list-item]
        function_call="auto",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.function_call is not None
    assert choice.message.function_call.name == "get_weather"
    assert json.loads(choice.message.function_call.arguments) == {"city": "Rome"}
    assert "get_weather: The weather in a city" in (upstream.requests[0].prompt or "")

    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        functions=[WEATHER["function"]],  # type: ignore[list-item]
        function_call="none",
    )
    assert completion.choices[0].message.content == "echo: Weather in Paris?"


def test_hostile_parameters_are_refused_before_any_call(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    remote = {
        "type": "function",
        "function": {"name": "f", "parameters": {"$ref": "http://127.0.0.1:9/schema.json"}},
    }
    with pytest.raises(openai.BadRequestError, match="nothing is fetched"):
        client.chat.completions.create(
            model="gpt-3.5-turbo",
            messages=USER,  # type: ignore[arg-type]
            tools=[remote],  # type: ignore[list-item]
        )
    assert upstream.requests == []


def test_a_backtracking_pattern_costs_a_worker_not_the_server(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    """The arguments of a call are checked by the schema runner, with its deadline."""
    evil = {
        "type": "function",
        "function": {
            "name": "match",
            "parameters": {
                "type": "object",
                "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}},
            },
        },
    }
    upstream.push(Reply.answer(json.dumps({"name": "match", "arguments": {"s": "a" * 40 + "!"}})))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[evil],  # type: ignore[list-item]
    )
    # jsonschema-rs does not backtrack: the answer is checked, found not to match, and is text
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None


def test_langchain_bind_tools_auto(server: Server, upstream: StandInService) -> None:
    from langchain_openai import ChatOpenAI

    def get_weather(city: str) -> str:
        """The weather in a city."""
        return city

    model = ChatOpenAI(
        model="gpt-3.5-turbo", base_url=server.base_url, api_key=str(server.api_key), max_retries=0
    ).bind_tools([get_weather])
    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Rome"}}'))
    reply = model.invoke("Weather in Rome?")
    [call] = reply.tool_calls
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "Rome"}

    upstream.push(Reply.answer("Hello there."))
    reply = model.invoke("Say hello")
    assert reply.tool_calls == []
    assert reply.content == "Hello there."


@pytest.mark.filterwarnings("ignore:Model 'openai.gpt-3.5-turbo' is deprecated")
def test_pydantic_ai_tool_agent(server: Server, upstream: StandInService) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    model = OpenAIChatModel(
        "gpt-3.5-turbo",
        provider=OpenAIProvider(base_url=server.base_url, api_key=str(server.api_key)),
    )
    agent = Agent(model)
    seen: list[str] = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        seen.append(city)
        return "21 C, sunny"

    upstream.push(
        Reply.answer('{"name": "get_weather", "arguments": {"city": "Paris"}}'),
        Reply.answer("It is 21 C and sunny in Paris."),
    )
    result = agent.run_sync("Weather in Paris?")
    assert seen == ["Paris"]
    assert result.output == "It is 21 C and sunny in Paris."
    second = upstream.requests[1].prompt or ""
    assert "Called tool get_weather" in second
    assert "21 C, sunny" in second  # the tool's result went back to the model


def test_the_schema_budget_counts_each_tool_once(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    """About 30,000 schema values, within the 50,000 a request may bring: read once under
    "auto", not once for each way the tools could be used."""
    properties = {f"p{number}": {"type": "string"} for number in range(15_000)}
    wide = {
        "type": "function",
        "function": {"name": "wide", "parameters": {"type": "object", "properties": properties}},
    }
    upstream.push(Reply.answer("No call needed."))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,  # type: ignore[arg-type]
        tools=[wide],  # type: ignore[list-item]
    )
    assert completion.choices[0].message.content == "No call needed."
