"""What the service lacks, done here: it answers one prompt with one text.

- ``developer`` messages are system messages; tool calls and tool results in the history are
  written into the prompt (``Called tool NAME with ARGUMENTS.`` / ``Result of tool NAME: ...``);
- ``n`` choices are ``n`` upstream calls; ``stop`` cuts the answer at the first stop sequence;
  ``max_tokens`` cuts it at the estimated length (``finish_reason: "length"``);
- ``response_format`` and a required tool call ask the model for JSON, check the answer parses
  (and matches the schema, in a worker process: ``_schema``) and answer 502 when it does not;
- tools under ``tool_choice: "auto"`` are described in the prompt, and an answer that is a valid
  call of them becomes ``tool_calls`` (``_tools_auto``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import errors
from .._messages import format_prompt, repair_text
from ._errors import APIError, invalid
from ._schema import SchemaRunner
from ._tools_auto import FENCE, AutoTools, new_tool_call


@dataclass
class Structured:
    """An answer that must be JSON: ``response_format`` (``schema`` None for ``json_object``),
    or the arguments of a tool call the request requires."""

    schema: dict[str, Any] | None
    name: str = "response"
    #: What the JSON is for, said to the model before the format.
    purpose: str = ""
    #: The schema as checked JSON text (``_schema.schema_text``): what the worker compiles.
    text: str = ""

    def instruction(self) -> str:
        if self.schema is None:
            return (
                "Answer with one JSON object and nothing else: no prose before or after it, "
                "no code fences."
            )
        return (
            self.purpose
            + "Answer with one JSON value that matches the JSON Schema below, and nothing else: "
            "no prose before or after it, no code fences.\nJSON Schema: "
            + json.dumps(self.schema, ensure_ascii=False)
        )

    async def check(self, answer: str, schemas: SchemaRunner) -> str:
        """The answer's JSON text (code fences removed), or 502 when it is not what was asked."""
        text, value = _parse_json(answer)
        if self.schema is None:
            if not isinstance(value, dict):
                raise _bad_output("The model's answer is JSON, but not a JSON object.")
            return text
        problem = await schemas.problem(self.text, text)
        if problem is not None:
            raise _bad_output(
                f"The model's answer does not match the schema {self.name!r}: {problem}"
            )
        return text


def _parse_json(answer: str) -> tuple[str, Any]:
    text = answer.strip()
    fenced = FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return text, json.loads(text)
    except (ValueError, RecursionError):
        raise _bad_output("The model's answer is not valid JSON.") from None


@dataclass
class ForcedToolCall:
    """``tool_choice`` "required" or a named function. The service cannot call tools, so the
    model is asked for the call as JSON (the function's arguments, checked against its
    parameters), and the answer becomes a real ``tool_calls`` entry."""

    #: Each offered function's name and its parameters' JSON Schema.
    tools: dict[str, dict[str, Any]]
    descriptions: dict[str, str]
    #: The function the request names, or None: any of ``tools``.
    name: str | None
    #: Each function's parameters as checked JSON text.
    texts: dict[str, str] = field(default_factory=dict)

    def instruction(self) -> str:
        if self.name is not None:
            described = self.descriptions.get(self.name)
            about = f" ({described})" if described else ""
            return Structured(
                self.tools[self.name],
                self.name,
                f"Call the function {self.name}{about}: give its arguments. ",
            ).instruction()
        offered = "; ".join(
            f"{name}: {self.descriptions.get(name) or 'no description'}" for name in self.tools
        )
        schema = {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"name": {"const": name}, "arguments": parameters},
                    "required": ["name", "arguments"],
                }
                for name, parameters in self.tools.items()
            ]
        }
        return Structured(
            schema,
            "tool call",
            f"Call one of these functions ({offered}): give its name and its arguments as "
            '{"name": ..., "arguments": {...}}. ',
        ).instruction()

    async def call(self, answer: str, schemas: SchemaRunner) -> dict[str, Any]:
        """The ``tool_calls`` entry the answer makes, its arguments checked against the
        function's own parameters (each schema on its own: its ``$defs`` stay its own)."""
        text, value = _parse_json(answer)
        if self.name is not None:
            name, arguments, arguments_text = self.name, value, text
        else:
            called = value.get("name") if isinstance(value, dict) else None
            if not isinstance(called, str) or called not in self.tools or "arguments" not in value:
                raise _bad_output(
                    "The model's answer is not a call of an offered function "
                    '({"name": ..., "arguments": {...}}).'
                )
            name, arguments = called, value["arguments"]
            arguments_text = json.dumps(arguments)
        problem = await schemas.problem(self.texts[name], arguments_text)
        if problem is not None:
            raise _bad_output(f"The model's answer does not match the schema {name!r}: {problem}")
        return new_tool_call(name, json.dumps(arguments, ensure_ascii=False))


def _bad_output(message: str) -> APIError:
    return APIError(
        502,
        message + " Try again, or ask for the format in the messages yourself.",
        "upstream_error",
        "invalid_model_output",
        should_retry=True,
    )


@dataclass
class Plan:
    """A request as the server will run it: which provider calls, and how to shape the answer."""

    messages: list[dict[str, Any]]
    sampling: dict[str, Any]
    n: int = 1
    stream: bool = False
    include_usage: bool = False
    stop: tuple[str, ...] = ()
    max_tokens: int | None = None
    structured: Structured | None = None
    tool_call: ForcedToolCall | None = None
    #: Tools the model may call or not ("auto").
    auto_tools: AutoTools | None = None
    #: The tools came as the deprecated ``functions``: a call is answered as ``function_call``.
    legacy_functions: bool = False
    prompts: list[str] = field(default_factory=list)
    #: Each JSON Schema the request brings, as ``(where, param, text)``: compiled before any
    #: upstream call.
    schemas: list[tuple[str, str, str]] = field(default_factory=list)

    def conversations(self) -> list[list[dict[str, Any]]]:
        """The message lists to send: the chat, or each legacy prompt as one user message."""
        if not self.prompts:
            return [self.messages]
        return [[{"role": "user", "content": prompt}] for prompt in self.prompts]

    def prompt_tokens(self) -> int:
        if self.prompts:
            return sum(estimate_tokens(prompt) for prompt in self.prompts)
        try:
            return estimate_tokens(format_prompt(self.messages))
        except errors.InvalidRequestError:  # a plugin provider took messages the service would not
            return estimate_tokens(json.dumps(self.messages, ensure_ascii=False, default=str))

    async def finish(self, answer: str, schemas: SchemaRunner) -> Choice:
        """What one upstream answer becomes: text cut as asked, or a tool call."""
        text = repair_text(answer)
        if self.tool_call is not None:
            return Choice(None, "tool_calls", [await self.tool_call.call(text, schemas)])
        if self.auto_tools is not None:
            calls = await self.auto_tools.calls(text, schemas)
            if calls is not None:
                reason = "function_call" if self.legacy_functions else "tool_calls"
                return Choice(None, reason, calls)
        if self.structured is not None:
            text = await self.structured.check(text, schemas)
        reason = "stop"
        if self.stop:
            cut = min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=-1)
            if cut >= 0:
                text = text[:cut]
        if self.max_tokens is not None and estimate_tokens(text) > self.max_tokens:
            text, reason = text[: self.max_tokens * 4], "length"
        return Choice(text, reason)


@dataclass
class Choice:
    """One choice of the answer: its text (None for a tool call), why it ended, its calls."""

    text: str | None
    reason: str
    tool_calls: list[dict[str, Any]] | None = None

    @property
    def tokens(self) -> int:
        if self.tool_calls is not None:
            return sum(estimate_tokens(c["function"]["arguments"]) for c in self.tool_calls)
        return estimate_tokens(self.text or "")


@dataclass
class Outcome:
    """A request's answer, before it is rendered: the model as asked, the choices, the usage."""

    model: str
    plan: Plan
    choices: list[Choice]
    usage: dict[str, int]


def estimate_tokens(text: str) -> int:
    """OpenAI's rule of thumb, four characters a token: the service reports no counts."""
    return math.ceil(len(text) / 4)


def provider_messages(messages: object) -> list[dict[str, Any]]:
    """OpenAI's message list in the roles the provider takes (system, user, assistant)."""
    if not isinstance(messages, list):
        return messages  # type: ignore[return-value]  # the provider says what is wrong
    converted: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            converted.append(message)
            continue
        role = message.get("role")
        if role == "developer":
            converted.append({"role": "system", "content": message.get("content")})
        elif role in ("tool", "function"):
            converted.append({"role": "user", "content": _tool_result(message, index, role)})
        elif role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            converted.append({"role": "assistant", "content": _tool_calls_text(message, index)})
        else:
            converted.append(message)
    return converted


def _tool_result(message: Mapping[str, Any], index: int, role: str) -> str:
    content = message.get("content")
    text = text_of(content, f"messages[{index}].content", "messages", untyped="text")
    name = message.get("name") if role == "function" else message.get("tool_call_id")
    label = f"tool call {name}" if role == "tool" else f"function {name}"
    return f"Result of {label}: {text}"


def _tool_calls_text(message: Mapping[str, Any], index: int) -> str:
    lines = []
    content = message.get("content")
    if content is not None:
        lines.append(text_of(content, f"messages[{index}].content", "messages", untyped="text"))
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise invalid(f"messages[{index}].tool_calls must be a list.", "messages")
    if message.get("function_call"):
        calls = [*calls, {"id": None, "function": message["function_call"]}]
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise invalid(
                f"messages[{index}].tool_calls holds a call without a function name.", "messages"
            )
        arguments = function.get("arguments", "")
        call_id = call.get("id")
        named = f"tool {function['name']}" + (f" (call {call_id})" if call_id else "")
        shown = arguments if isinstance(arguments, str) else json.dumps(arguments)
        lines.append(f"Called {named} with {shown}.")
    return "\n".join(lines)


def text_of(
    content: object,
    where: str,
    param: str,
    *,
    noun: str = "part",
    kinds: frozenset[str] = frozenset({"text"}),
    untyped: str | None = None,
) -> str:
    """``content``, a string or a list of text parts (an API's ``kinds``; one without a type is
    ``untyped``), as one text; otherwise a 400 naming the first part that is not text."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(f"{where} must be a string or a list of text {noun}s.", param)
    texts = []
    for index, part in enumerate(content):
        kind = part.get("type", untyped) if isinstance(part, dict) else None
        # A type that is not a string (a list, an object) is no kind, not a lookup that fails.
        if not isinstance(kind, str) or kind not in kinds or not isinstance(part.get("text"), str):
            raise invalid(
                f"{where}[{index}] is a {str(kind)[:40]!r} {noun}; only text {noun}s "
                f"({', '.join(sorted(kinds))}) are served here: the service reads text only.",
                param,
                "unsupported_content",
            )
        texts.append(part["text"])
    return "".join(texts)


def usage(prompt_tokens: int, choices: Sequence[Choice]) -> dict[str, int]:
    completion = sum(choice.tokens for choice in choices)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
