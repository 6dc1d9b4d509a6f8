"""``GET /openapi.json``: the API described from the typed models (OpenAPI 3.1), every route
included; a route added without a description gets a plain one, a route whose errors have
their own shape (``RouteInfo.error_body``: Anthropic's) is described with it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ._gateway import RouteInfo
from ._models import (
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionRequest,
    ErrorResponse,
    Health,
    ModelEntry,
    ModelList,
)
from ._models_apis import (
    AnthropicError,
    CountTokensRequest,
    CreateMessageRequest,
    CreateResponseRequest,
    Message,
    Response,
    TokenCount,
)

#: Per route template: summary, request model, answer model, and whether it can stream.
DESCRIBED: dict[str, tuple[str, type[BaseModel] | None, type[BaseModel] | None, bool]] = {
    "/v1/chat/completions": (
        "Create a chat completion",
        ChatCompletionRequest,
        ChatCompletion,
        True,
    ),
    "/v1/completions": ("Create a completion (legacy)", CompletionRequest, Completion, True),
    "/v1/responses": ("Create a response", CreateResponseRequest, Response, True),
    "/v1/messages": ("Create a message (Anthropic)", CreateMessageRequest, Message, True),
    "/v1/messages/count_tokens": (
        "Count a message's input tokens, estimated (Anthropic)",
        CountTokensRequest,
        TokenCount,
        False,
    ),
    "/v1/models": ("List the models", None, ModelList, False),
    "/v1/models/{id}": ("Retrieve a model", None, ModelEntry, False),
    "/health": ("Whether the server takes requests (503 while it drains)", None, Health, False),
    "/metrics": ("Prometheus metrics, all worker processes together", None, None, False),
    "/openapi.json": ("This description", None, None, False),
    "/": ("The chat page", None, None, False),
    "/static/{name}": ("The chat page's files", None, None, False),
}
#: Query parameters of a route: Anthropic's paging of the model list (with anthropic-version).
QUERY: dict[str, list[tuple[str, str, str]]] = {
    "/v1/models": [
        ("limit", "integer", "Models a page (Anthropic's SDKs; 20 unless given, 1 to 1000)."),
        ("after_id", "string", "The page after this model id (Anthropic's SDKs)."),
        ("before_id", "string", "The page before this model id (Anthropic's SDKs)."),
    ]
}
MODELS = (
    ChatCompletionRequest,
    ChatCompletion,
    CompletionRequest,
    Completion,
    ModelList,
    ModelEntry,
    Health,
    ErrorResponse,
    CreateResponseRequest,
    Response,
    CreateMessageRequest,
    CountTokensRequest,
    Message,
    TokenCount,
    AnthropicError,
)


def describe(table: Mapping[str, RouteInfo]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for template, info in table.items():
        paths[template] = {
            method.lower(): _operation(template, method, info)
            for method in info.methods
            if method != "HEAD"
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aichat serve",
            "version": "1",
            "description": "An OpenAI-compatible API in front of aichat-provider's providers.",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer"},
                "xApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }


@functools.lru_cache(maxsize=1)
def _schemas() -> dict[str, Any]:
    template = "#/components/schemas/{model}"
    _, schemas = models_json_schema(
        [(model, "validation") for model in MODELS], ref_template=template
    )
    return dict(schemas.get("$defs", {}))


def _operation(template: str, method: str, info: RouteInfo) -> dict[str, Any]:
    summary, request, answer, streams = DESCRIBED.get(template, (info.name, None, None, False))
    ok: dict[str, Any] = {"description": "OK"}
    if answer is not None:
        ok["content"] = {"application/json": {"schema": _ref(answer)}}
        if streams:
            ok["content"]["text/event-stream"] = {"schema": {"type": "string"}}
    error_model = ErrorResponse if info.error_body is None else AnthropicError
    error = {"content": {"application/json": {"schema": _ref(error_model)}}}
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": f"{method.lower()}_{template.strip('/').replace('/', '_') or 'page'}",
        "responses": {"200": ok, "default": {"description": "An error", **error}},
    }
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "query", "schema": {"type": kind}, "description": about}
        for name, kind, about in QUERY.get(template, [])
    ]
    if "{" in template:
        name = template.rpartition("{")[2].rstrip("}")
        parameters.append(
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        )
    if parameters:
        operation["parameters"] = parameters
    if request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(request)}},
        }
    if not info.public:
        operation["security"] = [{"apiKey": []}, {"xApiKey": []}]  # either one
    return operation


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}
