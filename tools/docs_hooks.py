"""MkDocs hooks: the pages' generated parts, made from the code at every build so they never drift.

A page asks for one with an HTML comment on a line of its own:

- ``<!-- generated: options -->``: the provider's argument table, from ``_options.OPTIONS``;
- ``<!-- generated: cli -->``: ``aichat --help`` and each command's ``--help``, from the parser;
- ``<!-- generated: layers -->``: the layers of ``pyproject.toml``'s import contract, top first;
- ``<!-- include: PATH -->``: a results file of the repository (relative to its root), as it is.

The docs test (``tests/docs``) loads this module too, to check what the pages are built from.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- (generated|include): (\S+) -->$", re.MULTILINE)
#: ``--help`` is wrapped to the terminal's width; the pages use one width.
HELP_COLUMNS = "100"

#: The rows before the keyword arguments: the positional parameters.
POSITIONAL_ROWS = (
    '| `model` | — | `"gpt-3.5-turbo"`; `""` means that default; any other string raises '
    "`ModelNotSupportedError` (a non-string, `InvalidRequestError`) |",
    '| `messages` | — | non-empty list of `{"role": "system" \\| "user" \\| "assistant", '
    '"content": ...}` |',
)


def options_table() -> str:
    """The argument table as the declared options describe them."""
    from aichat_provider._options import OPTIONS

    rows = ["| argument | default | meaning |", "|---|---|---|", *POSITIONAL_ROWS]
    for option in OPTIONS:
        meaning = option.help.replace("|", "\\|")
        rows.append(f"| `{option.name}` | {option.default_text} | {meaning} |")
    return "\n".join(rows) + "\n"


def cli_reference() -> str:
    """``aichat --help``, then a section per command with its ``--help``."""
    import argparse

    from aichat_provider.cli import build_parser

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        parser = build_parser()
        parts = ["## aichat", "", "```text", parser.format_help().rstrip(), "```", ""]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    parts += [f"## aichat {name}", "", "```text", sub.format_help().rstrip()]
                    parts += ["```", ""]
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before
    return "\n".join(parts)


def layers() -> str:
    """The layer contract ``lint-imports`` checks, as a diagram: each layer may import the ones
    below it; modules side by side in a layer may not import each other."""
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as file:
        contracts = tomllib.load(file)["tool"]["importlinter"]["contracts"]
    layered = next(contract for contract in contracts if contract["type"] == "layers")
    rows = []
    for layer in layered["layers"]:
        modules = [name.strip().removeprefix("aichat_provider.") for name in layer.split("|")]
        rows.append("   ".join(f"[{module}]" for module in modules))
    width = max(len(row) for row in rows)
    arrow = "↓".center(width).rstrip()
    lines = [row.center(width).rstrip() for row in rows]
    diagram = f"\n{arrow}\n".join(lines)
    return f"```text\n{diagram}\n```\n"


def included(path: str) -> str:
    """A results file of the repository, its title dropped and its headings one level down (the
    page has its own)."""
    text = re.sub(r"\A# .*\n+", "", (ROOT / path).read_text(encoding="utf-8"))
    return re.sub(r"^(#+) ", r"#\1 ", text, flags=re.MULTILINE)


def expand(markdown: str) -> str:
    """The page with every marker replaced by what it asks for."""

    def replace(match: re.Match[str]) -> str:
        kind, what = match.groups()
        if kind == "include":
            return included(what)
        if what == "options":
            return options_table()
        if what == "cli":
            return cli_reference()
        if what == "layers":
            return layers()
        raise ValueError(f"unknown generated part {what!r}")

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return expand(markdown)
