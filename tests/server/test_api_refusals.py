"""Malformed requests to ``/v1/messages`` and ``/v1/responses`` are refused with a 400 that
names the field and says what to send, in each API's error shape; and the less common fields
that are honoured reach the chat completion request as chat's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aichat_provider.server import create_app
from aichat_provider.server._messages_api import to_chat as messages_to_chat
from aichat_provider.server._responses_api import to_chat as responses_to_chat
from aichat_provider.server._responses_store import ResponseStore

MODEL = "gpt-3.5-turbo"
USER = {"role": "user", "content": "Hi"}
TOOL: Any = {"name": "get_weather", "input_schema": {"type": "object"}}
FUNCTION: Any = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
CALL: Any = {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as opened:
        yield opened


# (fields over a valid request, words the message must hold: the field, then what to do)
MESSAGES_REFUSALS: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({"top_k": 5}, ("top_k", "leave")),
    ({"stream": "yes"}, ("'stream'", "true or false")),
    ({"messages": []}, ("'messages'", "non-empty list")),
    ({"messages": [{"role": "bot", "content": "Hi"}]}, ("messages[0].role", "'user'")),
    ({"messages": [{"role": "user", "content": 5}]}, ("messages[0].content", "list of blocks")),
    (
        {"messages": [USER, {"role": "assistant", "content": [{"type": "tool_use"}]}]},
        ("messages[1].content[0]", "needs an 'id' and a 'name'"),
    ),
    (
        {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]},
        ("messages[0].content[0]", "needs a 'tool_use_id'"),
    ),
    ({"system": 5}, ("system must be", "list of text blocks")),
    ({"system": [{"type": "image"}]}, ("system[0]", "'image'", "only text blocks")),
    ({"tool_choice": {"type": "any"}}, ("tool_choice", "'tools' offers none")),
    ({"tools": "get_weather"}, ("'tools'", "must be a list")),
    (
        {"tools": [{"type": "web_search_20250305", "name": "web_search"}]},
        ("tools[0]", "'web_search_20250305'", "only client tools"),
    ),
    ({"tools": [TOOL], "tool_choice": "auto"}, ("tool_choice", "{'type': 'auto'}")),
    ({"tools": [TOOL], "tool_choice": {"type": "every"}}, ("tool_choice.type", "'any'")),
    ({"output_config": {"schema": {}}}, ("'output_config'", "'format'")),
    (
        {"output_config": {"format": {"type": "json_object"}}},
        ("output_config.format", "'json_schema'"),
    ),
    ({"stop_sequences": [""]}, ("'stop_sequences'", "non-empty strings")),
    # Given but wrong is not missing (a number past 64 bits arrives as a float).
    ({"max_tokens": 2**70}, ("'max_tokens' must be a whole number", "at least 1")),
    ({"max_tokens": 0}, ("'max_tokens' must be a whole number", "at least 1")),
]


@pytest.mark.parametrize(("fields", "words"), MESSAGES_REFUSALS)
async def test_messages_refusals(
    client: httpx.AsyncClient, fields: dict[str, Any], words: tuple[str, ...]
) -> None:
    body = {"model": MODEL, "max_tokens": 10, "messages": [USER], **fields}
    response = await client.post("/v1/messages", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    for word in words:
        assert word in error["error"]["message"]


# (fields over a valid request, the param named, words the message must hold)
RESPONSES_REFUSALS: list[tuple[dict[str, Any], str, tuple[str, ...]]] = [
    ({"stream_options": {"include_obfuscation": False}}, "stream_options", ("'stream': true",)),
    ({"previous_response_id": ""}, "previous_response_id", ("a response id",)),
    ({"instructions": ["Be brief"]}, "instructions", ("must be a string",)),
    ({"text": "json"}, "text", ("'format'",)),
    ({"max_tool_calls": -1}, "max_tool_calls", ("at least 0",)),
    ({"input": []}, "input", ("'input'", "non-empty list")),
    ({"input": ["Hi"]}, "input", ("input[0]", "an object")),
    ({"input": [{"role": "bot", "content": "Hi"}]}, "input", ("input[0].role", "'developer'")),
    (
        {"input": [{"type": "function_call", "call_id": "c1", "name": "f"}]},
        "input",
        ("input[0]", "'arguments' strings"),
    ),
    (
        {"input": [{"type": "function_call_output", "output": "sunny"}]},
        "input",
        ("input[0]", "needs a 'call_id'"),
    ),
    (
        {"input": [CALL, {"type": "function_call_output", "call_id": "c1", "output": 5}]},
        "input",
        ("input[1].output", "list of text parts"),
    ),
    ({"tools": "get_weather"}, "tools", ("'tools'", "must be a list")),
    ({"tools": [5]}, "tools", ("tools[0]", "with a 'type'")),
    ({"text": {"format": {"type": "json_schema"}}}, "text", ("'schema' object",)),
    ({"text": {"format": {"type": "yaml"}}}, "text", ("'json_schema'",)),
    ({"store": "yes"}, "store", ("true, false or null",)),
]


@pytest.mark.parametrize(("fields", "param", "words"), RESPONSES_REFUSALS)
async def test_responses_refusals(
    client: httpx.AsyncClient, fields: dict[str, Any], param: str, words: tuple[str, ...]
) -> None:
    body = {"model": MODEL, "input": "Hi", **fields}
    response = await client.post("/v1/responses", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    for word in words:
        assert word in error["message"]


def test_messages_fields_reach_the_chat_request() -> None:
    wanted = messages_to_chat(
        {
            "model": MODEL,
            "max_tokens": 10,
            "system": [],
            "temperature": 0.5,
            "messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f"}]},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Here:"},
                        {"type": "tool_result", "tool_use_id": "t1", "content": "x", "is_error": 1},
                    ],
                },
            ],
            "tools": [TOOL],
            "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": True},
        }
    )
    chat = wanted.chat
    assert chat["temperature"] == 0.5
    assert [m["role"] for m in chat["messages"]] == ["assistant", "user", "tool"]  # no system
    assert chat["messages"][1]["content"] == "Here:"  # the text stays before the result
    assert chat["messages"][2]["content"] == "(error) x"
    assert chat["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    ]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert chat["parallel_tool_calls"] is False


@pytest.mark.parametrize(
    ("choice", "expected"), [("auto", "auto"), ("any", "required"), ("none", "none")]
)
def test_messages_tool_choice_as_chat(choice: str, expected: str) -> None:
    wanted = messages_to_chat(
        {
            "model": MODEL,
            "max_tokens": 10,
            "messages": [USER],
            "tools": [TOOL],
            "tool_choice": {"type": choice},
        }
    )
    assert wanted.chat["tool_choice"] == expected
    assert "parallel_tool_calls" not in wanted.chat


def test_responses_fields_reach_the_chat_request() -> None:
    wanted = responses_to_chat(
        {
            "model": MODEL,
            "input": [USER, CALL, {**CALL, "call_id": "c2"}],
            "tools": [FUNCTION],
            "tool_choice": {"type": "function", "name": "get_weather"},
            "parallel_tool_calls": False,
            "text": {"format": {"type": "text"}},
        },
        ResponseStore(),
    )
    chat = wanted.chat
    assert [c["id"] for c in chat["messages"][1]["tool_calls"]] == ["c1", "c2"]  # one turn
    assert len(chat["messages"]) == 2
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert chat["parallel_tool_calls"] is False
    assert "response_format" not in chat


@pytest.mark.parametrize(
    ("text", "expected"),
    [({"verbosity": "low"}, None), ({"format": {"type": "json_object"}}, {"type": "json_object"})],
)
def test_responses_text_format_as_chat(text: dict[str, Any], expected: object) -> None:
    wanted = responses_to_chat({"model": MODEL, "input": "Hi", "text": text}, ResponseStore())
    assert wanted.chat.get("response_format") == expected
