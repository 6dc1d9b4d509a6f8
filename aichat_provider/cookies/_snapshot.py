"""A private, consistent copy of a browser's cookie database, taken without disturbing it.

A running Firefox keeps its latest cookies in ``cookies.sqlite-wal`` for a while, and
browser_cookie3 copies only the main file. Here the database is copied *with* its write-ahead
log into a private temporary folder, and the log is checkpointed into the copy, so the copy
holds what the browser holds on disk, whatever mode the reader opens it in. The browser's own
files are only ever read. Firefox's session-restore files (which hold session cookies) come
along when they can be parsed, so browser_cookie3 never has to print a parse error.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._profiles import Profile

_SESSION_FILES = ("sessionstore.js", "sessionstore-backups/recovery.jsonlz4")


@contextlib.contextmanager
def snapshot(profile: Profile) -> Iterator[Path]:
    """Yield the path of a private copy of ``profile``'s cookie database (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="aichat-cookies-") as folder:
        copy = Path(folder) / profile.cookie_file.name
        shutil.copyfile(profile.cookie_file, copy)
        wal = profile.cookie_file.with_name(profile.cookie_file.name + "-wal")
        with contextlib.suppress(FileNotFoundError):
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        _checkpoint(copy)
        for name in _SESSION_FILES:
            _copy_session_file(profile.path / name, Path(folder) / name)
        yield copy


def _checkpoint(database: Path) -> None:
    """Fold a copied write-ahead log into the copy (a no-op without one). Without the browser's
    ``-shm`` file, SQLite rebuilds the log's index from the log itself."""
    with (
        contextlib.closing(sqlite3.connect(database)) as connection,
        contextlib.suppress(sqlite3.DatabaseError),  # not a database: the reader will say so
    ):
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")


def _copy_session_file(source: Path, target: Path) -> None:
    try:
        data = source.read_bytes()
    except OSError:
        return
    if not _parses(source.name, data):
        return  # browser_cookie3 would print the parse error on standard output
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _parses(name: str, data: bytes) -> bool:
    try:
        if name.endswith("lz4"):
            import lz4.block  # type: ignore[import-untyped]  # installed with browser_cookie3

            json.loads(lz4.block.decompress(data[8:]))
        else:
            json.loads(data)
    except Exception:  # any damage: leave the file out
        return False
    return True
