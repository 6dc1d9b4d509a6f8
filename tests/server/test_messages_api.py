"""Anthropic's Messages API (``POST /v1/messages``), driven by the ``anthropic`` SDK against
``aichat serve`` and the stand-in's scripted replies."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from aichat_provider.testing import Reply, StandInService
from support.secrets import SECRET_COOKIE
from support.server import API_KEY, Server, serve_stand_in

MODEL = "gpt-3.5-turbo"
WEATHER: Any = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture
def client(server: Server) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.origin, api_key=API_KEY, max_retries=0)


def test_plain(client: anthropic.Anthropic, upstream: StandInService) -> None:
    upstream.push(Reply.answer("Bonjour !"))
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        system=[{"type": "text", "text": "Answer in French."}],
        messages=[{"role": "user", "content": "Hello"}],
    )
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.id.startswith("msg_")
    [block] = message.content
    assert block.type == "text"
    assert block.text == "Bonjour !"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 3
    assert message.usage.input_tokens > 0
    # Zero, as Anthropic's API sends them: a client adding them up gets no undefined (NaN in JS).
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.cache_read_input_tokens == 0
    assert upstream.requests[0].prompt == "System: Answer in French.\nUser: Hello\nAssistant:"


def test_stop_sequences_and_max_tokens(
    client: anthropic.Anthropic, upstream: StandInService
) -> None:
    upstream.push(Reply.answer("one, two. three"))
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        stop_sequences=[". ", "nothing"],
        messages=[{"role": "user", "content": [{"type": "text", "text": "Count"}]}],
    )
    assert message.content[0].text == "one, two"  # type: ignore[union-attr]
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == ". "

    upstream.push(Reply.answer("a" * 100))
    message = client.messages.create(
        model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "Say a"}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.content[0].text == "a" * 20  # type: ignore[union-attr]


def test_a_prefilled_answer_continues_from_the_prefill(
    client: anthropic.Anthropic, upstream: StandInService
) -> None:
    """Anthropic's prefill: a last assistant message is the answer's start, and the answer is
    given without it, so prefill + answer is the whole (as clients join them)."""
    prefill = '{"city":'
    messages: Any = [
        {"role": "user", "content": "The weather in Paris as JSON"},
        {"role": "assistant", "content": prefill},
    ]
    upstream.push(Reply.answer('{"city": "Paris", "sky": "clear"}'))
    message = client.messages.create(model=MODEL, max_tokens=100, messages=messages)
    text = message.content[0].text  # type: ignore[union-attr]
    assert prefill + text == '{"city": "Paris", "sky": "clear"}'
    prompt = upstream.requests[0].prompt
    assert prompt.endswith(f"Begin your answer with exactly this text: {prefill}\nAssistant:")
    assert f"Assistant: {prefill}" not in prompt  # not a finished turn before a new one

    # A model that did not begin with it: its answer is given whole.
    upstream.push(Reply.answer("Paris is clear today."))
    message = client.messages.create(model=MODEL, max_tokens=100, messages=messages)
    assert message.content[0].text == "Paris is clear today."  # type: ignore[union-attr]

    # As Anthropic's API: a prefill may not end in white space.
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[messages[0], {"role": "assistant", "content": "Sure: "}],
        )
    assert "trailing white space" in refused.value.message
    assert len(upstream.requests) == 2


def test_streamed(client: anthropic.Anthropic, upstream: StandInService) -> None:
    upstream.push(Reply.answer("Hello there"))
    events = list(
        client.messages.create(
            model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "Hi"}], stream=True
        )
    )
    assert [event.type for event in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]  # the SDK drops the ping
    upstream.push(Reply.answer("Hello again"))
    with client.messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello again"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 3


def test_the_wire_of_a_stream(server: Server, upstream: StandInService) -> None:
    """Each event's name is its data's type, the content type is the stream's, and the usage
    and stop reason of message_delta are those of the whole message."""
    upstream.push(Reply.answer("one. two"))
    request = {
        "model": MODEL,
        "max_tokens": 100,
        "stream": True,
        "stop_sequences": ["."],
        "messages": [{"role": "user", "content": "Count"}],
    }
    status, headers, body = server.raw(
        "POST", "/v1/messages", json.dumps(request).encode(), {"anthropic-version": "2023-06-01"}
    )
    assert status == 200
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    events = []
    for block in body.decode().split("\n\n")[:-1]:
        event, data = block.split("\n")
        events.append((event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    assert all(name == data["type"] for name, data in events)
    start, delta = events[0][1]["message"], events[-2][1]
    assert start["id"].startswith("msg_")
    assert (start["stop_reason"], start["usage"]["output_tokens"]) == (None, 0)
    assert delta["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "."}
    assert delta["usage"] == {"output_tokens": 1}  # "one"
    assert events[3][1]["delta"] == {"type": "text_delta", "text": "one"}


def test_what_the_sdk_sends_is_not_refused(server: Server, upstream: StandInService) -> None:
    """The SDK's headers (anthropic-version, x-stainless-*), betas, the browser flag and the
    key as a bearer token (auth_token) are all accepted."""
    client = anthropic.Anthropic(
        base_url=server.origin,
        auth_token=API_KEY,
        max_retries=0,
        default_headers={"anthropic-dangerous-direct-browser-access": "true"},
    )
    upstream.push(Reply.answer("ok"))
    message = client.beta.messages.create(
        model=MODEL,
        max_tokens=10,
        betas=["interleaved-thinking-2025-05-14"],
        messages=[{"role": "user", "content": "Hi"}],
    )
    assert message.content[0].text == "ok"  # type: ignore[union-attr]


def test_a_tool_round_trip(client: anthropic.Anthropic, upstream: StandInService) -> None:
    question: Any = {"role": "user", "content": "Weather in Paris?"}
    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Paris"}}'))
    first = client.messages.create(
        model=MODEL, max_tokens=100, tools=[WEATHER], messages=[question]
    )
    assert first.stop_reason == "tool_use"
    [use] = first.content
    assert use.type == "tool_use"
    assert use.name == "get_weather"
    assert use.input == {"city": "Paris"}
    assert "- get_weather: The weather in a city" in (upstream.requests[0].prompt or "")

    upstream.push(Reply.answer("It is 21 C in Paris."))
    second = client.messages.create(
        model=MODEL,
        max_tokens=100,
        tools=[WEATHER],
        messages=[
            question,
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "21 C"}],
            },
        ],
    )
    assert second.content[0].text == "It is 21 C in Paris."  # type: ignore[union-attr]
    prompt = upstream.requests[1].prompt or ""
    assert f'Called tool get_weather (call {use.id}) with {{"city": "Paris"}}.' in prompt
    assert f"Result of tool call {use.id}: 21 C" in prompt


def test_tool_choice_any_and_a_streamed_tool_use(
    client: anthropic.Anthropic, upstream: StandInService
) -> None:
    upstream.push(Reply.answer('{"city": "Lima"}'))
    with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        tools=[WEATHER],
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "Weather in Lima?"}],
    ) as stream:
        final = stream.get_final_message()
    [use] = final.content
    assert use.type == "tool_use"
    assert use.input == {"city": "Lima"}
    assert final.stop_reason == "tool_use"
    assert "Call the function get_weather" in (upstream.requests[0].prompt or "")


def test_the_sdks_tool_runner(client: anthropic.Anthropic, upstream: StandInService) -> None:
    """The SDK's tool runner asks for a server-held thread first; refused with the error code
    that says threads are not served, it sends the whole conversation each turn instead."""

    @anthropic.beta_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"21 C in {city}"

    upstream.push(Reply.answer('{"name": "get_weather", "arguments": {"city": "Paris"}}'))
    upstream.push(Reply.answer("It is 21 C in Paris."))
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=100,
        tools=[get_weather],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    final = runner.until_done()
    assert final.content[0].text == "It is 21 C in Paris."  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"
    assert len(upstream.requests) == 2
    assert "Result of tool call toolu_" in (upstream.requests[1].prompt or "")
    assert ": 21 C in Paris\n" in (upstream.requests[1].prompt or "")

    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": "Hi"}],
            extra_body={"thread": {"type": "create"}},
        )
    assert caught.value.error_code == "thread_unsupported_request"
    assert "send the whole conversation" in str(caught.value)
    assert len(upstream.requests) == 2


def test_errors_in_anthropics_shape(
    client: anthropic.Anthropic, server: Server, upstream: StandInService
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "AA"},
                        }
                    ],
                }
            ],
        )
    assert caught.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": caught.value.body["error"]["message"],  # type: ignore[index]
            "code": "unsupported_content",
            "details": {"error_code": "unsupported_content"},
        },
    }
    assert "messages[0].content[0] is a 'image' block" in str(caught.value)

    status, _, body = server.post_json(
        "/v1/messages", {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    )
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"
    assert "'max_tokens' is required" in body["error"]["message"]

    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(
            model="claude-nope", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        )
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("fault", "error_class", "kind"),
    [
        ("rejected cookies", anthropic.AuthenticationError, "authentication_error"),
        ("foreign origin", anthropic.PermissionDeniedError, "permission_error"),
        ("body too large", anthropic.ContentTooLargeError, "request_too_large"),
        ("not JSON", anthropic.APIStatusError, "invalid_request_error"),
        ("rate limited", anthropic.RateLimitError, "rate_limit_error"),
        ("service failed", anthropic.InternalServerError, "api_error"),
        ("cloudflare", anthropic.ServiceUnavailableError, "overloaded_error"),
    ],
)
def test_every_error_is_the_sdks_error_class_in_anthropics_shape(
    server: Server,
    upstream: StandInService,
    fault: str,
    error_class: type[anthropic.APIStatusError],
    kind: str,
) -> None:
    headers = {"Origin": "http://evil.example"} if fault == "foreign origin" else {}
    client = anthropic.Anthropic(
        base_url=server.origin, api_key=API_KEY, max_retries=0, default_headers=headers
    )
    upstream.set_default(
        {
            "rejected cookies": Reply.status(403),
            "rate limited": Reply.status(429, retry_after=1),
            "service failed": Reply.status(500),
            "cloudflare": Reply.cloudflare(503),
        }.get(fault, Reply.answer("unused"))
    )
    content = "x" * (2 * 1024 * 1024) if fault == "body too large" else "Hi"
    extra = {"content-type": "text/plain"} if fault == "not JSON" else {}
    with pytest.raises(error_class) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": content}],
            extra_headers=extra,
        )
    error = caught.value
    assert type(error) is error_class
    assert error.body["type"] == "error"  # type: ignore[index]
    assert error.type == kind
    assert error.error_code == error.body["error"]["code"]  # type: ignore[index]
    assert error.api_message
    assert error.response.headers["x-should-retry"] in ("true", "false")
    assert SECRET_COOKIE not in str(error)
    assert API_KEY not in str(error)


def test_the_key_as_x_api_key(server: Server, upstream: StandInService) -> None:
    request = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
    status, _, body = server.post_json(
        "/v1/messages", request, {"Authorization": "", "x-api-key": API_KEY}
    )
    assert status == 200
    assert body["content"][0]["text"] == "echo: Hi"

    status, headers, body = server.post_json(
        "/v1/messages", request, {"Authorization": "", "x-api-key": "sk-wrong"}
    )
    assert status == 401
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert headers["x-should-retry"] == "false"
    wrong = anthropic.Anthropic(base_url=server.origin, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        wrong.messages.create(**request)
    assert "sk-wrong" not in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert SECRET_COOKIE not in str(caught.value)
    assert len(upstream.requests) == 1


def test_models_list_and_count_tokens(client: anthropic.Anthropic) -> None:
    ids = [model.id for model in client.models.list()]
    assert "gpt-3.5-turbo" in ids
    assert "aichat/gpt-3.5-turbo" in ids
    model = next(iter(client.models.list()))
    assert model.type == "model"
    assert model.display_name
    assert client.models.retrieve("aichat/gpt-3.5-turbo").display_name == "aichat/gpt-3.5-turbo"
    counted = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "x" * 40}]
    )
    assert counted.input_tokens == 10


def test_errors_of_other_routes_are_in_anthropics_shape_for_its_sdk(
    client: anthropic.Anthropic, server: Server
) -> None:
    """Anthropic's SDKs (they send ``anthropic-version``) get Anthropic's error shape from the
    model routes they call and from a path this server does not serve, as the model list
    itself is in their shape; an OpenAI client keeps OpenAI's."""
    wrong = anthropic.Anthropic(base_url=server.origin, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as refused:
        wrong.models.list()
    assert refused.value.type == "authentication_error"
    assert refused.value.error_code == "invalid_api_key"
    assert refused.value.body["type"] == "error"  # type: ignore[index]
    assert "sk-wrong" not in str(refused.value)
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.models.retrieve("nope")
    assert missing.value.type == "not_found_error"
    assert missing.value.error_code == "model_not_found"
    with pytest.raises(anthropic.NotFoundError) as unserved:
        client.messages.batches.retrieve("msgbatch_1")
    assert unserved.value.type == "not_found_error"

    status, _, body = server.post_json("/v1/messages/batches", {})
    assert status == 404
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_found"


def test_models_list_pages(client: anthropic.Anthropic, server: Server) -> None:
    """``limit``, ``after_id`` and ``before_id`` page through the list as Anthropic's API does,
    and the SDK's auto-paging sees every model once."""
    every = [model.id for model in client.models.list()]
    assert len(every) >= 2
    first = client.models.list(limit=1)
    assert [model.id for model in first.data] == every[:1]
    assert first.has_more
    assert (first.first_id, first.last_id) == (every[0], every[0])
    assert [model.id for model in client.models.list(limit=1)] == every  # page by page
    assert [model.id for model in client.models.list(after_id=every[0])] == every[1:]
    before = client.models.list(before_id=every[-1], limit=1)
    assert [model.id for model in before.data] == every[-2:-1]
    assert before.has_more == (len(every) > 2)

    headers = {"anthropic-version": "2023-06-01"}
    for query in ("limit=0", "limit=1001", "limit=x", "after_id=nope"):
        status, _, body = server.raw("GET", f"/v1/models?{query}", headers=headers)
        assert status == 400, query
        assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_the_openai_shape_of_models_is_unchanged(server: Server) -> None:
    status, _, body = server.raw("GET", "/v1/models")
    assert status == 200
    data = json.loads(body)
    assert data["object"] == "list"
    assert set(data["data"][0]) == {"id", "object", "created", "owned_by"}


def test_what_claude_code_sends(server: Server, upstream: StandInService) -> None:
    """Claude Code's request, in its shape: ~80 KB sent at once, the key as x-api-key, system
    blocks, a system message between turns, thinking and context edits that clear thinking
    (none is ever made), effort, a query string."""
    request = {
        "model": MODEL,
        "max_tokens": 32000,
        "stream": True,
        "system": [
            {
                "type": "text",
                "text": "You are a coding agent.",
                "cache_control": {"type": "ephemeral"},
            }
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Say hi"}]},
            {"role": "system", "content": "Agents: none."},
        ],
        "tools": [{**WEATHER, "description": "x" * 80_000}],
        "metadata": {"user_id": "someone"},
        "thinking": {"type": "adaptive"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
    }
    upstream.push(Reply.answer("Hi!"))
    status, headers, body = server.raw(
        "POST",
        "/v1/messages?beta=true",
        json.dumps(request).encode(),
        {"Authorization": "", "x-api-key": API_KEY, "anthropic-version": "2023-06-01"},
    )
    assert status == 200, body[:300]
    assert headers["content-type"].startswith("text/event-stream")
    names = [line[7:] for line in body.decode().splitlines() if line.startswith("event: ")]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    prompt = upstream.requests[0].prompt or ""
    assert prompt.startswith("System: You are a coding agent.\nUser: Say hi\nSystem: Agents: none.")

    request["context_management"] = {"edits": [{"type": "clear_tool_uses_20250919"}]}
    status, _, body = server.raw(
        "POST", "/v1/messages", json.dumps(request).encode(), {"x-api-key": API_KEY}
    )
    assert status == 400
    assert json.loads(body)["error"]["message"].startswith("This server cannot edit the context")
    assert len(upstream.requests) == 1


def test_output_config_format_is_structured_output(
    client: anthropic.Anthropic, upstream: StandInService
) -> None:
    upstream.push(Reply.answer('{"city": "Oslo"}'))
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    message = client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "Where?"}],
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    assert json.loads(message.content[0].text) == {"city": "Oslo"}  # type: ignore[union-attr]
    upstream.push(Reply.answer("Oslo"))
    with pytest.raises(anthropic.InternalServerError) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "Where?"}],
            output_config={"format": {"type": "json_schema", "schema": schema}},
        )
    assert caught.value.body["error"]["type"] == "api_error"  # type: ignore[index]


def exchange(server: Server, data: bytes) -> tuple[int, dict[str, str], Any]:
    """``data`` sent on a fresh connection, and the answer read until the server closes it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        client.sendall(data)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    return int(lines[0].split()[1]), headers, json.loads(body)


def test_protocol_errors_on_messages_routes_are_in_anthropics_shape(
    client: anthropic.Anthropic, server: Server, upstream: StandInService
) -> None:
    """What the HTTP layer refuses (a head too large, a request that is not HTTP/1.1) is
    answered in the shape of the route it was sent to: Anthropic's on /v1/messages."""
    with pytest.raises(anthropic.RequestHeaderFieldsTooLargeError) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": "Hi"}],
            extra_headers={"x-fill": "a" * 70_000},
        )
    assert caught.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": caught.value.body["error"]["message"],  # type: ignore[index]
            "code": "request_header_too_large",
            "details": {"error_code": "request_header_too_large"},
        },
    }
    assert caught.value.type == "invalid_request_error"
    assert "over 65536 bytes" in str(caught.value)

    framed_twice = (
        b"POST /v1/messages?beta=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    status, headers, body = exchange(server, framed_twice)
    assert status == 400
    assert headers["connection"] == "close"
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "invalid_http_request"
    chunked_upgrade = (
        b"POST /v1/messages/count_tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\n"
        b"Connection: Upgrade\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    )
    status, _, body = exchange(server, chunked_upgrade)
    assert (status, body["type"], body["error"]["code"]) == (400, "error", "invalid_http_request")

    # OpenAI's routes, and a path the server does not serve, keep OpenAI's shape.
    for path in (b"/v1/chat/completions", b"/v1/nothing"):
        status, _, body = exchange(server, framed_twice.replace(b"/v1/messages?beta=true", path))
        assert status == 400
        assert set(body) == {"error"}
        assert body["error"]["type"] == "invalid_request_error"
    assert upstream.requests == []


@pytest.fixture(scope="module")
def quick(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that waits one second for a request's head and body, and for the service."""
    running = serve_stand_in(
        upstream,
        tmp_path_factory.mktemp("quick"),
        "--read-timeout",
        "1",
        "--timeout",
        "1",
        "--max-retries",
        "0",
    )
    yield running
    running.stop()


@pytest.mark.slow
def test_a_request_timeout_on_messages_is_in_anthropics_shape(
    quick: Server, upstream: StandInService
) -> None:
    """A body that stops coming is answered 408 with Anthropic's ``timeout_error``, which the
    SDKs map to their request timeout error."""
    status, headers, body = exchange(
        quick,
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n"
        + f"x-api-key: {API_KEY}\r\n\r\n".encode()
        + b'{"model": ',
    )
    assert status == 408
    assert headers["x-should-retry"] == "true"
    assert body == {
        "type": "error",
        "error": {
            "type": "timeout_error",
            "message": body["error"]["message"],
            "code": "request_timeout",
            "details": {"error_code": "request_timeout"},
        },
    }
    assert upstream.requests == []


@pytest.mark.slow
def test_an_upstream_timeout_is_a_timeout_error(quick: Server, upstream: StandInService) -> None:
    upstream.set_default(Reply.hang())
    client = anthropic.Anthropic(base_url=quick.origin, api_key=API_KEY, max_retries=0)
    with pytest.raises(anthropic.GatewayTimeoutError) as caught:
        client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        )
    assert caught.value.type == "timeout_error"
    assert caught.value.error_code == "upstream_timeout"
    assert caught.value.response.headers["x-should-retry"] == "true"
