"""The README and the docs pages, whose examples and tables the tests check against the code.

The pages' generated parts (the argument table, the command reference, ...) are made at build time
by ``tools/docs_hooks.py``; :func:`built_page` gives a page as the site shows it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def page_text(name: str) -> str:
    """A docs page's Markdown source, ``name`` without ``.md``."""
    return (DOCS / f"{name}.md").read_text(encoding="utf-8")


def hooks() -> ModuleType:
    """``tools/docs_hooks.py``, the MkDocs hooks that make the generated parts."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "tools" / "docs_hooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def built_page(name: str) -> str:
    """A docs page's Markdown with its generated parts filled in, as MkDocs renders it."""
    expanded: str = hooks().expand(page_text(name))
    return expanded


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a whole Markdown heading line) up to the next heading of the
    same level or above."""
    level = heading.split(" ", 1)[0]
    after = text.split(f"\n{heading}\n", 1)[1]
    stops = [f"\n{'#' * n} " for n in range(1, len(level) + 1)]
    end = min((after.find(stop) for stop in stops if stop in after), default=len(after))
    return after[:end]


@dataclass
class ExampleLog:
    """What the docs examples did in this run (``tests/docs``): where each that ran is, and each
    that was not, with the reason its page gives."""

    ran: list[str] = field(default_factory=list)
    not_run: list[tuple[str, str]] = field(default_factory=list)


EXAMPLE_LOG = pytest.StashKey[ExampleLog]()
