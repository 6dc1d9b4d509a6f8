"""The parts of ``aichat`` that keep state, driven into their faults: counts and ids of any size,
a log that cannot take a write, a config file that is not text or not a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from aichat_provider.cli import _logs, main


def log_file(home: Path) -> Path:
    return home / ".local" / "share" / "aichat-provider" / "logs.db"


def record(cid: str, prompt: str, *, path: Path) -> None:
    _logs.record(
        cid,
        model="gpt-test",
        system=None,
        prompt=prompt,
        answer=f"answer to {prompt}",
        base_url="http://127.0.0.1:9",
        elapsed=0.1,
        attempts=1,
        path=path,
    )


# --- aichat logs: what the user types ---


@pytest.mark.parametrize("count", [str(2**63), "9" * 30])
@pytest.mark.parametrize("search", [[], ["-q", "topic"]])
def test_a_count_beyond_any_log_lists_everything(
    home: Path, capfd: pytest.CaptureFixture[str], count: str, search: list[str]
) -> None:
    # catches OverflowError (SQLite takes 64-bit integers only) escaping as a traceback
    record("abc111111111", "topic", path=log_file(home))
    assert main(["logs", "-n", count, *search]) == 0
    captured = capfd.readouterr()
    assert captured.out.startswith("abc111111111  ")
    assert captured.err == ""
