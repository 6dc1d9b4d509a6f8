"""OpenAI's Responses API, the answers: a chat choice as a Response object or as the Responses
event stream, and the conversation it ends kept for ``previous_response_id``."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from ._emulation import Choice
from ._responses_api import ResponsesRequest
from ._responses_store import ResponseStore


def render(request: ResponsesRequest, choice: Choice, usage: Mapping[str, int]) -> dict[str, Any]:
    """The Response object for one chat choice (``usage`` as the chat route counts it)."""
    output: list[dict[str, Any]] = []
    incomplete = choice.reason == "length"
    if choice.tool_calls is not None:
        calls = choice.tool_calls
        if request.max_tool_calls is not None:
            calls = calls[: request.max_tool_calls]
        for call in calls:
            output.append(
                {
                    "type": "function_call",
                    "id": f"fc_{os.urandom(12).hex()}",
                    "call_id": call["id"],
                    "name": call["function"]["name"],
                    "arguments": call["function"]["arguments"],
                    "status": "completed",
                }
            )
    else:
        output.append(
            {
                "type": "message",
                "id": f"msg_{os.urandom(12).hex()}",
                "status": "incomplete" if incomplete else "completed",
                "role": "assistant",
                "content": [_text_part(choice.text or "")],
            }
        )
    return {
        "id": f"resp_{os.urandom(16).hex()}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "model": request.model,
        "output": output,
        **request.echo,
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["total_tokens"],
        },
    }


def remember(request: ResponsesRequest, response: Mapping[str, Any], store: ResponseStore) -> None:
    """Keep the conversation the response ends, when the request lets it be stored."""
    if request.store:
        store.put(response["id"], [*request.conversation, *_output_messages(response["output"])])


def events(response: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Responses event stream of a finished response, as ``(event name, data)`` pairs."""
    sequence: list[tuple[str, dict[str, Any]]] = []

    def emit(kind: str, **data: Any) -> None:
        sequence.append((kind, {"type": kind, "sequence_number": len(sequence), **data}))

    started = {**response, "status": "in_progress", "output": [], "usage": None}
    started["incomplete_details"] = None
    emit("response.created", response=started)
    emit("response.in_progress", response=started)
    for index, item in enumerate(response["output"]):
        item_id = item["id"]
        if item["type"] == "function_call":
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            emit(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=index,
                delta=item["arguments"],
            )
            emit(
                "response.function_call_arguments.done",
                item_id=item_id,
                output_index=index,
                name=item["name"],
                arguments=item["arguments"],
            )
        else:
            part = item["content"][0]
            where = {"item_id": item_id, "output_index": index, "content_index": 0}
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "content": []},
            )
            emit("response.content_part.added", **where, part=_text_part(""))
            emit("response.output_text.delta", **where, delta=part["text"], logprobs=[])
            emit("response.output_text.done", **where, text=part["text"], logprobs=[])
            emit("response.content_part.done", **where, part=part)
        emit("response.output_item.done", output_index=index, item=item)
    final = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    emit(final, response=dict(response))
    return sequence


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _output_messages(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A response's output items as chat messages (what the next turn's prompt shows)."""
    calls = [
        {
            "id": item["call_id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item["arguments"]},
        }
        for item in output
        if item["type"] == "function_call"
    ]
    if calls:
        return [{"role": "assistant", "content": None, "tool_calls": calls}]
    text = "".join(part["text"] for item in output for part in item.get("content", []))
    return [{"role": "assistant", "content": text}]
