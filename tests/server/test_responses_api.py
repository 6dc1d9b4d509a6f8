"""OpenAI's Responses API (``POST /v1/responses``), driven by openai-python's
``responses.create`` / ``parse`` / ``stream`` against ``aichat serve`` and the stand-in."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from aichat_provider.server._responses_api import ResponseStore
from aichat_provider.testing import Reply, StandInService
from support.server import API_KEY, Server

WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


class Weather(BaseModel):
    city: str
    celsius: int


def test_plain(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer("Bonjour !"))
    response = client.responses.create(
        model="gpt-3.5-turbo", instructions="Answer in French.", input="Hello", temperature=0.2
    )
    assert response.object == "response"
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    assert response.output_text == "Bonjour !"
    assert response.instructions == "Answer in French."
    assert response.usage is not None
    assert response.usage.output_tokens == 3  # "Bonjour !" is 9 characters
    assert response.usage.total_tokens == response.usage.input_tokens + 3
    sent = upstream.requests[0].json
    assert sent["message"] == "System: Answer in French.\nUser: Hello\nAssistant:"
    assert sent["temperature"] == 0.2


def test_message_items_and_max_output_tokens(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer("a" * 100))
    response = client.responses.create(
        model="gpt-3.5-turbo",
        input=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "input_text", "text": "Say a"}]},
        ],
        max_output_tokens=5,
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text == "a" * 20
    assert upstream.requests[0].prompt == "System: Be brief.\nUser: Say a\nAssistant:"


def test_streamed(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer("Hello there"))
    events = list(client.responses.create(model="gpt-3.5-turbo", input="Hi", stream=True))
    assert [event.type for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "Hello there"
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "Hello there"

    # The SDK's own stream helper checks the sequence's consistency as it accumulates it.
    upstream.push(Reply.answer("Hello again"))
    with client.responses.stream(model="gpt-3.5-turbo", input="Hi") as stream:
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert texts == ["Hello again"]
    assert final.output_text == "Hello again"


def test_text_format_json_schema(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"city": "Oslo", "celsius": -3}'))
    parsed = client.responses.parse(model="gpt-3.5-turbo", input="Weather?", text_format=Weather)
    assert parsed.output_parsed == Weather(city="Oslo", celsius=-3)
    assert '"celsius"' in (upstream.requests[0].prompt or "")

    upstream.push(Reply.answer('{"city": "Oslo"}'))
    with pytest.raises(openai.InternalServerError) as caught:
        client.responses.parse(model="gpt-3.5-turbo", input="Weather?", text_format=Weather)
    assert caught.value.code == "invalid_model_output"


def test_a_function_tool_round_trip(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Paris"}}'))
    first = client.responses.create(
        model="gpt-3.5-turbo", input="Weather in Paris?", tools=[WEATHER_TOOL]
    )
    [call] = first.output
    assert call.type == "function_call"
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert "get_weather: The weather in a city" in (upstream.requests[0].prompt or "")

    # the whole conversation sent back, the SDK's output items included
    upstream.push(Reply.answer("It is 21 C in Paris."))
    second = client.responses.create(
        model="gpt-3.5-turbo",
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            *first.output,  # type: ignore[list-item]
            {"type": "function_call_output", "call_id": call.call_id, "output": "21 C"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert second.output_text == "It is 21 C in Paris."
    prompt = upstream.requests[1].prompt or ""
    assert f"Called tool get_weather (call {call.call_id}) with" in prompt
    assert f"Result of tool call {call.call_id}: 21 C" in prompt

    # the same turn through previous_response_id: the server remembers the conversation
    upstream.push(Reply.answer("Still 21 C."))
    third = client.responses.create(
        model="gpt-3.5-turbo",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "21 C"}],
        tools=[WEATHER_TOOL],
    )
    assert third.output_text == "Still 21 C."
    assert third.previous_response_id == first.id
    prompt = upstream.requests[2].prompt or ""
    assert prompt.startswith("User: Weather in Paris?\nAssistant: Called tool get_weather")


def test_a_streamed_function_call(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Lima"}}'))
    with client.responses.stream(
        model="gpt-3.5-turbo", input="Weather in Lima?", tools=[WEATHER_TOOL]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.done" in kinds
    [call] = final.output
    assert call.type == "function_call"
    assert json.loads(call.arguments) == {"city": "Lima"}


def test_previous_response_id_and_store(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer("I am Bob."))
    first = client.responses.create(model="gpt-3.5-turbo", input="Who are you?")
    upstream.push(Reply.answer("Bob."))
    client.responses.create(
        model="gpt-3.5-turbo", input="Your name again?", previous_response_id=first.id
    )
    assert upstream.requests[1].prompt == (
        "User: Who are you?\nAssistant: I am Bob.\nUser: Your name again?\nAssistant:"
    )

    unstored = client.responses.create(model="gpt-3.5-turbo", input="Hi", store=False)
    assert unstored.store is False
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(
            model="gpt-3.5-turbo", input="And?", previous_response_id=unstored.id
        )
    assert caught.value.code == "previous_response_not_found"
    assert "keeps the last 1000 stored responses" in caught.value.message
    assert len(upstream.requests) == 3


@pytest.mark.parametrize(
    ("extra", "param", "phrase"),
    [
        ({"no_such_field": 1}, "no_such_field", "Unrecognized"),
        ({"include": ["message.output_text.logprobs"]}, "include", "log probabilities"),
        ({"background": True}, "background", "background"),
        ({"tool_choice": {"type": "web_search"}}, "tool_choice", "only function tools"),
        ({"text": {"format": {"type": "xml"}}}, "text", "text.format.type"),
        ({"max_output_tokens": 0}, "max_output_tokens", "at least 1"),
        ({"tool_choice": "required"}, "tool_choice", "offers none"),
    ],
)
def test_fields_that_cannot_be_honoured_are_refused(
    client: openai.OpenAI,
    upstream: StandInService,
    extra: dict[str, object],
    param: str,
    phrase: str,
) -> None:
    with pytest.raises(openai.BadRequestError, match=phrase) as caught:
        client.responses.create(model="gpt-3.5-turbo", input="Hi", extra_body=extra)
    assert caught.value.param == param
    assert upstream.requests == []


def test_what_codex_sends(client: openai.OpenAI, upstream: StandInService) -> None:
    """Codex's requests: hosted tools and namespaces beside its functions (not offered to the
    model: the service cannot run them), reasoning.encrypted_content asked for (there is no
    reasoning item to add it to), client_metadata (a hint), developer message items."""
    upstream.push(Reply.answer("Hi!"))
    response = client.responses.create(
        model="gpt-3.5-turbo",
        input=[
            {
                "type": "message",
                "id": "msg_1",
                "role": "developer",
                "content": [{"type": "input_text", "text": "You are a coding agent."}],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        ],  # type: ignore[list-item]
        tools=[
            WEATHER_TOOL,
            {"type": "web_search", "external_web_access": False},
            {"type": "namespace", "name": "agents", "description": "x", "tools": []},
        ],  # type: ignore[list-item]
        tool_choice="auto",
        reasoning={"summary": "auto"},
        store=False,
        include=["reasoning.encrypted_content"],
        prompt_cache_key="session-1",
        stream=True,
        extra_body={"client_metadata": {"session_id": "session-1"}},
    )
    events = list(response)
    assert events[-1].type == "response.completed"
    prompt = upstream.requests[0].prompt or ""
    assert prompt.startswith("System: You are a coding agent.\nUser: Hi\nSystem: You can call")
    assert "get_weather" in prompt
    assert "web_search" not in prompt
    assert "agents" not in prompt


def test_non_text_parts_are_refused_by_name(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "auto"}
    with pytest.raises(
        openai.BadRequestError, match=r"input\[0\]\.content\[1\] is a 'input_image'"
    ):
        client.responses.create(
            model="gpt-3.5-turbo",
            input=[
                {
                    "role": "user",
                    "content": [{"type": "input_text", "text": "What is this?"}, image],
                }
            ],  # type: ignore[list-item]
        )
    with pytest.raises(openai.BadRequestError, match="'reasoning' item"):
        client.responses.create(
            model="gpt-3.5-turbo",
            input=[{"type": "reasoning", "id": "rs_1", "summary": []}],  # type: ignore[list-item]
        )
    assert upstream.requests == []


def test_the_store_is_bounded() -> None:
    now = [0.0]
    store = ResponseStore(max_responses=3, max_bytes=200, ttl=10, clock=lambda: now[0])
    message = [{"role": "user", "content": "x"}]
    for index in range(4):
        assert store.put(f"r{index}", message)
    assert store.get("r0") is None  # the oldest went first
    assert store.get("r3") == message
    assert not store.put("big", [{"role": "user", "content": "x" * 300}])  # over the bytes
    assert store.put("r4", [{"role": "user", "content": "x" * 150}])
    assert len(store) == 1  # the others made room for it
    now[0] = 11.0
    assert store.get("r4") is None  # expired


def named_events(body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """A named event stream's ``(event, data)`` pairs; each event is exactly those two lines."""
    pairs = []
    for block in body.decode().split("\n\n"):
        if not block:
            continue
        event, data = block.split("\n")
        assert event.startswith("event: ")
        assert data.startswith("data: ")
        pairs.append((event[7:], json.loads(data[6:])))
    return pairs


def test_the_wire_of_a_stream(server: Server, upstream: StandInService) -> None:
    """What the SDKs rely on without showing it: the stream's content type, each event's name
    being its data's type, sequence numbers from 0, one id throughout, the final usage, and
    an incomplete answer ending with response.incomplete after every item is done."""
    upstream.push(Reply.answer("a" * 100))
    request = {"model": "gpt-3.5-turbo", "input": "Say a", "stream": True, "max_output_tokens": 5}
    status, headers, body = server.raw("POST", "/v1/responses", json.dumps(request).encode())
    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    events = named_events(body)
    assert all(name == data["type"] for name, data in events)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    ids = {data["response"]["id"] for _, data in events if "response" in data}
    assert len(ids) == 1
    assert ids.pop().startswith("resp_")
    names = [name for name, _ in events]
    assert names[-2:] == ["response.output_item.done", "response.incomplete"]
    final = events[-1][1]["response"]
    assert final["status"] == "incomplete"
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert final["usage"]["output_tokens"] == 5
    item = events[-2][1]["item"]
    assert item["status"] == "incomplete"
    assert item["id"].startswith("msg_")
    assert events[0][1]["response"]["usage"] is None


def test_what_the_sdk_sends_is_not_refused(server: Server, upstream: StandInService) -> None:
    """openai-python's own headers (x-stainless-*, retry count, timeout) and those a client
    adds (OpenAI-Beta, organization, project, idempotency key) are all accepted."""
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key=API_KEY,
        max_retries=0,
        organization="org-1",
        project="proj-1",
        default_headers={"OpenAI-Beta": "responses=v1", "Idempotency-Key": "key-1"},
    )
    upstream.push(Reply.answer("ok"))
    response = client.responses.create(model="gpt-3.5-turbo", input="Hi")
    assert response.output_text == "ok"
