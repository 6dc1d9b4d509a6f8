"""The hand-written mutations (``tools/audit_mutations.py``, ``tools/hand_mutations.py``) still
match the code they mutate: each ``old`` text occurs exactly once in its file. A change that
moves the code fails here, in the fast set, instead of stopping the next mutation run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "audit_mutations", ROOT / "tools" / "audit_mutations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
MUTATIONS = [*TOOL.MUTATIONS, *TOOL.hand_mutations()]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.name)
def test_each_mutation_finds_its_code_once(mutation: Any) -> None:
    path = ROOT / mutation.file
    assert path.is_file(), f"{mutation.name}: {mutation.file} is gone; move the mutation"
    found = path.read_text(encoding="utf-8").count(mutation.old)
    assert found == 1, (
        f"{mutation.name}: its text occurs {found} times in {mutation.file}; update the "
        "mutation to the code as it is now (keep its regression)"
    )


def test_the_names_are_unique() -> None:
    names = [mutation.name for mutation in MUTATIONS]
    assert len(names) == len(set(names))
