"""The lowest versions the project allows, pinned, for testing that they work.

    python tools/floor_pins.py dependencies server cli > floors.txt && pip install -r floors.txt

Each argument is ``dependencies`` (the runtime requirements) or the name of an extra. A floor in
``pyproject.toml`` is a promise to the user whose environment already holds that version: pip
keeps it. CI installs these pins over the test extras and runs the tests of what they serve
(``.ci/run``), so a floor that does not work fails there instead of in a user's ``aichat``.
Every requirement needs a ``>=`` floor: one without is an error.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the cli extra brings tomli
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
#: ``name[extras]>=1.2`` with optional further bounds (``,<3``) and a marker (``; python...``).
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+(\[[^\]]*\])?)\s*>=\s*(?P<floor>[0-9.]+)")


def floor_pins(group: str, pyproject: Path = PYPROJECT) -> list[str]:
    """Each requirement of ``group`` (``dependencies`` or an extra) as ``name==floor`` (its
    environment marker kept), one a line when printed;
    ValueError for one without a floor, KeyError for a group that is not there."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    if group == "dependencies":
        requirements = project["dependencies"]
    else:
        requirements = project["optional-dependencies"][group]
    pins = []
    for requirement in requirements:
        found = REQUIREMENT.match(requirement)
        if found is None:
            raise ValueError(f"{requirement!r} in {group!r} has no '>=' floor to test")
        marker = requirement.partition(";")[2].strip()  # tomli's python_version < '3.11'
        pins.append(f"{found['name']}=={found['floor']}" + (f"; {marker}" if marker else ""))
    return pins


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python tools/floor_pins.py dependencies|EXTRA ...", file=sys.stderr)
        return 2
    try:
        print("\n".join(pin for group in argv for pin in floor_pins(group)))
    except KeyError as exc:
        print(f"floor_pins: no group {exc} in pyproject.toml", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"floor_pins: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
