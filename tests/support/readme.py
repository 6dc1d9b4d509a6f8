"""The README, whose examples and tables the tests check against the code.

``python tests/support/readme.py`` rewrites the README's argument table from the declared
options (between the ``options:start`` and ``options:end`` markers); the tests fail while the two
disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TABLE = re.compile(r"(<!-- options:start -->\n)(.*?)(<!-- options:end -->)", re.DOTALL)

#: The rows before the keyword arguments: the positional parameters.
POSITIONAL_ROWS = (
    '| `model` | — | `"gpt-3.5-turbo"`; `""` means that default; any other string raises '
    "`ModelNotSupportedError` (a non-string, `InvalidRequestError`) |",
    '| `messages` | — | non-empty list of `{"role": "system" \\| "user" \\| "assistant", '
    '"content": ...}` |',
)


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def options_table() -> str:
    """The argument table as the declared options describe it."""
    from aichat_provider._options import OPTIONS

    rows = ["| argument | default | meaning |", "|---|---|---|", *POSITIONAL_ROWS]
    for option in OPTIONS:
        meaning = option.help.replace("|", "\\|")
        rows.append(f"| `{option.name}` | {option.default_text} | {meaning} |")
    return "\n".join(rows) + "\n"


def table_in_readme(text: str) -> str:
    match = TABLE.search(text)
    if match is None:
        raise LookupError("README.md has no <!-- options:start --> ... <!-- options:end --> block")
    return match.group(2)


def write() -> None:
    text = readme_text()
    table_in_readme(text)  # fails loudly if the markers are gone
    README.write_text(TABLE.sub(lambda m: m.group(1) + options_table() + m.group(3), text))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    write()
    print(f"rewrote the argument table in {README}")
