"""``tools/floor_pins.py``, which CI uses to test the runtime requirements and the server extra
at their lowest allowed versions: every requirement is pinned at its floor, and one without a
floor is an error, so no dependency drops out of that test unseen."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "tools" / "floor_pins.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("floor_pins", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


@pytest.mark.parametrize("group", ["dependencies", "server", "cli"])
def test_every_requirement_is_pinned_at_its_floor(group: str) -> None:
    project = TOOL.tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = (
        project[group] if group == "dependencies" else project["optional-dependencies"][group]
    )
    pins = TOOL.floor_pins(group)
    assert len(pins) == len(declared)
    for requirement, pin in zip(declared, pins, strict=True):
        name, _, floor = pin.partition("==")
        assert requirement.startswith(f"{name}>={floor}")


def test_the_floors_known_to_break_are_left_behind() -> None:
    pins = [*TOOL.floor_pins("dependencies"), *TOOL.floor_pins("server"), *TOOL.floor_pins("cli")]
    assert "browser_cookie3==0.20.1" in pins  # 0.20.0 fails on import (NameError: lynx)
    assert "uvicorn[standard]==0.53" in pins  # older ones lose an upgrade request's body
    assert "shtab==1.10" in pins  # older ones have no fish completion: a traceback
    assert "tomli==2; python_version < '3.11'" in pins  # the marker is kept
    adapters = [*TOOL.floor_pins("langchain"), *TOOL.floor_pins("g4f")]
    assert "langchain-core==1.6" in adapters  # 1.0-1.5 lack the error kinds: import fails
    assert "g4f[api,gui]==8.8.2" in adapters


def test_a_requirement_without_a_floor_is_an_error(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\n[project.optional-dependencies]\n'
        'server = ["uvicorn>=0.53", "starlette"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="'starlette' in 'server' has no '>=' floor"):
        TOOL.floor_pins("server", pyproject)


def test_the_command_prints_a_pin_a_line() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "dependencies", "server"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == TOOL.floor_pins("dependencies") + TOOL.floor_pins("server")
    unknown = subprocess.run(
        [sys.executable, str(SCRIPT), "no-such-extra"], capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 1
    assert unknown.stderr == "floor_pins: no group 'no-such-extra' in pyproject.toml\n"
