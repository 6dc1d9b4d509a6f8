"""No module of the server is over 350 lines: the server is split by job (docs/server-deployment.md
lists the modules), and a module that outgrows the bound has taken a second job, which goes in a
module of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

SERVER = Path(__file__).parents[2] / "aichat_provider" / "server"
MAX_LINES = 350


@pytest.mark.parametrize("module", sorted(SERVER.glob("*.py")), ids=lambda path: path.name)
def test_a_server_module_stays_within_the_bound(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.name} has {lines} lines; give its second job a module"


def test_every_server_module_is_listed_for_contributors() -> None:
    table = (SERVER.parents[1] / "docs" / "server-deployment.md").read_text(encoding="utf-8")
    modules = [p.name for p in SERVER.glob("_*.py") if p.name != "__init__.py"]
    missing = [name for name in modules if f"`{name}`" not in table]
    assert missing == [], f"docs/server-deployment.md's module table lacks {missing}"
