"""Fail when coverage is under the project's floor: 95 % of lines and 92 % of branches for the
package, and no module under 90 % of its lines.

Run by ``.ci/run`` after ``coverage run -m pytest`` and ``coverage combine``::

    coverage json -o coverage.json && python tests/support/coverage_floor.py coverage.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LINES, BRANCHES, MODULE_LINES = 95.0, 92.0, 90.0


def percent(covered: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * covered / total


def check(report: dict[str, object]) -> list[str]:
    """What falls under the floor, one line each (empty: all is well)."""
    files = report["files"]
    assert isinstance(files, dict)
    failures: list[str] = []
    lines = covered_lines = branches = covered_branches = 0
    for name, data in sorted(files.items()):
        summary = data["summary"]
        lines += summary["num_statements"]
        covered_lines += summary["covered_lines"]
        branches += summary.get("num_branches", 0)
        covered_branches += summary.get("covered_branches", 0)
        module = percent(summary["covered_lines"], summary["num_statements"])
        if module < MODULE_LINES:
            failures.append(f"{name}: {module:.1f} % of lines (floor {MODULE_LINES:g} %)")
    total_lines = percent(covered_lines, lines)
    total_branches = percent(covered_branches, branches)
    print(
        f"package: {total_lines:.1f} % of {lines} lines, "
        f"{total_branches:.1f} % of {branches} branches"
    )
    if total_lines < LINES:
        failures.append(f"package: {total_lines:.1f} % of lines (floor {LINES:g} %)")
    if total_branches < BRANCHES:
        failures.append(f"package: {total_branches:.1f} % of branches (floor {BRANCHES:g} %)")
    return failures


def main(path: str) -> int:
    failures = check(json.loads(Path(path).read_text()))
    for failure in failures:
        print(f"under the coverage floor: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
