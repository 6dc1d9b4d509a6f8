"""OpenAI's Responses API (``POST /v1/responses``) on top of the chat completion pipeline.

A request is read field by field into a chat completion request (``to_chat``), run as one, and
its answer is rendered as a Response object or as the Responses event stream
(``_responses_render``). Nothing here knows about HTTP or ASGI: the routes that call it are a
few lines each.

``previous_response_id`` is served from a bounded in-memory store per server
(``ResponseStore``); a response asked not to be stored (``store: false``) is not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._emulation import text_of
from ._errors import APIError, invalid, refuse_unknown
from ._models_apis import CreateResponseRequest
from ._responses_store import ResponseStore

#: Fields a request may hold (its typed model's); each is honoured, refused when set, or a hint.
RESPONSES_FIELDS = frozenset(CreateResponseRequest.model_fields)
#: ``include`` values that ask for nothing this server could produce (it makes no reasoning
#: items and runs no hosted tools), so there is nothing to add; any other value is refused.
VACUOUS_INCLUDES = frozenset(
    {
        "reasoning.encrypted_content",
        "file_search_call.results",
        "web_search_call.results",
        "web_search_call.action.sources",
        "code_interpreter_call.outputs",
        "computer_call_output.output.image_url",
        "message.input_image.image_url",
    }
)
#: Content part kinds that hold text; any other kind (images, files, audio) is refused by name.
TEXT_PARTS = frozenset({"input_text", "output_text", "text"})


@dataclass
class ResponsesRequest:
    """A Responses request as a chat completion request, and what its answer must echo."""

    chat: dict[str, Any]
    model: str
    stream: bool
    store: bool
    previous_response_id: str | None
    #: The conversation so far (stored history and this input), without the instructions.
    conversation: list[dict[str, Any]]
    max_tool_calls: int | None
    echo: dict[str, Any] = field(default_factory=dict)


def to_chat(data: Mapping[str, Any], store: ResponseStore) -> ResponsesRequest:
    """``data`` (a Responses request) as a chat completion request, or a 400 naming the field."""
    refuse_unknown(data, RESPONSES_FIELDS)
    include = data.get("include")
    if include is not None and (
        not isinstance(include, list) or not set(include) <= VACUOUS_INCLUDES
    ):
        raise invalid(
            "This server cannot give log probabilities or other extra output: 'include' may "
            "name only items it never makes (" + ", ".join(sorted(VACUOUS_INCLUDES)) + ").",
            "include",
        )
    _refuse(data, "background", (None, False), "background responses")
    _refuse(data, "top_logprobs", (None, 0), "log probabilities")
    _refuse(data, "conversation", (None,), "stored conversations (use previous_response_id)")
    _refuse(data, "prompt", (None,), "stored prompt templates")
    stream = _bool(data, "stream", False)
    keep = _bool(data, "store", True)
    options = data.get("stream_options")
    if options is not None and (
        not stream or not isinstance(options, dict) or not set(options) <= {"include_obfuscation"}
    ):
        raise invalid(
            "'stream_options' may hold 'include_obfuscation' only, with 'stream': true.",
            "stream_options",
        )

    previous = data.get("previous_response_id")
    history: list[dict[str, Any]] = []
    if previous is not None:
        if not isinstance(previous, str) or not previous:
            raise invalid("'previous_response_id' must be a response id.", "previous_response_id")
        stored = store.conversation(previous)
        if stored is None:
            raise APIError(
                404,
                f"Previous response with id {previous[:100]!r} not found: this server keeps "
                f"the last {store.max_responses} stored responses for {store.ttl / 60:g} "
                "minutes, in memory (a restart forgets them). Send the whole conversation in "
                "'input' instead.",
                "invalid_request_error",
                "previous_response_not_found",
                param="previous_response_id",
            )
        history, size = stored
        limit = store.max_conversation_bytes
        if limit is not None and size > limit:
            # A few bytes naming it would otherwise have the server build and send a prompt
            # of any size the store holds, once per request.
            raise invalid(
                f"The conversation of response {previous[:100]!r} is larger than a request body "
                f"may be here ({limit} bytes, --max-body-bytes): start a new conversation, with "
                "what matters of this one in 'input'.",
                "previous_response_id",
                "conversation_too_large",
            )
    conversation = [*history, *_input_messages(data.get("input"))]

    instructions = data.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise invalid("'instructions' must be a string.", "instructions")
    messages = list(conversation)
    if instructions:
        messages.insert(0, {"role": "system", "content": instructions})

    chat: dict[str, Any] = {"model": data.get("model"), "messages": messages}
    for name in ("temperature", "top_p"):
        if data.get(name) is not None:
            chat[name] = data[name]
    limit = data.get("max_output_tokens")
    if limit is not None:
        if type(limit) is not int or limit < 1:
            raise invalid(
                "'max_output_tokens' must be a whole number of at least 1.", "max_output_tokens"
            )
        chat["max_completion_tokens"] = limit
    text = data.get("text")
    if text is not None:
        if not isinstance(text, dict) or not set(text) <= {"format", "verbosity"}:
            raise invalid("'text' may hold 'format' (and 'verbosity', a hint).", "text")
        response_format = _response_format(text.get("format"))
        if response_format is not None:
            chat["response_format"] = response_format
    max_tool_calls = data.get("max_tool_calls")
    if max_tool_calls is not None and (type(max_tool_calls) is not int or max_tool_calls < 0):
        raise invalid("'max_tool_calls' must be a whole number of at least 0.", "max_tool_calls")
    tools = _tools(data.get("tools"))
    choice = _tool_choice(data.get("tool_choice"))
    if tools and max_tool_calls != 0:
        chat["tools"] = tools
        if choice is not None:
            chat["tool_choice"] = choice
        parallel = data.get("parallel_tool_calls")
        if parallel is not None:
            chat["parallel_tool_calls"] = parallel
    elif data.get("tool_choice") not in (None, "auto", "none"):
        raise invalid("tool_choice asks for a tool call, but 'tools' offers none.", "tool_choice")

    reasoning = data.get("reasoning")
    echo = {
        "instructions": instructions,
        "max_output_tokens": limit,
        "max_tool_calls": max_tool_calls,
        "metadata": data.get("metadata") or {},
        "parallel_tool_calls": data.get("parallel_tool_calls") is not False,
        "previous_response_id": previous,
        "reasoning": {"effort": None, "summary": None}
        if not isinstance(reasoning, dict)
        else {"effort": reasoning.get("effort"), "summary": None},
        "store": keep,
        "temperature": data.get("temperature", 1.0),
        "text": {"format": (text or {}).get("format") or {"type": "text"}},
        "tool_choice": data.get("tool_choice") or "auto",
        "tools": data.get("tools") or [],
        "top_p": data.get("top_p", 1.0),
        "truncation": data.get("truncation") or "disabled",
        "user": data.get("user"),
    }
    return ResponsesRequest(
        chat,
        str(data.get("model")),
        stream,
        keep,
        previous,
        conversation,
        max_tool_calls,
        echo,
    )


def _input_messages(items: object) -> list[dict[str, Any]]:
    """``input`` (a string, or message and function call items) as chat messages."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    if not isinstance(items, list) or not items:
        raise invalid("'input' must be a string or a non-empty list of items.", "input")
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"{where} must be an object.", "input")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "system", "developer", "assistant"):
                raise invalid(
                    f"{where}.role must be 'user', 'system', 'developer' or 'assistant'.", "input"
                )
            messages.append(
                {
                    "role": role,
                    "content": text_of(
                        item.get("content"), f"{where}.content", "input", kinds=TEXT_PARTS
                    ),
                }
            )
        elif kind == "function_call":
            call_id, name, arguments = (item.get(k) for k in ("call_id", "name", "arguments"))
            if not all(isinstance(v, str) for v in (call_id, name, arguments)):
                raise invalid(
                    f"{where} (a function_call) needs 'call_id', 'name' and 'arguments' strings.",
                    "input",
                )
            call = {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and last.get("tool_calls"):
                last["tool_calls"].append(call)  # calls made in one turn stay one turn
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            call_id, output = item.get("call_id"), item.get("output")
            if not isinstance(call_id, str):
                raise invalid(f"{where} (a function_call_output) needs a 'call_id'.", "input")
            text = text_of(output, f"{where}.output", "input", kinds=TEXT_PARTS)
            messages.append({"role": "tool", "tool_call_id": call_id, "content": text})
        else:
            raise invalid(
                f"{where} is a {str(kind)[:40]!r} item; only messages, function_call and "
                "function_call_output items are served here.",
                "input",
                "unsupported_input_item",
            )
    return messages


def _tools(tools: object) -> list[dict[str, Any]]:
    """The function tools, as chat's. Hosted tools (web search, file search, code
    interpreter, ...) and namespaces are left out of the offer: the service cannot run them, and
    under "auto" the model may always leave a tool uncalled."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid("'tools' must be a list.", "tools")
    converted = []
    for index, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if not isinstance(kind, str) or not isinstance(tool, dict):
            raise invalid(f"tools[{index}] must be an object with a 'type'.", "tools")
        if kind != "function":
            continue
        function = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
        converted.append({"type": "function", "function": function})
    return converted


def _tool_choice(choice: object) -> object:
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    raise invalid(
        "tool_choice must be 'auto', 'none', 'required' or {'type': 'function', 'name': ...}: "
        "only function tools can be called here (the service cannot search, browse or run "
        "code itself).",
        "tool_choice",
    )


def _response_format(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema" and isinstance(value, dict):
        if not isinstance(value.get("schema"), dict):
            raise invalid("text.format needs a 'schema' object for json_schema.", "text")
        spec = {"name": value.get("name") or "response", "schema": value["schema"]}
        return {"type": "json_schema", "json_schema": spec}
    raise invalid("text.format.type must be 'text', 'json_object' or 'json_schema'.", "text")


def _refuse(data: Mapping[str, Any], name: str, defaults: tuple[object, ...], what: str) -> None:
    if name in data and data[name] not in defaults:
        raise invalid(f"This server cannot give {what}: leave {name!r} out.", name)


def _bool(data: Mapping[str, Any], name: str, default: bool) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(f"'{name}' must be true, false or null.", name)
    return value
