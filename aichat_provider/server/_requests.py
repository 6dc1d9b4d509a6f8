"""Reading requests: the body as JSON, each field's type checked by the typed models
(``_models``), then what the types cannot say (limits, combinations, schemas), so a request the
server will not run as given is a 400 naming the field before any upstream call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import _constants
from ._emulation import ForcedToolCall, Plan, Structured, provider_messages
from ._errors import APIError, invalid
from ._http import loads
from ._models import ChatCompletionRequest, CompletionRequest
from ._schema import SchemaBudget, schema_text

#: Request fields the sampling of the provider takes as they are.
SAMPLING_FIELDS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
MAX_STOP_SEQUENCES = 4


def parse_body(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400."""
    try:
        data = loads(body)
    except (ValueError, RecursionError):
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    return data


def checked(model: type[BaseModel], data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` once each field has the type ``model`` gives it; else a 400 naming the field
    (never FastAPI's 422: OpenAI's clients expect 400)."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    except RecursionError:
        raise invalid("The request body is nested too deeply.") from None
    return data


def validation_error(exc: ValidationError) -> APIError:
    problems = exc.errors(include_url=False, include_input=False, include_context=False)
    unknown = [str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden" and p["loc"]]
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        return invalid(
            f"Unrecognized request argument(s): {shown}. The server's documentation lists what "
            "it accepts.",
            unknown[0][:40],
        )
    first = problems[0]
    location = first["loc"]
    if not location:
        return invalid(f"The request body is not a valid request: {first['msg']}.")
    # Union members appear in the location by type name; only fields and indexes name a place.
    place = [location[0], *(p for p in location[1:] if isinstance(p, int))]
    where = ".".join(str(p)[:40] for p in place)
    return invalid(f"'{where}': {first['msg']}.", str(place[0])[:40])


def read_chat(data: Mapping[str, Any], max_choices: int) -> Plan:
    """A chat completion request as a Plan, or a 400 naming the field."""
    data = checked(ChatCompletionRequest, data)
    _refuse_set(data, "logprobs", (None, False), "log probabilities")
    _refuse_set(data, "top_logprobs", (None, 0), "log probabilities")
    _refuse_set(data, "logit_bias", (None, {}), "token biases")
    modalities = data.get("modalities")
    if modalities is not None and modalities != ["text"]:
        raise invalid(
            "Only text answers are possible here: 'modalities' must be [\"text\"].", "modalities"
        )
    _refuse_function_call(data.get("function_call"))
    _check_list(data, "functions")
    budget = SchemaBudget()
    tool_call = _forced_tool_call(data.get("tools"), data.get("tool_choice"), budget)
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
    )
    plan.stream, plan.include_usage = _stream(data)
    if tool_call is not None:
        if plan.structured is not None:
            raise invalid(
                "A required tool call and a response_format cannot be combined here.",
                "response_format",
            )
        plan.messages.append({"role": "system", "content": tool_call.instruction()})
        plan.schemas = [
            (f"the parameters of tool {name[:60]!r}", "tools", text)
            for name, text in tool_call.texts.items()
        ]
    elif plan.structured is not None:
        plan.messages.append({"role": "system", "content": plan.structured.instruction()})
        if plan.structured.schema is not None:
            plan.schemas = [
                ("response_format.json_schema.schema", "response_format", plan.structured.text)
            ]
    return plan


def read_completion(data: Mapping[str, Any], max_choices: int) -> Plan:
    """A legacy ``/v1/completions`` request: each prompt is sent as one user message."""
    data = checked(CompletionRequest, data)
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


def _forced_tool_call(tools: object, choice: object, budget: SchemaBudget) -> ForcedToolCall | None:
    """The tool call ``tool_choice`` requires, or None ("auto", "none": the model answers in
    text, which is all the service can do on its own)."""
    if tools is not None and not isinstance(tools, list):
        raise invalid("'tools' must be a list.", "tools")
    if tools is not None and len(tools) > _constants.SERVER_MAX_TOOLS:
        raise invalid(
            f"'tools' offers {len(tools)} tools; at most {_constants.SERVER_MAX_TOOLS} are "
            "allowed.",
            "tools",
            "too_many_tools",
        )
    if choice is None or choice in ("auto", "none"):
        return None
    offered: dict[str, dict[str, Any]] = {}
    descriptions: dict[str, str] = {}
    texts: dict[str, str] = {}
    for index, tool in enumerate(tools or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(tool, dict)
            or tool.get("type", "function") != "function"
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
        ):
            raise invalid(
                f"tools[{index}] must be {{'type': 'function', 'function': {{'name': ...}}}}.",
                "tools",
            )
        parameters = function.get("parameters") or {"type": "object"}
        if not isinstance(parameters, dict):
            raise invalid(f"tools[{index}].function.parameters must be a JSON Schema.", "tools")
        texts[function["name"]] = schema_text(
            parameters, f"tools[{index}].function.parameters", "tools", budget
        )
        offered[function["name"]] = parameters
        description = function.get("description")
        if isinstance(description, str) and description:
            descriptions[function["name"]] = description[:500]
    if not offered:
        raise invalid("tool_choice asks for a tool call, but 'tools' offers none.", "tool_choice")
    if choice == "required":
        return ForcedToolCall(
            offered, descriptions, None if len(offered) > 1 else next(iter(offered)), texts
        )
    named = choice.get("function") if isinstance(choice, dict) else None
    name = named.get("name") if isinstance(named, dict) else None
    if not isinstance(name, str):
        raise invalid(
            "tool_choice must be 'auto', 'none', 'required' or "
            "{'type': 'function', 'function': {'name': ...}}.",
            "tool_choice",
        )
    if name not in offered:
        raise invalid(
            f"tool_choice names {name[:60]!r}, which 'tools' does not offer.", "tool_choice"
        )
    return ForcedToolCall(offered, descriptions, name, texts)


def _check_list(data: Mapping[str, Any], name: str) -> None:
    value = data.get(name)
    if value is not None and not isinstance(value, list):
        raise invalid(f"'{name}' must be a list.", name)
    if isinstance(value, list) and len(value) > _constants.SERVER_MAX_TOOLS:
        raise invalid(
            f"'{name}' offers {len(value)} functions; at most {_constants.SERVER_MAX_TOOLS} are "
            "allowed.",
            name,
            "too_many_tools",
        )


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
