"""``aichat --version`` and ``--help`` import only what they print: no command, no provider, no
curl_cffi, no asyncio (benchmarks/startup.py measures the time; here, what is imported)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.secrets import subprocess_env

CODE = """
import sys
before = set(sys.modules)
sys.argv = ["aichat", *{args!r}]
from aichat_provider.cli import main
try:
    main()
except SystemExit:
    pass
new = sorted(set(sys.modules) - before)
print([m for m in new if m.startswith("aichat_provider")], file=sys.stderr)
print([m for m in ("curl_cffi", "asyncio", "typing", "sqlite3", "http.cookiejar") if m in new],
      file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["--help"], ["help"]])
def test_version_and_help_import_no_command(home: Path, args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE.format(args=args)],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    ours, heavy = result.stderr.strip().splitlines()[-2:]
    assert ours == str(["aichat_provider", "aichat_provider._constants", "aichat_provider.cli",
                        "aichat_provider.cli._commands"])  # fmt: skip
    assert heavy == "[]"
    assert "aichat" in result.stdout
