"""Tools a request offers, and the model's free choice among them (``tool_choice: "auto"``).

The service answers a prompt with text and cannot call anything, so the tools are described in
the prompt together with the form of a call. An answer that is exactly such a call of offered
functions, each with arguments valid against the function's parameters (checked by the schema
runner, like every schema a request brings), becomes ``tool_calls``; any other answer is the
text answer, as it came.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import _constants
from ._errors import invalid
from ._schema import SchemaBudget, SchemaRunner, schema_text

FENCE = re.compile(r"\A```[a-zA-Z0-9_-]*[ \t]*\n(.*)\n```\Z", re.S)
#: A description longer than this is cut in the prompt: it is there to help the model choose.
MAX_DESCRIPTION = 500


@dataclass
class OfferedTools:
    """The functions a request offers: each one's parameters (a JSON Schema), description and
    parameters as checked JSON text (what the schema worker compiles)."""

    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def schemas(self) -> list[tuple[str, str, str]]:
        """Each function's parameters as ``(where, param, text)``, for ``SchemaRunner.compile``."""
        return [
            (f"the parameters of tool {name[:60]!r}", "tools", text)
            for name, text in self.texts.items()
        ]


def offered_tools(tools: object, budget: SchemaBudget, param: str = "tools") -> OfferedTools:
    """Chat's ``tools`` (``[{"type": "function", "function": {...}}]``) read and bounded, or a
    400 naming the first one that is not a function."""
    if tools is not None and not isinstance(tools, list):
        raise invalid(f"'{param}' must be a list.", param)
    if tools is not None and len(tools) > _constants.SERVER_MAX_TOOLS:
        raise invalid(
            f"'{param}' offers {len(tools)} tools; at most {_constants.SERVER_MAX_TOOLS} are "
            "allowed.",
            param,
            "too_many_tools",
        )
    offered = OfferedTools()
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
                param,
            )
        name = function["name"]
        parameters = function.get("parameters") or {"type": "object"}
        if not isinstance(parameters, dict):
            raise invalid(f"tools[{index}].function.parameters must be a JSON Schema.", param)
        offered.texts[name] = schema_text(
            parameters, f"tools[{index}].function.parameters", param, budget
        )
        offered.parameters[name] = parameters
        description = function.get("description")
        if isinstance(description, str) and description:
            offered.descriptions[name] = description[:MAX_DESCRIPTION]
    return offered


def legacy_functions(functions: object) -> list[dict[str, Any]] | None:
    """The deprecated ``functions`` list as ``tools`` entries (checked by ``offered_tools``)."""
    if functions is None:
        return None
    if not isinstance(functions, list):
        raise invalid("'functions' must be a list.", "functions")
    return [{"type": "function", "function": function} for function in functions]


@dataclass
class AutoTools:
    """``tool_choice: "auto"``: the model answers in text, or with calls of offered functions."""

    offered: OfferedTools
    #: Several calls in one answer (``parallel_tool_calls``, true unless the client says false).
    parallel: bool = True

    def instruction(self) -> str:
        lines = ["You can call these functions (their parameters are JSON Schemas):"]
        for name, parameters in self.offered.parameters.items():
            described = self.offered.descriptions.get(name)
            lines.append(
                f"- {name}"
                + (f": {described}" if described else "")
                + "\n  parameters: "
                + json.dumps(parameters, ensure_ascii=False)
            )
        several = (
            "; list several calls to call several functions at once"
            if self.parallel
            else "; call one function at a time"
        )
        lines.append(
            "To call a function, answer with one JSON object and nothing else (no prose, no "
            'code fences): {"tool_calls": [{"name": "FUNCTION", "arguments": {...}}]}'
            + several
            + ". The result will come back in a later message. If no function is needed, "
            "answer in plain text as usual."
        )
        return "\n".join(lines)

    async def calls(self, answer: str, schemas: SchemaRunner) -> list[dict[str, Any]] | None:
        """The ``tool_calls`` entries the answer makes, or None when it is a text answer."""
        wanted = _wanted_calls(answer)
        if not wanted:
            return None
        if not self.parallel:
            wanted = wanted[:1]
        made = []
        for name, arguments in wanted:
            text = self.offered.texts.get(name)
            if text is None:
                return None
            arguments_text = json.dumps(arguments, ensure_ascii=False)
            if await schemas.problem(text, arguments_text) is not None:
                return None
            made.append(new_tool_call(name, arguments_text))
        return made


def new_tool_call(name: str, arguments: str) -> dict[str, Any]:
    """One chat ``tool_calls`` entry, with a fresh id."""
    return {
        "id": f"call_{os.urandom(12).hex()}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def _wanted_calls(answer: str) -> list[tuple[str, dict[str, Any]]]:
    """The ``(name, arguments)`` pairs an answer asks for when it is only a call (the form the
    prompt gives, a bare ``{"name", "arguments"}`` or a list of those); [] otherwise."""
    text = answer.strip()
    if not text or text[0] not in "{[`":
        return []  # prose: not worth parsing
    fenced = FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if isinstance(value, dict) and set(value) == {"tool_calls"}:
        value = value["tool_calls"]
    entries: Sequence[object] = value if isinstance(value, list) else [value]
    wanted = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not {"name", "arguments"} <= set(entry):
            return []
        name, arguments = entry["name"], entry["arguments"]
        if isinstance(arguments, str):  # the chat wire form, which a model may copy
            try:
                arguments = json.loads(arguments)
            except (ValueError, RecursionError):
                return []
        if not isinstance(name, str) or not isinstance(arguments, dict):
            return []
        wanted.append((name, arguments))
    return wanted
