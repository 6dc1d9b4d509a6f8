"""What a user meets when something is off around the log, ``aichat logs``, ``aichat config``,
``aichat completion`` and the Markdown output: a damaged, newer or half-made log, an id that
names nothing, a command without what it needs, an editor that cannot start, a closed output."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aichat_provider import errors
from aichat_provider.cli import _logs, _render, main
from aichat_provider.cli._common import OutputClosedError
from support.cli import AICHAT, log_file, record_exchange
from support.secrets import subprocess_env

HINT = "move it away to start a new one, or pass --no-log"


def private_log(tmp_path: Path) -> Path:
    """A log path in a private folder that exists, without the log itself."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    return folder / "logs.db"


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows}


def closed_stdout(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``aichat *args`` started with its standard output closed, as ``cmd >&-`` does."""
    return subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *AICHAT, *args],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )


# --- the log file itself (real SQLite files) ---


def test_reading_an_absent_log_finds_nothing_and_makes_no_file(tmp_path: Path) -> None:
    # catches reading commands that create an empty log, or fail, when none was written yet
    path = private_log(tmp_path)
    assert _logs.conversations(5, path) == []
    assert _logs.search("x", 5, path) == []
    assert _logs.latest_conversation_id(path) is None
    assert _logs.exchanges("abc", path) == []
    with pytest.raises(errors.InvalidRequestError, match="no conversation 'abc' in the log"):
        _logs.find_conversation("abc", path)
    assert not path.exists()


@pytest.mark.parametrize("given", ["", "../etc", "3f9c%", "abc_"])
def test_an_id_that_is_not_hex_is_refused_before_the_log_is_read(
    tmp_path: Path, given: str
) -> None:
    # catches LIKE wildcards or empty ids matching some conversation
    path = private_log(tmp_path)
    record_exchange("abc111111111", "topic", path=path)
    with pytest.raises(errors.InvalidRequestError) as caught:
        _logs.find_conversation(given, path)
    assert str(caught.value) == f"{given!r} is not a conversation id; 'aichat logs' lists them."


def test_a_damaged_log_says_so_and_is_left_as_it_was(tmp_path: Path) -> None:
    # catches a raw sqlite3.DatabaseError escaping, or a damaged log being overwritten
    path = private_log(tmp_path)
    damage = b"this is not a database\n" * 200
    path.write_bytes(damage)
    for use in (
        lambda: _logs.conversations(5, path),
        lambda: record_exchange("abc111111111", "hi", path=path),
    ):
        with pytest.raises(errors.InvalidRequestError) as caught:
            use()
        assert str(caught.value) == (
            f"the log {str(path)!r} cannot be used (file is not a database); {HINT}"
        )
    assert path.read_bytes() == damage


def test_a_log_that_is_a_folder_cannot_be_opened(tmp_path: Path) -> None:
    # catches sqlite3.connect's error escaping raw instead of a typed error with the next step
    path = private_log(tmp_path)
    path.mkdir()
    with pytest.raises(errors.InvalidRequestError) as caught:
        record_exchange("abc111111111", "hi", path=path)
    assert str(caught.value).startswith(f"the log {str(path)!r} cannot be opened (")
    assert str(caught.value).endswith(HINT)


def test_a_log_from_a_newer_aichat_is_refused_untouched(tmp_path: Path) -> None:
    # catches an older aichat "migrating" (or writing to) a schema it does not know
    path = private_log(tmp_path)
    newer = _logs.SCHEMA_VERSION + 1
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(errors.InvalidRequestError) as caught:
        record_exchange("abc111111111", "hi", path=path)
    assert f"was written by a newer aichat (schema {newer}); upgrade aichat" in str(caught.value)
    assert tables(path) == set()


def test_a_migration_that_fails_half_way_leaves_the_log_as_it_was(tmp_path: Path) -> None:
    # the first table can be made, the second cannot: catches a migration not run atomically
    path = private_log(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE exchanges (x)")
    with pytest.raises(errors.InvalidRequestError) as caught:
        _logs.conversations(5, path)
    assert "cannot be used (table exchanges already exists)" in str(caught.value)
    assert tables(path) == {"exchanges"}
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 0


def test_an_exchange_that_cannot_be_stored_adds_no_conversation(tmp_path: Path) -> None:
    # catches a conversation row committed without its exchange (no transaction / no rollback)
    path = private_log(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute(_logs.MIGRATIONS[0][0])  # conversations, but no exchanges table
        connection.execute(f"PRAGMA user_version = {_logs.SCHEMA_VERSION}")
    with pytest.raises(errors.InvalidRequestError, match=r"cannot be used \(no such table"):
        record_exchange("abc111111111", "hi", path=path)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 0


# --- aichat logs ---


def test_logs_path_names_the_log_file(home: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "path"]) == 0
    assert capfd.readouterr().out == f"{log_file(home)}\n"


def test_logs_refuses_a_count_below_one(home: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "-n", "0"]) == 2
    assert "--count must be 1 or more." in capfd.readouterr().err


def test_logs_show_without_an_id_says_how(home: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "show"]) == 2
    err = capfd.readouterr().err
    assert "say which conversation: aichat logs show ID (aichat logs lists them)" in err


def test_logs_show_of_an_unknown_id_or_a_damaged_log_is_a_usage_error(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    record_exchange("abc111111111", "topic", path=log_file(home))
    assert main(["logs", "show", "fff"]) == 2
    captured = capfd.readouterr()
    assert captured.out == ""
    assert "no conversation 'fff' in the log; 'aichat logs' lists them." in captured.err
    log_file(home).write_bytes(b"damaged " * 100)
    assert main(["logs"]) == 2
    assert "cannot be used (file is not a database)" in capfd.readouterr().err


def test_logs_show_json_and_text(home: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # catches the JSON missing exchanges, or an empty "system:" in the text of one without it
    record_exchange("abc111111111", "first", path=log_file(home), system="be brief")
    record_exchange("abc111111111", "second", path=log_file(home))
    assert main(["logs", "show", "abc", "--json"]) == 0
    body = json.loads(capfd.readouterr().out)
    assert body["id"] == "abc111111111"
    assert [(e["prompt"], e["system"]) for e in body["exchanges"]] == [
        ("first", "be brief"),
        ("second", None),
    ]
    assert body["exchanges"][0]["at"].endswith("Z")
    assert main(["logs", "show", "abc1"]) == 0
    heads = [line for line in capfd.readouterr().out.splitlines() if line.startswith("--- ")]
    assert heads[0].endswith(", gpt-test, system: be brief")
    assert heads[1].endswith(", gpt-test")


def test_logs_search_lists_the_hits_or_says_it_found_none(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches an empty output for no hit (looks like a failed search), or hits without the answer
    record_exchange("abc111111111", "about docker", path=log_file(home))
    record_exchange("def222222222", "about rust", path=log_file(home))
    assert main(["logs", "-q", "DOCKER"]) == 0
    [hit] = capfd.readouterr().out.splitlines()
    assert hit.startswith("abc111111111  ")
    assert hit.endswith("  about docker  ->  answer to about docker")
    assert main(["logs", "-q", "kubernetes"]) == 0
    assert capfd.readouterr().out == "nothing logged mentions 'kubernetes'\n"


def test_logs_path_into_a_closed_output_fails(home: Path) -> None:
    # catches a write into a closed stdout reported as success
    result = closed_stdout(home, "logs", "path")
    assert result.returncode == 1
    assert "the answer could not be written: standard output is closed." in result.stderr


# --- aichat completion ---


def test_completion_into_a_closed_output_fails(home: Path) -> None:
    result = closed_stdout(home, "completion", "bash")
    assert result.returncode == 1
    assert "the answer could not be written: standard output is closed." in result.stderr


# --- aichat config ---


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["set", "model"], "usage: aichat config set KEY VALUE"),
        (["unset", "model", "gpt-4"], "usage: aichat config unset KEY"),
        (["unset"], "usage: aichat config unset KEY"),
    ],
)
def test_config_set_and_unset_with_the_wrong_arguments_show_the_usage(
    home: Path, capfd: pytest.CaptureFixture[str], args: list[str], usage: str
) -> None:
    assert main(["config", *args]) == 2
    assert usage in capfd.readouterr().err
    assert not (home / ".config" / "aichat-provider" / "config.toml").exists()


def test_config_set_into_a_path_that_cannot_be_written_fails(
    home: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a regular file where the folder should be: fails for root too
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("AICHAT_CONFIG_FILE", str(blocker / "config.toml"))
    assert main(["config", "set", "model", "gpt-4"]) == 1
    err = capfd.readouterr().err
    assert f"the config file {blocker / 'config.toml'} cannot be written (Not a directory)." in err


def test_config_edit_keeps_an_existing_file_and_checks_the_editors_result(
    home: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # catches edit replacing an existing file, or not reading back what the editor wrote
    path = tmp_path / "config.toml"
    path.write_text("temperature = 0.5\n")
    monkeypatch.setenv("AICHAT_CONFIG_FILE", str(path))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", """sh -c 'echo "model = \\"gpt-edited\\"" >> "$0"'""")
    assert main(["config", "edit"]) == 0
    assert path.read_text() == 'temperature = 0.5\nmodel = "gpt-edited"\n'
    assert main(["config", "get", "model"]) == 0
    assert capfd.readouterr().out == "gpt-edited\n"


def test_config_edit_with_an_editor_that_cannot_start_says_so(
    home: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("AICHAT_CONFIG_FILE", str(path))
    monkeypatch.setenv("VISUAL", str(tmp_path / "no-such-editor"))
    assert main(["config", "edit"]) == 1
    err = capfd.readouterr().err
    assert f"the editor '{tmp_path / 'no-such-editor'}' cannot be started (No such file" in err
    assert "set $EDITOR." in err


# --- Markdown output ---


def test_markdown_onto_a_terminal_that_cannot_be_written_is_a_closed_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # stdout is the terminal opened read-only (as after `exec 1</dev/tty`): rich's write fails
    # with EBADF, which must be reported, not look like an answer shown
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    master, slave = os.openpty()
    read_only = os.open(os.ttyname(slave), os.O_RDONLY | os.O_NOCTTY)
    terminal = open(read_only, "w", encoding="utf-8")  # noqa: SIM115 - closed below, may fail
    try:
        monkeypatch.setattr(sys, "stdout", terminal)
        assert _render.wants_markdown(None)
        with pytest.raises(OutputClosedError) as caught:
            _render.print_answer("# Plan\n\n- a step\n", markdown=None)
        assert str(caught.value) == (
            "standard output cannot be written ([Errno 9] Bad file descriptor)"
        )
    finally:
        monkeypatch.undo()
        with contextlib.suppress(OSError):  # its buffer still holds what could not be written
            terminal.close()
        os.close(slave)
        os.close(master)


def test_a_search_for_bytes_that_are_not_utf8_finds_nothing_instead_of_crashing(
    home: Path,
) -> None:
    """``aichat logs -q $'\\xff'``: the shell hands over a byte that is not UTF-8 (Python sees a
    lone surrogate, which SQLite cannot take); it matches nothing logged, and says so."""
    path = log_file(home)
    path.parent.mkdir(parents=True, mode=0o700)
    record_exchange("3f9c2a", "hello there", path=path)
    result = subprocess.run(
        [*AICHAT, "logs", "-q", b"\xff".decode("utf-8", "surrogateescape")],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("nothing logged mentions ")


def test_an_answer_with_a_lone_surrogate_is_logged_with_a_replacement_character(
    tmp_path: Path,
) -> None:
    """A JSON answer may hold ``"\\udcff"``; the exchange is still logged, readable, as U+FFFD."""
    path = private_log(tmp_path)
    _logs.record(
        "3f9c2a",
        model="gpt-test",
        system="be \udcff brief",
        prompt="hi",
        answer="half of \ud83d an emoji, and a whole one \U0001f600",
        base_url="http://127.0.0.1:9",
        elapsed=0.1,
        attempts=1,
        path=path,
    )
    [exchange] = _logs.search("emoji", 5, path=path)
    assert exchange.answer == "half of \ufffd an emoji, and a whole one \U0001f600"
    assert exchange.system == "be \ufffd brief"


@pytest.mark.parametrize("args", [["doctor"], ["config", "get"], ["--help"]])
def test_every_command_into_a_reader_that_went_away_ends_without_a_traceback(
    home: Path, args: list[str]
) -> None:
    """``aichat doctor | head -1`` and the like: whatever the command prints, a reader that
    has gone is one line on stderr, never a BrokenPipeError traceback."""
    command = " ".join(shlex.quote(part) for part in [*AICHAT, *args])
    result = subprocess.run(
        ["bash", "-c", f'{command} | (exec 0<&-); echo "status=${{PIPESTATUS[0]}}" >&2'],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    status = int(result.stderr.rsplit("status=", 1)[1])
    assert status in (0, 1), result.stderr  # done before the reader left, or said why not
    if status == 1:
        assert "aichat: error: the answer could not be written" in result.stderr


def test_doctor_with_its_output_closed_says_so(home: Path) -> None:
    result = closed_stdout(home, "doctor")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "standard output" in result.stderr
