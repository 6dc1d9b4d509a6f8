"""The parts of ``aichat`` that keep state, driven into their faults: counts and ids of any size,
a log that cannot take a write, a config file that is not text or not a file."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider.cli import _logs, main
from aichat_provider.testing import StandInService
from support.cli import AICHAT, cookies_file, log_file, record_exchange, run
from support.secrets import subprocess_env

# --- aichat logs: what the user types ---


@pytest.mark.parametrize("count", [str(2**63), "9" * 30])
@pytest.mark.parametrize("search", [[], ["-q", "topic"]])
def test_a_count_beyond_any_log_lists_everything(
    home: Path, capfd: pytest.CaptureFixture[str], count: str, search: list[str]
) -> None:
    # catches OverflowError (SQLite takes 64-bit integers only) escaping as a traceback
    record_exchange("abc111111111", "topic", path=log_file(home))
    assert main(["logs", "-n", count, *search]) == 0
    captured = capfd.readouterr()
    assert captured.out.startswith("abc111111111  ")
    assert captured.err == ""


def test_a_query_longer_than_a_like_pattern_may_be_is_still_searched(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches SQLite's "LIKE or GLOB pattern too complex" (patterns over 50,000 bytes) reported
    # as a damaged log, with the advice to move the log away
    long_text = "x" * 60_000
    record_exchange("abc111111111", long_text, path=log_file(home))
    record_exchange("def222222222", "short % and _ and \\", path=log_file(home))
    assert main(["logs", "-q", long_text.upper()]) == 0
    captured = capfd.readouterr()
    assert captured.out.startswith("abc111111111  ")
    assert captured.err == ""
    assert main(["logs", "-q", long_text + "y"]) == 0
    assert capfd.readouterr().out.startswith("nothing logged mentions ")
    for wildcard in ("%", "_", "\\", "% and _"):  # matched as text, not as a pattern
        assert main(["logs", "-q", wildcard, "--json"]) == 0
        assert capfd.readouterr().out.count('"conversation_id": "def222222222"') == 1


@pytest.mark.parametrize("where", ["logs show", "--cid"])
def test_an_id_longer_than_a_like_pattern_may_be_names_no_conversation(
    home: Path, capfd: pytest.CaptureFixture[str], where: str
) -> None:
    # catches the same "pattern too complex" error blamed on the log (which is fine); --cid
    # fails before any request (nothing listens on port 9)
    record_exchange("abc111111111", "topic", path=log_file(home))
    given = "abc111111111" + "0" * 60_000
    command = (
        ["logs", "show", given]
        if where == "logs show"
        else ["--cid", given, "hi", "--base-url", "http://127.0.0.1:9"]
    )
    assert main(command) == 2
    err = capfd.readouterr().err
    assert (
        err == f"aichat: error: no conversation {given!r} in the log; 'aichat logs' lists them.\n"
    )


# --- the log cannot take the write ---

#: Files this process writes may not grow past this size (a full disk, for one process).
FILE_SIZE_LIMIT = 200_000


def _small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def test_a_log_that_cannot_grow_says_why_and_keeps_what_it_had(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    # catches the explicit ROLLBACK after SQLite had already rolled the failed COMMIT back:
    # "cannot rollback - no transaction is active" took the place of the real cause
    record_exchange("abc111111111", "kept", path=log_file(home))
    before = log_file(home).read_bytes()
    prompt = "x" * (2 * FILE_SIZE_LIMIT)
    result = subprocess.run(
        [*AICHAT, "--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))],
        input=prompt,
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
        preexec_fn=_small_disk,
    )
    assert result.returncode == 0  # the answer stands
    assert result.stdout == f"echo: {prompt}\n"
    assert result.stderr.startswith("aichat: error: the exchange was not logged: the log ")
    assert "(disk I/O error)" in result.stderr
    assert "rollback" not in result.stderr
    assert result.stderr.endswith("check its disk (is it full?), or pass --no-log\n")
    assert log_file(home).read_bytes() == before
    with sqlite3.connect(log_file(home)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_log_locked_by_another_aichat_says_to_try_again(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # catches the advice for a damaged log ("move it away to start a new one") given for a log
    # that is fine but busy: following it would set the whole history aside
    monkeypatch.setattr(_logs, "BUSY_SECONDS", 0.2)
    path = log_file(home)
    record_exchange("abc111111111", "kept", path=path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another aichat in the middle of its write
    try:
        with pytest.raises(_logs.errors.InvalidRequestError) as caught:
            record_exchange("abc111111111", "more", path=path)
    finally:
        holder.close()
    assert str(caught.value) == (
        f"the log {str(path)!r} cannot be used (database is locked); another program (another "
        "aichat?) is writing it: try again, or pass --no-log"
    )
    assert [e.prompt for e in _logs.exchanges("abc111111111", path)] == ["kept"]


@pytest.mark.parametrize(
    "damage",
    ["at = 1e300", "at = 'yesterday'", "prompt = x'ff00'", "attempts = 'many'", "elapsed = 'slow'"],
)
@pytest.mark.parametrize(
    "command",
    [["logs"], ["logs", "--json"], ["logs", "-q", "topic"], ["logs", "show", "abc1"], ["-c", "hi"]],
)
def test_a_log_row_of_the_wrong_type_is_a_damaged_log_not_a_traceback(
    home: Path, capfd: pytest.CaptureFixture[str], damage: str, command: list[str]
) -> None:
    # catches OverflowError/TypeError tracebacks from a log another program wrote into (SQLite
    # stores any type in any column); -c fails before any request (nothing listens on port 9)
    path = log_file(home)
    record_exchange("abc111111111", "topic", path=path)
    with sqlite3.connect(path) as connection:
        connection.execute(f"UPDATE exchanges SET {damage}")  # noqa: S608  # the test's own
    args = [*command, "--base-url", "http://127.0.0.1:9"] if command[0] == "-c" else command
    listing = command[-1] in ("logs", "--json")
    if listing and not damage.startswith("at "):  # the list shows no prompt, time or attempts
        assert main(args) == 0
        assert capfd.readouterr().err == ""
        return
    assert main(args) == 2
    err = capfd.readouterr().err
    which = "conversation (abc111111111: last" if listing else "exchange (1: " + damage.split()[0]
    assert err.startswith(f"aichat: error: the log {str(path)!r} holds a damaged {which} is ")
    assert err.endswith("); move it away to start a new one.\n")


def test_a_log_made_through_a_symbolic_link_is_private_too(tmp_path: Path) -> None:
    # catches SQLite creating the file a dangling link names with the umask's mode (0644): the
    # check that made the log 0600 first did not follow links
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    target = tmp_path / "synced" / "logs.db"
    target.parent.mkdir()
    (folder / "logs.db").symlink_to(target)
    old_umask = os.umask(0o022)
    try:
        record_exchange("abc111111111", "private", path=folder / "logs.db")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [e.prompt for e in _logs.exchanges("abc111111111", folder / "logs.db")] == ["private"]


@pytest.mark.parametrize("kind", ["folder", "named pipe"])
def test_a_log_that_is_not_a_file_is_a_typed_error(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    path = folder / "logs.db"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    writing = "cannot be opened (Is a directory)" if kind == "folder" else "is not a file"
    for use, why in (
        (lambda: record_exchange("abc111111111", "hi", path=path), writing),
        (lambda: _logs.conversations(5, path), f"is not a file (a {kind})"),
    ):
        with pytest.raises(_logs.errors.InvalidRequestError) as caught:
            use()
        assert str(caught.value).startswith(f"the log {str(path)!r} {why}")
        assert str(caught.value).endswith("move it away to start a new one, or pass --no-log")


# --- the config file, as someone left it ---


def config_file(home: Path) -> Path:
    return home / ".config" / "aichat-provider" / "config.toml"


def test_config_set_on_a_file_that_is_not_utf8_says_so_and_leaves_it(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches the UnicodeDecodeError traceback of 'config set' (reading it for 'ask' was typed)
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_bytes(b'model = "caf\xe9"\n')  # Latin-1, from another editor
    assert main(["config", "set", "temperature", "0.2"]) == 2
    err = capfd.readouterr().err
    assert err.startswith(f"aichat: error: the config file {str(path)!r} cannot be read (")
    assert "not UTF-8 text" in err
    assert err.endswith("; fix it with 'aichat config edit'.\n")
    assert path.read_bytes() == b'model = "caf\xe9"\n'


def test_a_folder_where_the_config_file_should_be_stops_ask_before_any_request(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = config_file(home)
    path.mkdir(parents=True)
    assert main(["hi", "--base-url", "http://127.0.0.1:9", "--no-log"]) == 2
    assert capfd.readouterr().err == (
        f"aichat: error: the config file {str(path)!r} cannot be read (Is a directory); make it "
        "a readable file, or point AICHAT_CONFIG_FILE at another one.\n"
    )


def test_a_named_pipe_where_the_config_file_should_be_stops_ask_instead_of_hanging(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    # catches every command that reads the config waiting forever for a writer that never comes
    path = config_file(home)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    base = ["--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))]
    result = run(AICHAT, "hi", *base, home=home)  # its 60 s bound ends a hang
    assert result.returncode == 2
    assert result.stderr == (
        f"aichat: error: the config file {str(path)!r} is a named pipe (FIFO) that nothing "
        "writes to; make it a file, or point AICHAT_CONFIG_FILE at one.\n"
    )
    assert service.requests == []
    assert stat.S_ISFIFO(path.lstat().st_mode)


def test_a_config_from_a_pipe_that_has_a_writer_is_read(home: Path) -> None:
    # AICHAT_CONFIG_FILE=<(command), as a shell's process substitution passes it: the writer
    # may not have written yet when aichat opens it
    read_end, write_end = os.pipe()
    with subprocess.Popen(
        [*AICHAT, "config", "get", "temperature"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**subprocess_env(home), "AICHAT_CONFIG_FILE": f"/dev/fd/{read_end}"},
        pass_fds=(read_end,),
    ) as child:
        os.close(read_end)
        # more than a pipe holds (64 KiB): read in several short reads
        with os.fdopen(write_end, "wb") as writer:
            writer.write(b"# " + b"x" * 100_000 + b"\ntemperature = 0.2\n")
        out, err = child.communicate(timeout=20)
    assert (child.returncode, out, err) == (0, "0.2\n", "")


# --- what the command line gives: bytes of another encoding ---


def run_bytes(
    home: Path, tmp_path: Path, service: StandInService, *args: bytes
) -> subprocess.CompletedProcess[str]:
    """``aichat *args`` given as bytes, as a shell passes a Latin-1 file name or word."""
    base = ["--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))]
    return subprocess.run(
        [os.fsencode(AICHAT[0]), *args, *map(os.fsencode, base)],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
        cwd=tmp_path,
    )


def test_a_file_whose_name_is_not_utf8_is_sent_under_a_readable_name(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    # catches the name's undecodable byte going into the prompt, where the provider refused it
    # as "messages[0].content has an invalid character ... half of an emoji"
    (tmp_path / os.fsdecode(b"caf\xe9.txt")).write_text("menu\n")
    result = run_bytes(home, tmp_path, service, b"-f", b"caf\xe9.txt", b"summarise")
    assert result.returncode == 0, result.stderr
    assert service.requests[0].prompt == "caf\ufffd.txt:\n```\nmenu\n```\n\nsummarise"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([b"caf\xe9"], "the prompt is not UTF-8 text"),
        ([b"-s", b"caf\xe9", b"hi"], "--system is not UTF-8 text"),
    ],
)
def test_words_that_are_not_utf8_are_refused_in_the_command_line_s_words(
    tmp_path: Path, home: Path, service: StandInService, args: list[bytes], message: str
) -> None:
    result = run_bytes(home, tmp_path, service, *args)
    assert result.returncode == 2
    assert result.stderr == (
        f"aichat: error: {message} (byte 0xe9 at offset 3); give it as UTF-8 text (is the "
        "terminal set to UTF-8?).\n"
    )
    assert service.requests == []


def test_chat_refuses_a_system_message_that_is_not_utf8_before_it_starts(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches every turn of the chat failing in the provider's words instead
    assert main(["chat", "-s", os.fsdecode(b"caf\xe9"), "--base-url", "http://127.0.0.1:9"]) == 2
    assert capfd.readouterr().err.startswith(
        "aichat: error: --system is not UTF-8 text (byte 0xe9 at offset 3); "
    )


@pytest.mark.parametrize(
    ("before", "key", "value", "after"),
    [
        (  # a multi-line string, with a line in it that looks like a key
            '# mine\nsystem = """\nBe brief.\nmodel = "x"\n"""\nmodel = "gpt-3.5-turbo"\n',
            "system",
            "Be kind.",
            '# mine\nsystem = "Be kind."\nmodel = "gpt-3.5-turbo"\n',
        ),
        (  # an array over several lines
            'browser = [\n  "firefox",\n  "chrome",\n]\ntemperature = 0.5\n',
            "browser",
            "chrome",
            'browser = ["chrome"]\ntemperature = 0.5\n',
        ),
        ('"model" = "gpt-3.5-turbo"\n', "model", "gpt-4", 'model = "gpt-4"\n'),  # quoted key
        ("'top_p' = 0.5\nlog = true\n", "top_p", None, "log = true\n"),  # unset, literal quotes
    ],
)
def test_config_set_changes_a_hand_written_value_of_any_shape(
    home: Path,
    capfd: pytest.CaptureFixture[str],
    before: str,
    key: str,
    value: str | None,
    after: str,
) -> None:
    # catches the line-based edit leaving the rest of a multi-line value (or the quoted key)
    # behind, then refusing with "the config file ... is not valid TOML": a file that was valid
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text(before)
    command = ["config", "set", key, value] if value is not None else ["config", "unset", key]
    assert main(command) == 0, capfd.readouterr().err
    assert path.read_text() == after


def test_config_set_on_a_key_it_cannot_find_says_to_edit_the_file(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text("model.name = 1\n")  # a dotted key: a table, where a string belongs
    assert main(["config", "set", "model", "gpt-4"]) == 2
    assert capfd.readouterr().err == (
        f"aichat: error: 'aichat config' cannot tell where the config file {str(path)!r} sets "
        "model; change it with 'aichat config edit'.\n"
    )
    assert path.read_text() == "model.name = 1\n"


def test_config_set_writes_through_a_symbolic_link_and_keeps_it(
    tmp_path: Path, home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches the link (a dotfiles manager's) being replaced by a file of its own: the dotfiles
    # copy then silently stopped getting the changes
    dotfiles = tmp_path / "dotfiles" / "aichat.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text('# shared\nmodel = "gpt-3.5-turbo"\n')
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.symlink_to(dotfiles)
    assert main(["config", "set", "temperature", "0.2"]) == 0, capfd.readouterr().err
    assert path.is_symlink()
    assert dotfiles.read_text() == '# shared\nmodel = "gpt-3.5-turbo"\ntemperature = 0.2\n'
    assert stat.S_IMODE(dotfiles.stat().st_mode) == 0o600
    assert sorted(p.name for p in dotfiles.parent.iterdir()) == ["aichat.toml"]


def test_a_left_over_temporary_file_cannot_make_the_config_readable_by_others(
    tmp_path: Path, home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches the fixed temporary name: a left-over one (an interrupted run, or another user's
    # in a shared folder) kept its mode 0644, or a link there sent the proxy's password elsewhere
    path = config_file(home)
    path.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not yours\n")
    (path.parent / ".config.toml.saving").symlink_to(elsewhere)
    assert main(["config", "set", "proxy", "http://user:pw-9d1c@127.0.0.1:3128"]) == 0
    assert capfd.readouterr().err == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "pw-9d1c" in path.read_text()
    assert elsewhere.read_text() == "not yours\n"
    left_over = path.parent / ".config.toml.saving"
    left_over.unlink()
    left_over.write_text("stale\n")
    left_over.chmod(0o644)
    assert main(["config", "set", "proxy", "http://user:pw-9d1c@127.0.0.1:3129"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [".config.toml.saving", "config.toml"]


def test_an_impersonate_target_curl_does_not_know_is_named_apart_from_its_flag(
    tmp_path: Path, home: Path, capfd: pytest.CaptureFixture[str], service: StandInService
) -> None:
    # catches "--impersonate'chrome1'": the library's "impersonate='chrome1'" lost its '='
    # and gained no space
    base = ["--base-url", service.base_url, "--cookies-file", str(cookies_file(tmp_path))]
    assert main(["hi", "--impersonate", "chrome1", "--no-log", *base]) == 2
    assert capfd.readouterr().err == (
        "aichat: error: --impersonate 'chrome1' is not a browser target this curl_cffi knows; "
        "use 'chrome' or a versioned target such as 'chrome131'.\n"
    )
    assert service.requests == []


def test_config_set_refuses_a_value_that_is_not_utf8(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches a UnicodeEncodeError traceback while writing the file (TOML checks a str, which
    # holds the byte as a lone surrogate)
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text("log = true\n")
    assert main(["config", "set", "system", os.fsdecode(b"caf\xe9")]) == 2
    assert capfd.readouterr().err == (
        "aichat: error: system is not UTF-8 text (byte 0xe9 at offset 3); give it as UTF-8 text "
        "(is the terminal set to UTF-8?).\n"
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]
    assert path.read_text() == "log = true\n"


def test_config_edit_with_an_editor_setting_the_shell_could_not_run_says_so(
    tmp_path: Path,
    home: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # catches shlex's ValueError traceback
    monkeypatch.setenv("VISUAL", 'vi "')
    assert main(["config", "edit"]) == 1
    assert capfd.readouterr().err == (
        "aichat: error: the editor 'vi \"' cannot be started (No closing quotation); set $EDITOR.\n"
    )
    # a blank $VISUAL is not set: it ran the config file itself as the editor
    monkeypatch.setenv("VISUAL", "  ")
    monkeypatch.setenv("EDITOR", str(tmp_path / "no-such-editor"))
    assert main(["config", "edit"]) == 1
    assert f"the editor '{tmp_path / 'no-such-editor'}' cannot be started (No such file" in (
        capfd.readouterr().err
    )


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``path`` made immutable (chattr +i): not even root can write it, as a read-only disk."""
    if shutil.which("chattr") is None:
        pytest.skip("needs chattr")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i needs root and ext4-like file systems: {made.stderr!r}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_log_that_cannot_be_written_says_to_make_it_writable(tmp_path: Path, what: str) -> None:
    # catches the advice for a damaged log given for one that is only read-only
    path = tmp_path / "data" / "logs.db"
    path.parent.mkdir(mode=0o700)
    record_exchange("abc111111111", "kept", path=path)
    with (
        immutable(path if what == "file" else path.parent),
        pytest.raises(_logs.errors.InvalidRequestError) as caught,
    ):
        record_exchange("abc111111111", "more", path=path)
    message = str(caught.value)
    assert message.startswith(f"the log {str(path)!r} cannot be used (")
    assert message.endswith("; make it and its folder writable, or pass --no-log")
    assert [e.prompt for e in _logs.exchanges("abc111111111", path)] == ["kept"]


def test_config_set_on_a_full_disk_leaves_the_file_and_no_temporary_behind(home: Path) -> None:
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text("log = true\n")

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    result = subprocess.run(
        [*AICHAT, "config", "set", "system", "x" * 5000],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
        preexec_fn=small_disk,
    )
    assert result.returncode == 1
    # Under CI's coverage the child's own data file meets the same limit as it exits: what
    # coverage then prints is not aichat's.
    ours = result.stderr.partition("Exception ignored in atexit callback: <bound method Coverage")
    assert ours[0] == f"aichat: error: the config file {path} cannot be written (File too large).\n"
    assert path.read_text() == "log = true\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


@pytest.mark.parametrize("command", [["hi"], ["config", "get"], ["config", "set", "log", "true"]])
def test_a_config_file_without_end_is_refused_instead_of_filling_memory(
    home: Path, command: list[str]
) -> None:
    # catches reading /dev/zero (or a multi-gigabyte file named by mistake) whole: memory ran
    # out (bounded here, so that a regression fails instead of stalling the machine)
    def bounded_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    result = subprocess.run(
        [*AICHAT, *command] + (["--base-url", "http://127.0.0.1:9"] if command == ["hi"] else []),
        capture_output=True,
        text=True,
        env={**subprocess_env(home), "AICHAT_CONFIG_FILE": "/dev/zero"},
        timeout=60,
        preexec_fn=bounded_memory,
    )
    assert result.returncode == 2, result.stderr[-300:]
    assert result.stderr == (
        "aichat: error: the config file '/dev/zero' is larger than 1 MiB; is it the right file? "
        "Point AICHAT_CONFIG_FILE at the config file.\n"
    )


def test_json_names_no_conversation_when_the_exchange_could_not_be_logged(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    # catches --json handing a script an id that names nothing: the exchange was printed
    # first, with its conversation id, and the log write failed after
    log_file(home).mkdir(parents=True)  # a folder where the log should be
    env = {**subprocess_env(home), "AICHAT_COOKIES_FILE": str(cookies_file(tmp_path))}
    result = run(AICHAT, "--json", "hi", "--base-url", service.base_url, home=home, env=env)
    assert result.returncode == 0
    assert json.loads(result.stdout)["conversation_id"] is None
    assert result.stderr.startswith("aichat: error: the exchange was not logged: the log ")


def test_a_config_saved_with_a_byte_order_mark_is_read(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # catches Notepad's UTF-8 signature (invisible in the editor) refused as "not valid TOML
    # (Invalid statement (at line 1, column 1))"
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbftemperature = 0.2\r\n")
    assert main(["config", "get", "temperature"]) == 0
    assert capfd.readouterr() == ("0.2\n", "")
    assert main(["config", "set", "log", "false"]) == 0
    assert path.read_bytes() == b"temperature = 0.2\r\nlog = false\n"
