"""The log of every exchange: a SQLite file in the user's data directory.

One row per question and answer, grouped into conversations (``aichat -c`` goes on with the
latest, ``--cid ID`` with any). It holds the prompt, the system message, the answer, the model,
the service's address (without any user:password) and timings: never a cookie, an API key, a
header or a proxy. The file is mode 0600 in a folder checked to be the user's own
(:func:`~aichat_provider.cookies._store.private_folder`). Its schema carries a version in
SQLite's ``user_version``; opening an older file runs the migrations up to this one.

Everything here blocks: the commands call it before or after their event loop runs, never in it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from .. import errors
from .._messages import repair_text
from .._redact import redact_url
from ..cookies._store import data_dir, private_folder

FILE_NAME = "logs.db"
#: Each entry takes the file from version ``i`` to ``i + 1``; the schema's version is their count.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            started REAL NOT NULL,
            title TEXT NOT NULL
        )""",
        """CREATE TABLE exchanges (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id),
            at REAL NOT NULL,
            model TEXT NOT NULL,
            system TEXT,
            prompt TEXT NOT NULL,
            answer TEXT NOT NULL,
            base_url TEXT NOT NULL,
            elapsed REAL NOT NULL,
            attempts INTEGER NOT NULL
        )""",
        "CREATE INDEX exchanges_by_conversation ON exchanges (conversation_id, id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
TITLE_CHARS = 60
#: How long a write waits for another process's write to the log to end.
BUSY_SECONDS = 10.0
#: The largest LIMIT SQLite takes (a 64-bit integer); any count beyond it means "all".
_MAX_COUNT = 2**63 - 1


def log_path() -> Path:
    return data_dir() / FILE_NAME


@dataclass(frozen=True)
class Exchange:
    """One question and its answer."""

    id: int
    conversation_id: str
    at: float
    model: str
    system: str | None
    prompt: str
    answer: str
    base_url: str
    elapsed: float
    attempts: int

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": _iso(self.at)}


@dataclass(frozen=True)
class Conversation:
    id: str
    started: float
    title: str
    exchanges: int
    model: str
    last: float

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "started": _iso(self.started), "last": _iso(self.last)}


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


_DAMAGED = "move it away to start a new one"
_Row = TypeVar("_Row", Exchange, Conversation)
#: What each column must hold; SQLite stores any type in any column, so a log another program
#: wrote into may hold text where a time belongs, or bytes where text does.
_TYPES: dict[str, tuple[type, ...]] = {
    "id": (int, str),
    "conversation_id": (str,),
    "at": (int, float),
    "started": (int, float),
    "last": (int, float),
    "model": (str,),
    "system": (str, type(None)),
    "prompt": (str,),
    "answer": (str,),
    "title": (str,),
    "base_url": (str,),
    "elapsed": (int, float),
    "attempts": (int,),
    "exchanges": (int,),
}


def _checked(kind: type[_Row], row: sqlite3.Row, path: Path | None) -> _Row:
    """The row as ``kind``, or InvalidRequestError if a value is not of its column's type (or
    is a time no calendar can show)."""
    values = dict(row)
    for name, value in values.items():
        wrong = not isinstance(value, _TYPES[name])
        if not wrong and name in ("at", "started", "last"):
            try:
                _iso(value)
            except (OverflowError, OSError, ValueError):
                wrong = True
        if wrong:
            what = "exchange" if kind is Exchange else "conversation"
            raise errors.InvalidRequestError(
                f"the log {str(path or log_path())!r} holds a damaged {what} "
                f"({values.get('id')}: {name} is {type(value).__name__} {str(value)[:40]!r}); "
                f"{_DAMAGED}."
            )
    return kind(**values)


#: The next step for an SQLite error, by the start of its code's name: a log that is busy or on a
#: full disk is fine, and setting it aside would only hide the history.
_NEXT_STEPS = (
    ("SQLITE_BUSY", "another program (another aichat?) is writing it: try again"),
    ("SQLITE_LOCKED", "another program (another aichat?) is writing it: try again"),
    ("SQLITE_FULL", "free some space on its disk"),
    ("SQLITE_IOERR", "check its disk (is it full?)"),
    ("SQLITE_READONLY", "make it and its folder writable"),
    ("SQLITE_CANTOPEN", "make it and its folder writable"),
)
#: Python 3.10's errors carry no code name: their messages name the common ones.
_CODE_NAMES = {
    "database is locked": "SQLITE_BUSY",
    "database table is locked": "SQLITE_LOCKED",
    "database or disk is full": "SQLITE_FULL",
    "disk I/O error": "SQLITE_IOERR",
    "attempt to write a readonly database": "SQLITE_READONLY",
    "unable to open database file": "SQLITE_CANTOPEN",
}


def _log_error(path: Path, what: str, next_step: str = _DAMAGED) -> errors.InvalidRequestError:
    return errors.InvalidRequestError(
        f"the log {str(path)!r} {what}; {next_step}, or pass --no-log"
    )


def _database_error(
    path: Path, exc: sqlite3.Error, what: str = "cannot be used"
) -> errors.InvalidRequestError:
    name = getattr(exc, "sqlite_errorname", None) or _CODE_NAMES.get(str(exc), "")
    step = next((step for code, step in _NEXT_STEPS if name.startswith(code)), _DAMAGED)
    return _log_error(path, f"{what} ({exc})", step)


@contextlib.contextmanager
def opened(path: Path | None = None, *, create: bool = True) -> Iterator[sqlite3.Connection | None]:
    """The log, migrated to this version (None if it does not exist and ``create`` is False)."""
    path = path or log_path()
    if not private_folder(path.parent, create=create):
        yield None
        return
    if not create and not path.exists():
        yield None
        return
    _check_file(path, create=create)
    try:
        connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as exc:
        raise _database_error(path, exc, "cannot be opened") from None
    try:
        connection.row_factory = sqlite3.Row
        _migrate(connection, path)
        yield connection
    except sqlite3.DatabaseError as exc:
        raise _database_error(path, exc) from None
    finally:
        connection.close()


def _check_file(path: Path, *, create: bool) -> None:
    """InvalidRequestError unless the log is a file; with ``create``, made 0600 before SQLite
    writes a byte (the journal copies its mode) if it does not exist, following a symbolic link
    to where it is (SQLite would follow it too, and make the file with the umask's mode)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_CREAT if create else 0
    try:
        descriptor = os.open(path, flags, 0o600)
        try:
            mode = os.fstat(descriptor).st_mode
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise _log_error(path, f"cannot be opened ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(mode)
            else "a named pipe"
            if stat.S_ISFIFO(mode)
            else "a device or socket"
        )
        raise _log_error(path, f"is not a file ({kind})")


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise _log_error(path, f"was written by a newer aichat (schema {version}); upgrade aichat")
    connection.execute("BEGIN IMMEDIATE")
    try:
        # read again under the lock: another process may have migrated it meanwhile
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        connection.execute("COMMIT")
    except BaseException:
        _roll_back(connection)
        raise


def _roll_back(connection: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already: after a failed write (a full disk,
    an I/O error) it rolls back itself, and a second ROLLBACK's error would hide the cause."""
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


def new_conversation_id() -> str:
    return secrets.token_hex(6)


def record(
    conversation_id: str,
    *,
    model: str,
    system: str | None,
    prompt: str,
    answer: str,
    base_url: str,
    elapsed: float,
    attempts: int,
    path: Path | None = None,
) -> None:
    """Add one exchange (and its conversation, the first time). Lone surrogates (an answer's
    JSON may hold one) are stored as U+FFFD: SQLite takes only well-formed UTF-8."""
    system = None if system is None else repair_text(system)
    prompt, answer = repair_text(prompt), repair_text(answer)
    now = time.time()
    with opened(path) as connection:
        assert connection is not None
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                "INSERT OR IGNORE INTO conversations (id, started, title) VALUES (?, ?, ?)",
                (conversation_id, now, _title(prompt)),
            )
            connection.execute(
                "INSERT INTO exchanges (conversation_id, at, model, system, prompt, answer, "
                "base_url, elapsed, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    now,
                    model,
                    system,
                    prompt,
                    answer,
                    redact_url(base_url),
                    elapsed,
                    attempts,
                ),
            )
            connection.execute("COMMIT")
        except BaseException:
            _roll_back(connection)
            raise


def _title(prompt: str) -> str:
    words = " ".join(prompt.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 3] + "..."


_CONVERSATIONS = """
    SELECT c.id, c.started, c.title, COUNT(e.id) AS exchanges,
           (SELECT model FROM exchanges WHERE conversation_id = c.id ORDER BY id DESC LIMIT 1)
               AS model,
           MAX(e.at) AS last
    FROM conversations c JOIN exchanges e ON e.conversation_id = c.id
"""


def conversations(count: int, path: Path | None = None) -> list[Conversation]:
    """The ``count`` conversations most recently added to, the latest last."""
    with opened(path, create=False) as connection:
        if connection is None:
            return []
        rows = connection.execute(
            _CONVERSATIONS + " GROUP BY c.id ORDER BY MAX(e.id) DESC LIMIT ?",
            (min(count, _MAX_COUNT),),
        ).fetchall()
    return [_checked(Conversation, row, path) for row in reversed(rows)]


def search(text: str, count: int, path: Path | None = None) -> list[Exchange]:
    """The ``count`` latest exchanges whose prompt, system message or answer holds ``text``
    (case-insensitive for ASCII), the latest last. Text with a lone surrogate (bytes that are
    not UTF-8, from the command line) matches nothing: the log holds only well-formed text."""
    if repair_text(text) != text:
        return []
    # instr, not LIKE: no wildcard to escape, and no limit on the pattern's length (LIKE takes
    # 50,000 bytes); SQLite's lower() folds ASCII only, as LIKE does
    with opened(path, create=False) as connection:
        if connection is None:
            return []
        rows = connection.execute(
            "SELECT * FROM exchanges WHERE instr(lower(prompt), lower(?1)) "
            "OR instr(lower(answer), lower(?1)) OR instr(lower(system), lower(?1)) "
            "ORDER BY id DESC LIMIT ?2",
            (text, min(count, _MAX_COUNT)),
        ).fetchall()
    return [_checked(Exchange, row, path) for row in reversed(rows)]


def latest_conversation_id(path: Path | None = None) -> str | None:
    with opened(path, create=False) as connection:
        if connection is None:
            return None
        row = connection.execute(
            "SELECT conversation_id FROM exchanges ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return None if row is None else str(row[0])


def find_conversation(given: str, path: Path | None = None) -> str:
    """The conversation ``given`` names (its id, or the start of exactly one id)."""
    if not given or not all(c in "0123456789abcdef" for c in given.lower()):
        raise errors.InvalidRequestError(
            f"{given!r} is not a conversation id; 'aichat logs' lists them."
        )
    with opened(path, create=False) as connection:
        ids = (
            []
            if connection is None
            else [
                str(row[0])
                for row in connection.execute(
                    "SELECT id FROM conversations WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
                    (given.lower(),),
                )
            ]
        )
    if not ids:
        raise errors.InvalidRequestError(
            f"no conversation {given!r} in the log; 'aichat logs' lists them."
        )
    if len(ids) > 1:
        raise errors.InvalidRequestError(
            f"more than one conversation starts with {given!r}; give more of its id."
        )
    return ids[0]


def exchanges(conversation_id: str, path: Path | None = None) -> list[Exchange]:
    """A conversation's exchanges, in order."""
    with opened(path, create=False) as connection:
        if connection is None:
            return []
        rows = connection.execute(
            "SELECT * FROM exchanges WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
    return [_checked(Exchange, row, path) for row in rows]


def history(exchanges: Sequence[Exchange]) -> list[dict[str, str]]:
    """The exchanges as the messages that continue them."""
    messages: list[dict[str, str]] = []
    for exchange in exchanges:
        messages += [
            {"role": "user", "content": exchange.prompt},
            {"role": "assistant", "content": exchange.answer},
        ]
    return messages
