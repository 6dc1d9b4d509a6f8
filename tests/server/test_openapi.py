"""``GET /openapi.json``: a valid OpenAPI document that lists every route, and the answers the
server gives match the models it describes them with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.requests import Request

from aichat_provider import AsyncProvider
from aichat_provider.registry import ProviderRegistry
from aichat_provider.server import AichatServer, ServerConfig, create_app
from aichat_provider.server._models import ChatCompletion, Completion, ErrorResponse, ModelList
from aichat_provider.server._models_apis import AnthropicError, Message, Response, TokenCount

KEY = "sk-openapi-1"
AUTH = {"authorization": f"Bearer {KEY}"}


class Echo(AsyncProvider):
    working = True
    default_model = "echo-1"
    models: ClassVar[list[str]] = ["echo-1"]

    @classmethod
    async def create_async(
        cls, model: str, messages: Any, proxy: str | None = None, **_: Any
    ) -> str:  # type: ignore[override]
        return "echo"


@pytest.fixture
def app() -> AichatServer:
    registry = ProviderRegistry(group=None)
    registry.register(Echo)
    return create_app(ServerConfig(registry=registry, api_key=KEY))


@pytest.fixture
async def client(app: AichatServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as opened:
        yield opened


async def test_the_description_is_valid_and_lists_every_route(
    app: AichatServer, client: httpx.AsyncClient
) -> None:
    async def added(request: Request) -> object:
        return {}

    app.add("/v1/added", ("POST",), added)  # a route added later is described too
    assert (await client.get("/openapi.json")).status_code == 401  # behind the key
    reply = await client.get("/openapi.json", headers=AUTH)
    assert reply.status_code == 200
    spec = reply.json()
    validate(spec)
    described = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routes = {
        (path, method)
        for path, info in app.table.items()
        for method in info.methods
        if method != "HEAD"  # GET's, with no body: not an operation of its own
    }
    assert described == routes
    assert "/v1/added" in spec["paths"]
    chat = spec["paths"]["/v1/chat/completions"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatCompletionRequest"
    }
    paging = spec["paths"]["/v1/models"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in paging] == [
        ("limit", "query"),
        ("after_id", "query"),
        ("before_id", "query"),
    ]
    assert "security" not in spec["paths"]["/health"]["get"]
    assert "security" in spec["paths"]["/metrics"]["get"]


async def test_answers_match_their_models(client: httpx.AsyncClient) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    chat = await client.post(
        "/v1/chat/completions", json={"model": "echo-1", "messages": messages}, headers=AUTH
    )
    ChatCompletion.model_validate(chat.json())
    legacy = await client.post(
        "/v1/completions", json={"model": "echo-1", "prompt": "Hi"}, headers=AUTH
    )
    Completion.model_validate(legacy.json())
    ModelList.model_validate((await client.get("/v1/models", headers=AUTH)).json())
    refused = await client.post(
        "/v1/chat/completions",
        json={"model": "echo-1", "messages": messages, "n": "2"},
        headers=AUTH,
    )
    assert refused.status_code == 400  # a type error is OpenAI's 400 naming the field, not 422
    assert ErrorResponse.model_validate(refused.json()).error.param == "n"


async def test_the_other_apis_are_described_and_answer_as_described(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json", headers=AUTH)).json()
    messages_route = spec["paths"]["/v1/messages"]["post"]
    assert messages_route["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreateMessageRequest"
    }
    anthropic_error = {"$ref": "#/components/schemas/AnthropicError"}
    assert messages_route["responses"]["default"]["content"]["application/json"]["schema"] == (
        anthropic_error
    )
    assert {"xApiKey": []} in messages_route["security"]
    responses_route = spec["paths"]["/v1/responses"]["post"]
    assert responses_route["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Response"
    }

    answer = await client.post(
        "/v1/responses", json={"model": "echo-1", "input": "Hi"}, headers=AUTH
    )
    Response.model_validate(answer.json())
    anthropic = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    request = {"model": "echo-1", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
    message = await client.post("/v1/messages", json=request, headers=anthropic)
    Message.model_validate(message.json())
    del request["max_tokens"]
    counted = await client.post("/v1/messages/count_tokens", json=request, headers=anthropic)
    TokenCount.model_validate(counted.json())
    refused = await client.post("/v1/messages", json=request, headers=anthropic)
    assert refused.status_code == 400
    assert AnthropicError.model_validate(refused.json()).error.type == "invalid_request_error"
