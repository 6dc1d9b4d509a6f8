"""Anthropic's Messages API, the answers: a chat choice as a Message or as Anthropic's event
stream, errors and the model list in Anthropic's shapes."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ._emulation import Choice, estimate_tokens
from ._errors import APIError, invalid
from ._messages_api import MessagesRequest

#: Models in a page of Anthropic's model list, unless ``limit`` says; the most it may ask for.
MODELS_PAGE = 20
MAX_MODELS_PAGE = 1000
#: HTTP statuses as Anthropic's error types.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def render(request: MessagesRequest, choice: Choice, prompt_tokens: int) -> dict[str, Any]:
    """The Message for one chat choice; ``stop_sequences`` are applied here, so the answer
    can say which one ended it."""
    stop_reason, stop_sequence = "end_turn", None
    content: list[dict[str, Any]] = []
    if choice.tool_calls is not None:
        stop_reason = "tool_use"
        for call in choice.tool_calls:
            function = call["function"]
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{os.urandom(12).hex()}",
                    "name": function["name"],
                    "input": json.loads(function["arguments"]),
                }
            )
        output_tokens = choice.tokens
    else:
        text = choice.text or ""
        if request.prefill and text.lstrip().startswith(request.prefill):
            text = text.lstrip()[len(request.prefill) :]  # the client has it already
        if choice.reason == "length":
            stop_reason = "max_tokens"
        found = [(text.find(s), s) for s in request.stop_sequences if s in text]
        if found:
            cut, stop_sequence = min(found)
            text, stop_reason = text[:cut], "stop_sequence"
        content.append({"type": "text", "text": text})
        output_tokens = estimate_tokens(text)
    return {
        "id": f"msg_{os.urandom(12).hex()}",
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": {
            "input_tokens": prompt_tokens,
            "output_tokens": output_tokens,
            # No prompt cache here; Anthropic's API sends these as 0, and clients add them up.
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def events(message: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Anthropic's event stream of a finished message, as ``(event name, data)`` pairs."""
    started = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**message["usage"], "output_tokens": 0},
    }
    sequence: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": started}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            empty = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            empty = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        sequence += [
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": empty},
            ),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]
    sequence += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": message["stop_reason"],
                    "stop_sequence": message["stop_sequence"],
                },
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sequence


def error_body(error: APIError) -> dict[str, Any]:
    """An error in Anthropic's shape (the OpenAI ``code`` kept alongside: it says more), the
    code also as ``details.error_code``, where Anthropic's SDKs read one (``error_code``)."""
    kind = ERROR_TYPES.get(
        error.status, "api_error" if error.status >= 500 else "invalid_request_error"
    )
    body: dict[str, Any] = {"type": kind, "message": error.message, "code": error.code}
    if error.code is not None:
        body["details"] = {"error_code": error.code}
    return {"type": "error", "error": body}


def model_list(
    entries: Sequence[Mapping[str, Any]], query: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``GET /v1/models`` in the shape Anthropic's SDKs page through: ``limit`` models (20
    unless ``query`` says otherwise) after ``after_id`` or before ``before_id``."""
    query = query or {}
    text = query.get("limit", str(MODELS_PAGE))
    if not text.isdigit() or not 1 <= int(text) <= MAX_MODELS_PAGE:
        raise invalid(f"'limit' must be a whole number from 1 to {MAX_MODELS_PAGE}.", "limit")
    limit = int(text)
    ids = [entry["id"] for entry in entries]
    start, end = 0, len(ids)
    for name in ("after_id", "before_id"):
        wanted = query.get(name)
        if wanted is None:
            continue
        if wanted not in ids:
            raise invalid(
                f"No model {wanted[:100]!r} in the list: page with a page's first_id or last_id.",
                name,
            )
        if name == "after_id":
            start = ids.index(wanted) + 1
        else:
            end = ids.index(wanted)
    if "before_id" in query:  # the page just before it, as the SDKs page backwards
        page = ids[max(start, end - limit) : end]
        has_more = end - limit > start
    else:
        page = ids[start : start + limit]
        has_more = start + limit < end
    data = [
        {"type": "model", "id": id_, "display_name": id_, "created_at": "1970-01-01T00:00:00Z"}
        for id_ in page
    ]
    return {
        "data": data,
        "has_more": has_more,
        "first_id": page[0] if page else None,
        "last_id": page[-1] if page else None,
    }
