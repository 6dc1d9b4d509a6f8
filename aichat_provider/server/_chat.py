"""OpenAI's chat and completion requests, read field by field, and their answers.

Nothing a client sends is dropped without a word: each field is honoured, accepted as a hint
with no effect on a web chat (``user``, ``seed``, ...), or refused with a 400 that says why. The
service answers one prompt with one text, so the rest is done here:

- ``developer`` messages are system messages; tool calls and tool results in the history are
  written into the prompt (``Called tool NAME with ARGUMENTS.`` / ``Result of tool NAME: ...``);
- ``n`` choices are ``n`` upstream calls; ``stop`` cuts the answer at the first stop sequence;
  ``max_tokens`` cuts it at the estimated length (``finish_reason: "length"``);
- ``response_format`` asks the model for JSON, checks the answer parses (and matches the
  schema, in a worker process: ``_schema``) and answers 502 when it does not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._messages import repair_text
from ._errors import APIError, invalid
from ._schema import SchemaBudget, SchemaRunner, schema_text
from ._tools_auto import (
    FENCE,
    AutoTools,
    OfferedTools,
    legacy_functions,
    new_tool_call,
    offered_tools,
)

#: Request fields the sampling of the provider takes as they are.
SAMPLING_FIELDS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
#: Fields that are hints a web chat cannot act on; accepted and documented as having no effect.
HINT_FIELDS = frozenset(
    {
        "user",
        "seed",
        "metadata",
        "store",
        "service_tier",
        "parallel_tool_calls",
        "prompt_cache_key",
        "safety_identifier",
        "reasoning_effort",
        "verbosity",
    }
)
CHAT_FIELDS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "n",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "response_format",
        "tools",
        "tool_choice",
        "functions",
        "function_call",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "modalities",
        *SAMPLING_FIELDS,
        *HINT_FIELDS,
    }
)
COMPLETION_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "stream",
        "stream_options",
        "n",
        "stop",
        "max_tokens",
        "echo",
        "suffix",
        "logprobs",
        "best_of",
        "logit_bias",
        *SAMPLING_FIELDS,
        *HINT_FIELDS,
    }
)
MAX_STOP_SEQUENCES = 4


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


def estimate_tokens(text: str) -> int:
    """OpenAI's rule of thumb, four characters a token: the service reports no counts."""
    return math.ceil(len(text) / 4)


def read_chat(data: Mapping[str, Any], max_choices: int) -> Plan:
    """A chat completion request as a Plan, or a 400 naming the field."""
    _refuse_unknown(data, CHAT_FIELDS)
    _refuse_set(data, "logprobs", (None, False), "log probabilities")
    _refuse_set(data, "top_logprobs", (None, 0), "log probabilities")
    _refuse_set(data, "logit_bias", (None, {}), "token biases")
    modalities = data.get("modalities")
    if modalities is not None and modalities != ["text"]:
        raise invalid(
            "Only text answers are possible here: 'modalities' must be [\"text\"].", "modalities"
        )
    _refuse_function_call(data.get("function_call"))
    budget = SchemaBudget()
    tool_call, auto_tools, legacy = _tool_plan(data, budget)
    max_tokens = _positive_int(data, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = _positive_int(data, "max_tokens")
    plan = Plan(
        messages=provider_messages(data.get("messages")),
        sampling=_sampling(data),
        n=_choices(data, "n", max_choices),
        stop=_stop(data.get("stop")),
        max_tokens=max_tokens,
        structured=_response_format(data.get("response_format"), budget),
        tool_call=tool_call,
        auto_tools=auto_tools,
        legacy_functions=legacy,
    )
    plan.stream, plan.include_usage = _stream(data)
    if tool_call is not None:
        if plan.structured is not None:
            raise invalid(
                "A required tool call and a response_format cannot be combined here.",
                "response_format",
            )
        plan.messages.append({"role": "system", "content": tool_call.instruction()})
        plan.schemas = OfferedTools(texts=tool_call.texts).schemas()
        return plan
    if auto_tools is not None:
        plan.messages.append({"role": "system", "content": auto_tools.instruction()})
        plan.schemas = auto_tools.offered.schemas()
    if plan.structured is not None:
        # With tools under "auto" as well: the answer is a call, or JSON in this format.
        plan.messages.append({"role": "system", "content": plan.structured.instruction()})
        if plan.structured.schema is not None:
            plan.schemas.append(
                ("response_format.json_schema.schema", "response_format", plan.structured.text)
            )
    return plan


def read_completion(data: Mapping[str, Any], max_choices: int) -> Plan:
    """A legacy ``/v1/completions`` request: each prompt is sent as one user message."""
    _refuse_unknown(data, COMPLETION_FIELDS)
    _refuse_set(data, "echo", (None, False), "echoing the prompt")
    _refuse_set(data, "suffix", (None, ""), "a suffix")
    _refuse_set(data, "logprobs", (None, 0), "log probabilities")
    _refuse_set(data, "best_of", (None, 1), "best_of")
    _refuse_set(data, "logit_bias", (None, {}), "token biases")
    prompt = data.get("prompt")
    if isinstance(prompt, str):
        prompts = [prompt]
    elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        prompts = list(prompt)
    else:
        raise invalid("'prompt' must be a string or a non-empty list of strings.", "prompt")
    n = _choices(data, "n", max_choices)
    if len(prompts) * n > max_choices:
        raise invalid(
            f"{len(prompts)} prompts x n={n} is over {max_choices} answers for one request.", "n"
        )
    plan = Plan(
        messages=[],
        sampling=_sampling(data),
        n=n,
        stop=_stop(data.get("stop")),
        max_tokens=_positive_int(data, "max_tokens"),
        prompts=prompts,
    )
    plan.stream, plan.include_usage = _stream(data)
    return plan


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
    text = _text(content, f"messages[{index}].content")
    name = message.get("name") if role == "function" else message.get("tool_call_id")
    label = f"tool call {name}" if role == "tool" else f"function {name}"
    return f"Result of {label}: {text}"


def _tool_calls_text(message: Mapping[str, Any], index: int) -> str:
    lines = []
    content = message.get("content")
    if content is not None:
        lines.append(_text(content, f"messages[{index}].content"))
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


def _text(content: object, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if not (
                isinstance(part, dict)
                and part.get("type", "text") == "text"
                and isinstance(part.get("text"), str)
            ):
                raise invalid(f"{where} may only hold text parts.", "messages")
            parts.append(part["text"])
        return "".join(parts)
    raise invalid(f"{where} must be a string or a list of text parts.", "messages")


def _refuse_unknown(data: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(name for name in data if name not in known)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise invalid(
            f"Unrecognized request argument(s): {shown}. The README lists what this server "
            "accepts.",
            unknown[0][:40],
        )


def _refuse_set(
    data: Mapping[str, Any], name: str, defaults: tuple[object, ...], what: str
) -> None:
    if name in data and data[name] not in defaults:
        raise invalid(f"This server cannot give {what}: leave {name!r} out.", name)


def _refuse_function_call(choice: object) -> None:
    if choice is None or choice in ("auto", "none"):
        return
    raise invalid(
        "A named function_call (the deprecated form) is not supported here: give the function "
        "in 'tools' and name it in 'tool_choice'.",
        "function_call",
        "function_call_unsupported",
    )


def _forced_tool_call(offered: OfferedTools, choice: object) -> ForcedToolCall | None:
    """The tool call ``tool_choice`` requires, or None ("auto" and "none" are not forced)."""
    if choice is None or choice in ("auto", "none"):
        return None
    if not offered.parameters:
        raise invalid("tool_choice asks for a tool call, but 'tools' offers none.", "tool_choice")
    tools, descriptions, texts = offered.parameters, offered.descriptions, offered.texts
    if choice == "required":
        return ForcedToolCall(
            tools, descriptions, None if len(tools) > 1 else next(iter(tools)), texts
        )
    named = choice.get("function") if isinstance(choice, dict) else None
    name = named.get("name") if isinstance(named, dict) else None
    if not isinstance(name, str):
        raise invalid(
            "tool_choice must be 'auto', 'none', 'required' or "
            "{'type': 'function', 'function': {'name': ...}}.",
            "tool_choice",
        )
    if name not in tools:
        raise invalid(
            f"tool_choice names {name[:60]!r}, which 'tools' does not offer.", "tool_choice"
        )
    return ForcedToolCall(tools, descriptions, name, texts)


def _tool_plan(
    data: Mapping[str, Any], budget: SchemaBudget
) -> tuple[ForcedToolCall | None, AutoTools | None, bool]:
    """The call ``tool_choice`` requires, or the tools the model may call of its own choice
    ("auto", or tools with no tool_choice; the deprecated ``functions`` the same way), and
    whether they came as ``functions``. Each schema is read once, from the request's budget."""
    functions = legacy_functions(data.get("functions"))
    if functions is not None:
        if data.get("tools") is not None:
            raise invalid("Give 'tools' or the deprecated 'functions', not both.", "functions")
        offered = offered_tools(functions, budget, "functions")
        if data.get("function_call", "auto") == "none" or not offered.parameters:
            return None, None, True
        # The deprecated form has one call per answer.
        return None, AutoTools(offered, parallel=False), True
    offered = offered_tools(data.get("tools"), budget)
    choice = data.get("tool_choice")
    forced = _forced_tool_call(offered, choice)
    if forced is not None or choice not in ("auto", None) or not offered.parameters:
        return forced, None, False
    parallel = data.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise invalid("'parallel_tool_calls' must be true or false.", "parallel_tool_calls")
    return None, AutoTools(offered, parallel is not False), False


def _positive_int(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise invalid(f"'{name}' must be a whole number of at least 1.", name)
    return value


def _choices(data: Mapping[str, Any], name: str, limit: int) -> int:
    n = _positive_int(data, name) or 1
    if n > limit:
        raise invalid(
            f"'{name}' may be at most {limit} here: each choice is a call to the service.", name
        )
    return n


def _stop(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP_SEQUENCES
        or not all(isinstance(s, str) and s for s in stops)
    ):
        raise invalid(
            f"'stop' must be a non-empty string or a list of up to {MAX_STOP_SEQUENCES} of them.",
            "stop",
        )
    return tuple(stops)


def _stream(data: Mapping[str, Any]) -> tuple[bool, bool]:
    stream = data.get("stream")
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise invalid("'stream' must be true, false or null.", "stream")
    options = data.get("stream_options")
    if options is None:
        return stream, False
    if not stream:
        raise invalid("'stream_options' is only allowed with 'stream': true.", "stream_options")
    if not isinstance(options, dict) or not set(options) <= {
        "include_usage",
        "include_obfuscation",
    }:
        raise invalid("'stream_options' may hold 'include_usage' only.", "stream_options")
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise invalid("'stream_options.include_usage' must be true or false.", "stream_options")
    return stream, include


def _sampling(data: Mapping[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in SAMPLING_FIELDS if data.get(name) is not None}


def _response_format(value: object, budget: SchemaBudget) -> Structured | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return Structured(None)
    if kind == "json_schema" and isinstance(value, dict):
        spec = value.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise invalid("response_format.json_schema needs a 'schema' object.", "response_format")
        where = "response_format.json_schema.schema"
        text = schema_text(spec["schema"], where, "response_format", budget)
        name = spec.get("name")
        return Structured(spec["schema"], name if isinstance(name, str) else "response", "", text)
    raise invalid(
        "response_format.type must be 'text', 'json_object' or 'json_schema'.", "response_format"
    )


def usage(prompt_tokens: int, choices: Sequence[Choice]) -> dict[str, int]:
    completion = sum(choice.tokens for choice in choices)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }
