"""Anthropic's Messages API (``POST /v1/messages``) on top of the chat completion pipeline.

A request is read field by field into a chat completion request (``to_chat``), run as one, and
its answer is rendered as a Message or as Anthropic's event stream (``_messages_render``, with
errors in Anthropic's JSON shape). Nothing here knows about HTTP or ASGI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._emulation import text_of
from ._errors import invalid, refuse_unknown
from ._models_apis import CreateMessageRequest

#: Fields a request may hold (its typed model's); each is honoured, refused when set, or a hint.
MESSAGES_FIELDS = frozenset(CreateMessageRequest.model_fields)
MAX_STOP_SEQUENCES = 16
#: Content block kinds that are text to the service; tool blocks are written into the prompt.


@dataclass
class MessagesRequest:
    """A Messages request as a chat completion request, and what its answer needs."""

    chat: dict[str, Any]
    model: str
    stream: bool
    stop_sequences: tuple[str, ...]
    #: The start of the answer a last assistant message gave (Anthropic's prefill), or "".
    prefill: str = ""


def to_chat(data: Mapping[str, Any], *, counting: bool = False) -> MessagesRequest:
    """``data`` (a Messages request; ``counting``: one to count_tokens, which has no
    ``max_tokens``) as a chat completion request, or a 400 naming the field."""
    refuse_unknown(data, MESSAGES_FIELDS)
    for name, what in (
        ("top_k", "top_k sampling"),
        ("container", "code execution containers"),
        ("mcp_servers", "MCP server connections"),
    ):
        if data.get(name) is not None:
            raise invalid(f"This server cannot give {what}: leave {name!r} out.", name)
    if data.get("thread") not in (None, False):
        # The code is what the SDKs' tool runners and threads look for to go on without one.
        raise invalid(
            "This server keeps no conversations: leave 'thread' out and send the whole "
            "conversation in 'messages'.",
            "thread",
            "thread_unsupported_request",
        )
    _context_management(data.get("context_management"))
    stream = data.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise invalid("'stream' must be true or false.", "stream")

    messages: list[dict[str, Any]] = []
    system = data.get("system")
    if system is not None:
        text = _blocks_text(system, "system")
        if text:
            messages.append({"role": "system", "content": text})
    messages += _messages(data.get("messages"))
    prefill = _prefill(messages)

    chat: dict[str, Any] = {"model": data.get("model"), "messages": messages}
    max_tokens = data.get("max_tokens")
    if not counting:
        if type(max_tokens) is not int or max_tokens < 1:
            what = "is required:" if max_tokens is None else "must be"
            raise invalid(f"'max_tokens' {what} a whole number of at least 1.", "max_tokens")
        chat["max_completion_tokens"] = max_tokens
    for name in ("temperature", "top_p"):
        if data.get(name) is not None:
            chat[name] = data[name]
    chat.update(_tools(data.get("tools"), data.get("tool_choice")))
    output = data.get("output_config")
    if output is not None:
        if not isinstance(output, dict) or not set(output) <= {"format", "effort"}:
            raise invalid(
                "'output_config' may hold 'format' (and 'effort', a hint).", "output_config"
            )
        chat.update(_output_format(output.get("format")))
    stops = _stop_sequences(data.get("stop_sequences"))
    return MessagesRequest(chat, str(data.get("model")), bool(stream), stops, prefill)


def _prefill(messages: list[dict[str, Any]]) -> str:
    """A last assistant message of text is the answer's start: the model is asked to begin with
    it (a web chat answers a new turn; it does not continue one), and the answer is given
    without it (``_messages_render``)."""
    last = messages[-1] if messages else None
    if last is None or last["role"] != "assistant" or last.get("tool_calls"):
        return ""
    text = str(last["content"] or "")
    if not text:
        return ""
    if text != text.rstrip():
        raise invalid(
            "The last assistant message (the answer's start) may not end in trailing white "
            "space, as in Anthropic's API: remove it.",
            "messages",
        )
    messages[-1] = {
        "role": "system",
        "content": f"Begin your answer with exactly this text: {text}",
    }
    return text


def _context_management(value: object) -> None:
    """Edits that clear thinking blocks (Claude Code asks for them) have nothing to clear here:
    no thinking is ever produced. Any other edit would change the prompt, and is refused."""
    if value is None:
        return
    edits = value.get("edits") if isinstance(value, dict) else None
    if not isinstance(edits, list) or not all(
        isinstance(edit, dict) and str(edit.get("type", "")).startswith("clear_thinking_")
        for edit in edits
    ):
        raise invalid(
            "This server cannot edit the context: 'context_management' may only clear thinking "
            "blocks (clear_thinking_...), of which it makes none.",
            "context_management",
        )


def _messages(messages: object) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty list.", "messages")
    converted: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant", "system"):
            raise invalid(f"{where}.role must be 'user' or 'assistant'.", "messages")
        assert isinstance(message, dict)
        content = message.get("content")
        if role == "system":  # a system message between turns (Claude Code sends them)
            text = _blocks_text(content, where)
            converted.append({"role": "system", "content": text})
            continue
        if isinstance(content, str):
            converted.append({"role": role, "content": content})
            continue
        if not isinstance(content, list):
            raise invalid(f"{where}.content must be a string or a list of blocks.", "messages")
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        for number, block in enumerate(content):
            spot = f"{where}.content[{number}]"
            kind = block.get("type") if isinstance(block, dict) else None
            assert kind is None or isinstance(block, dict)
            if kind == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif kind == "tool_use" and role == "assistant":
                calls.append(_tool_use(block, spot))
            elif kind == "tool_result" and role == "user":
                if texts:  # keep the order: text before the result stays before it
                    converted.append({"role": "user", "content": "".join(texts)})
                    texts = []
                converted.append(_tool_result(block, spot))
            else:
                raise invalid(
                    f"{spot} is a {str(kind)[:40]!r} block; {role} messages may hold text"
                    + (" and tool_use" if role == "assistant" else " and tool_result")
                    + " blocks only here: the service reads text only.",
                    "messages",
                    "unsupported_content",
                )
        if calls:
            converted.append(
                {"role": "assistant", "content": "".join(texts) or None, "tool_calls": calls}
            )
        elif texts or not content:
            converted.append({"role": role, "content": "".join(texts)})
    return converted


def _tool_use(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
    if not isinstance(call_id, str) or not isinstance(name, str):
        raise invalid(f"{where} (a tool_use block) needs an 'id' and a 'name'.", "messages")
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


def _tool_result(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    call_id, content = block.get("tool_use_id"), block.get("content", "")
    if not isinstance(call_id, str):
        raise invalid(f"{where} (a tool_result block) needs a 'tool_use_id'.", "messages")
    text = _blocks_text(content, f"{where}.content")
    if block.get("is_error"):
        text = f"(error) {text}"
    return {"role": "tool", "tool_call_id": call_id, "content": text}


def _blocks_text(blocks: object, where: str) -> str:
    top = where.split("[")[0].split(".")[0]
    return text_of(blocks, where, top, noun="block")


def _tools(tools: object, choice: object) -> dict[str, Any]:
    """Anthropic's ``tools`` and ``tool_choice`` as chat's."""
    if tools is None:
        if choice is not None and not (
            isinstance(choice, dict) and choice.get("type") in ("auto", "none")
        ):
            raise invalid(
                "tool_choice asks for a tool call, but 'tools' offers none.", "tool_choice"
            )
        return {}
    if not isinstance(tools, list):
        raise invalid("'tools' must be a list.", "tools")
    converted = []
    for index, tool in enumerate(tools):
        kind = tool.get("type", "custom") if isinstance(tool, dict) else None
        if kind != "custom" or not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise invalid(
                f"tools[{index}] is a {str(kind)[:40]!r} tool; only client tools "
                "({'name', 'description', 'input_schema'}) are served here: the service cannot "
                "run tools itself.",
                "tools",
                "unsupported_tool",
            )
        function: dict[str, Any] = {"name": tool["name"], "parameters": tool.get("input_schema")}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        converted.append({"type": "function", "function": function})
    chat: dict[str, Any] = {"tools": converted}
    if choice is None:
        return chat
    if not isinstance(choice, dict):
        raise invalid("tool_choice must be an object: {'type': 'auto'}, ...", "tool_choice")
    kind = choice.get("type")
    if kind == "auto":
        chat["tool_choice"] = "auto"
    elif kind == "any":
        chat["tool_choice"] = "required"
    elif kind == "none":
        chat["tool_choice"] = "none"
    elif kind == "tool":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    else:
        raise invalid("tool_choice.type must be 'auto', 'any', 'tool' or 'none'.", "tool_choice")
    if choice.get("disable_parallel_tool_use"):
        chat["parallel_tool_calls"] = False
    return chat


def _output_format(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if (
        not isinstance(value, dict)
        or value.get("type") != "json_schema"
        or not isinstance(value.get("schema"), dict)
    ):
        raise invalid(
            "output_config.format must be {'type': 'json_schema', 'schema': {...}}.",
            "output_config",
        )
    spec = {"name": "response", "schema": value["schema"]}
    return {"response_format": {"type": "json_schema", "json_schema": spec}}


def _stop_sequences(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > MAX_STOP_SEQUENCES
        or not all(isinstance(s, str) and s for s in value)
    ):
        raise invalid(
            f"'stop_sequences' must be a list of up to {MAX_STOP_SEQUENCES} non-empty strings.",
            "stop_sequences",
        )
    return tuple(value)
