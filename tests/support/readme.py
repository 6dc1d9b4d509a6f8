"""The README, whose examples and tables the tests check against the code."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def readme_text() -> str:
    return README.read_text(encoding="utf-8")
