"""OpenAI's answers from an Outcome: the JSON object, or the events of a stream.

The events of a stream are built whole (the service answers in one piece), so an adapter for
another API can read them as they are, or render the Outcome its own way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ._emulation import Choice, Outcome
from ._http import dumps


def chat_completion(outcome: Outcome) -> dict[str, Any]:
    return {
        **_head(outcome, "chatcmpl", "chat.completion"),
        "choices": [
            {
                "index": index,
                "message": _message(choice),
                "logprobs": None,
                "finish_reason": choice.reason,
            }
            for index, choice in enumerate(outcome.choices)
        ],
        "usage": outcome.usage,
    }


def chat_chunks(outcome: Outcome) -> list[dict[str, Any]]:
    """``chat.completion.chunk`` events: each choice's content, then each one's end."""
    head = _head(outcome, "chatcmpl", "chat.completion.chunk")
    if outcome.plan.include_usage:
        head["usage"] = None
    choices = outcome.choices
    events = [
        {**head, "choices": [_delta(index, _message(choice, streamed=True), None)]}
        for index, choice in enumerate(choices)
    ]
    events += [
        {**head, "choices": [_delta(index, {}, c.reason)]} for index, c in enumerate(choices)
    ]
    if outcome.plan.include_usage:
        events.append({**head, "choices": [], "usage": outcome.usage})
    return events


def completion(outcome: Outcome) -> dict[str, Any]:
    head = _head(outcome, "cmpl", "text_completion")
    return {**head, "choices": _items(outcome), "usage": outcome.usage}


def completion_chunks(outcome: Outcome) -> list[dict[str, Any]]:
    head = _head(outcome, "cmpl", "text_completion")
    events: list[dict[str, Any]] = []
    for item in _items(outcome):
        events.append({**head, "choices": [{**item, "finish_reason": None}]})
        events.append({**head, "choices": [{**item, "text": ""}]})
    if outcome.plan.include_usage:
        events.append({**head, "choices": [], "usage": outcome.usage})
    return events


def event_stream(events: Iterable[object]) -> bytes:
    """Server-sent events, one ``data:`` line per event, then ``data: [DONE]``."""
    return b"".join(b"data: " + dumps(event) + b"\n\n" for event in events) + b"data: [DONE]\n\n"


def named_event_stream(events: Iterable[tuple[str, object]]) -> bytes:
    """Server-sent events with names, ``event: NAME`` and ``data: JSON`` each, and no
    ``[DONE]`` line: the Responses and Messages APIs end with an event of their own."""
    return b"".join(
        b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n" for name, data in events
    )


def _head(outcome: Outcome, prefix: str, kind: str) -> dict[str, Any]:
    return {
        "id": f"{prefix}-{os.urandom(12).hex()}",
        "object": kind,
        "created": int(time.time()),
        "model": outcome.model,
    }


def _items(outcome: Outcome) -> list[dict[str, Any]]:
    return [
        {"text": choice.text, "index": index, "logprobs": None, "finish_reason": choice.reason}
        for index, choice in enumerate(outcome.choices)
    ]


def _message(choice: Choice, *, streamed: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.text}
    if choice.reason == "function_call" and choice.tool_calls:
        message["function_call"] = choice.tool_calls[0]["function"]  # the deprecated form
    elif choice.tool_calls is not None:
        calls = choice.tool_calls
        message["tool_calls"] = (
            [{"index": i, **call} for i, call in enumerate(calls)] if streamed else calls
        )
    if not streamed:
        message["refusal"] = None
    return message


def _delta(index: int, delta: Mapping[str, Any], reason: str | None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": reason}
