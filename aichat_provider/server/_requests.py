"""Reading requests: the body as JSON, read into its typed model (``_models``: each field's type
and range), then what types cannot say (limits of this server, combinations, schemas), so a
request the server will not run as given is a 400 naming the field before any upstream call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ._emulation import ForcedToolCall, Plan, Structured, provider_messages
from ._errors import APIError, invalid, unrecognized
from ._http import loads
from ._models import ChatCompletionRequest, CompletionRequest, OpenAIRequest
from ._schema import SchemaBudget, schema_text
from ._tools_auto import AutoTools, OfferedTools, legacy_functions, offered_tools

#: Request fields the sampling of the provider takes as they are.
SAMPLING_FIELDS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
#: Parts of a validation error's location that name a type (a union's member), not a place.
TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})
Model = TypeVar("Model", bound=BaseModel)


def parse_body(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400."""
    try:
        data = loads(body)
    except (ValueError, RecursionError):
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    return data


def read_model(model: type[Model], data: Mapping[str, Any]) -> Model:
    """``data`` as ``model``, or a 400 naming the field (never a 422: OpenAI's clients and
    their retry rules expect 400)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
    except RecursionError:
        raise invalid("The request body is nested too deeply.") from None


def validation_error(exc: ValidationError) -> APIError:
    problems = exc.errors(include_url=False, include_input=False, include_context=False)
    unknown = [
        str(p["loc"][0]) for p in problems if p["type"] == "extra_forbidden" and len(p["loc"]) == 1
    ]
    if unknown:
        return unrecognized(unknown)
    # Of a union's members, the one whose type the value has says what is wrong with it.
    first = next((p for p in problems if not p["type"].endswith("_type")), problems[0])
    place = [str(part)[:40] for part in first["loc"] if not _is_type_tag(part)]
    if not place:
        return invalid(f"The request body is not a valid request: {first['msg']}.")
    return invalid(f"'{'.'.join(place)}': {first['msg']}.", place[0])


def _is_type_tag(part: object) -> bool:
    text = str(part)
    return text in TYPE_TAGS or "[" in text or "-" in text or text[:1].isupper()


def read_chat(data: Mapping[str, Any], max_choices: int) -> Plan:
    """A chat completion request as a Plan, or a 400 naming the field."""
    request = read_model(ChatCompletionRequest, data)
    _refuse_set(request, "logprobs", (None, False), "log probabilities")
    _refuse_set(request, "top_logprobs", (None, 0), "log probabilities")
    _refuse_set(request, "logit_bias", (None, {}), "token biases")
    if request.modalities is not None and request.modalities != ["text"]:
        raise invalid(
            "Only text answers are possible here: 'modalities' must be [\"text\"].", "modalities"
        )
    _refuse_function_call(request.function_call)
    budget = SchemaBudget()
    tool_call, auto_tools, legacy = _tool_plan(request, budget)
    plan = _plan(request, max_choices, provider_messages(request.messages))
    plan.max_tokens = request.max_completion_tokens or request.max_tokens
    plan.structured = _response_format(request.response_format, budget)
    plan.auto_tools, plan.legacy_functions = auto_tools, legacy
    if tool_call is not None:
        if plan.structured is not None:
            raise invalid(
                "A required tool call and a response_format cannot be combined here.",
                "response_format",
            )
        plan.tool_call = tool_call
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
    request = read_model(CompletionRequest, data)
    _refuse_set(request, "echo", (None, False), "echoing the prompt")
    _refuse_set(request, "suffix", (None, ""), "a suffix")
    _refuse_set(request, "logprobs", (None, 0), "log probabilities")
    _refuse_set(request, "best_of", (None, 1), "best_of")
    _refuse_set(request, "logit_bias", (None, {}), "token biases")
    prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
    plan = _plan(request, max_choices, [])
    if len(prompts) * plan.n > max_choices:
        raise invalid(
            f"{len(prompts)} prompts x n={plan.n} is over {max_choices} answers for one request.",
            "n",
        )
    plan.prompts, plan.max_tokens = prompts, request.max_tokens
    return plan


def _plan(request: OpenAIRequest, max_choices: int, messages: list[dict[str, Any]]) -> Plan:
    """What chat and legacy requests share: sampling, ``n``, ``stop``, streaming."""
    n = request.n or 1
    if n > max_choices:
        raise invalid(
            f"'n' may be at most {max_choices} here: each choice is a call to the service.", "n"
        )
    stop = request.stop
    options = request.stream_options
    if options is not None and not request.stream:
        raise invalid("'stream_options' is only allowed with 'stream': true.", "stream_options")
    return Plan(
        messages=messages,
        sampling={
            name: getattr(request, name)
            for name in SAMPLING_FIELDS
            if getattr(request, name) is not None
        },
        n=n,
        stream=bool(request.stream),
        include_usage=options is not None and options.include_usage,
        stop=() if stop is None else (stop,) if isinstance(stop, str) else tuple(stop),
    )


def _refuse_set(request: OpenAIRequest, name: str, defaults: tuple[object, ...], what: str) -> None:
    if getattr(request, name) not in defaults:
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
    request: ChatCompletionRequest, budget: SchemaBudget
) -> tuple[ForcedToolCall | None, AutoTools | None, bool]:
    """The call ``tool_choice`` requires, or the tools the model may call of its own choice
    ("auto", or tools with no tool_choice; the deprecated ``functions`` the same way), and
    whether they came as ``functions``. Each schema is read once, from the request's budget."""
    functions = legacy_functions(request.functions)
    if functions is not None:
        if request.tools is not None:
            raise invalid("Give 'tools' or the deprecated 'functions', not both.", "functions")
        offered = offered_tools(functions, budget, "functions")
        if request.function_call == "none" or not offered.parameters:
            return None, None, True
        # The deprecated form has one call per answer.
        return None, AutoTools(offered, parallel=False), True
    offered = offered_tools(request.tools, budget)
    choice = request.tool_choice
    forced = _forced_tool_call(offered, choice)
    if forced is not None or choice not in ("auto", None) or not offered.parameters:
        return forced, None, False
    parallel = request.parallel_tool_calls
    if parallel is not None and not isinstance(parallel, bool):
        raise invalid("'parallel_tool_calls' must be true or false.", "parallel_tool_calls")
    return None, AutoTools(offered, parallel is not False), False


def _response_format(value: dict[str, Any] | None, budget: SchemaBudget) -> Structured | None:
    kind = None if value is None else value.get("type")
    if value is None or kind == "text":
        return None
    if kind == "json_object":
        return Structured(None)
    if kind == "json_schema":
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
