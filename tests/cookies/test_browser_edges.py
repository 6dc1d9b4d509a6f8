"""Browser profiles in the states real machines leave them: text browsers' cookie files,
damaged databases, profile folders without cookies yet, session-restore files, odd values."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import lz4.block  # type: ignore[import-untyped]  # installed with browser_cookie3
import pytest

from aichat_provider import Aichat, errors
from aichat_provider.cookies._sources import browser_cookie_cache
from aichat_provider.testing import StandInService
from support.profiles import Cookie, build_firefox_profile
from support.secrets import USER


def local(service: StandInService) -> str:
    return f"http://localhost:{service.port}"


async def missing(service: StandInService, browser: str) -> errors.MissingCookiesError:
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async("", USER, browser=browser, base_url=local(service))
    return caught.value


async def test_lynx_cookies(home: Path, local_service: StandInService) -> None:
    later = int(time.time()) + 3600
    (home / ".lynx_cookies").write_text(
        f"localhost\tFALSE\t/\tFALSE\t{later}\tsession\tfrom-lynx\n"
        f"localhost\tFALSE\t/\tFALSE\t1000\told\texpired\n"
    )
    await Aichat.create_async("", USER, browser="lynx", base_url=local(local_service))
    assert local_service.requests[0].cookies == {"session": "from-lynx"}


async def test_w3m_cookies(home: Path, local_service: StandInService) -> None:
    later = int(time.time()) + 3600
    (home / ".w3m").mkdir()
    (home / ".w3m/cookie").write_text(
        f"http://localhost/\tsession\tfrom-w3m\t{later}\tlocalhost\t/\t1\t0\t\t\t\n"
    )
    await Aichat.create_async("", USER, browser="w3m", base_url=local(local_service))
    assert local_service.requests[0].cookies == {"session": "from-w3m"}


async def test_a_text_browser_with_only_other_hosts_cookies(
    home: Path, local_service: StandInService
) -> None:
    (home / ".lynx_cookies").write_text("example.com\tFALSE\t/\tFALSE\t0\ts\tv\n")
    error = await missing(local_service, "lynx")
    assert error.reasons["lynx"] == "no cookies for localhost"


async def test_a_damaged_firefox_database(home: Path, local_service: StandInService) -> None:
    database = build_firefox_profile(home, [Cookie("localhost", "session", "x")])
    database.write_bytes(b"this is not an SQLite database" * 100)
    error = await missing(local_service, "firefox")
    assert "damaged or not a cookie database" in error.reasons["firefox"]


async def test_profiles_listed_without_a_cookie_database_yet(
    home: Path, local_service: StandInService
) -> None:
    root = home / ".mozilla/firefox"
    (root / "abc.default").mkdir(parents=True)
    (root / "profiles.ini").write_text("[Profile0]\nName=default\nIsRelative=1\nPath=abc.default\n")
    error = await missing(local_service, "firefox")
    assert "lists default, but none of them has a cookie database yet" in error.reasons["firefox"]


async def test_a_chromium_folder_with_no_profile_yet(
    home: Path, local_service: StandInService
) -> None:
    (home / ".config/chromium").mkdir(parents=True)
    error = await missing(local_service, "chromium")
    assert "holds no profile with a cookie database yet" in error.reasons["chromium"]


async def test_a_browser_cookie_that_cannot_be_sent(
    home: Path, local_service: StandInService
) -> None:
    build_firefox_profile(home, [Cookie("localhost", "session", "line\nbreak")])
    error = await missing(local_service, "firefox")
    assert "cannot be sent" in error.reasons["firefox"]
    assert "line" not in str(error)


def _recovery_file(cookies: list[dict[str, object]]) -> bytes:
    return b"mozLz40\0" + lz4.block.compress(json.dumps({"cookies": cookies}).encode())


async def test_firefox_session_cookies_come_from_its_session_restore_file(
    home: Path, local_service: StandInService, capsys: pytest.CaptureFixture[str]
) -> None:
    database = build_firefox_profile(home, [Cookie("localhost", "stored", "s")])
    backups = database.parent / "sessionstore-backups"
    backups.mkdir()
    (backups / "recovery.jsonlz4").write_bytes(
        _recovery_file([{"host": "localhost", "path": "/", "name": "live", "value": "l"}])
    )
    (database.parent / "sessionstore.js").write_text("{damaged")  # left out, not printed
    await Aichat.create_async("", USER, browser="firefox", base_url=local(local_service))
    assert local_service.requests[0].cookies == {"stored": "s", "live": "l"}
    assert capsys.readouterr().out == ""  # browser_cookie3 prints parse errors: none reached it


async def test_a_damaged_session_restore_file_is_left_out_quietly(
    home: Path, local_service: StandInService, capsys: pytest.CaptureFixture[str]
) -> None:
    database = build_firefox_profile(home, [Cookie("localhost", "stored", "s")])
    backups = database.parent / "sessionstore-backups"
    backups.mkdir()
    (backups / "recovery.jsonlz4").write_bytes(b"mozLz40\0garbage")
    await Aichat.create_async("", USER, browser="firefox", base_url=local(local_service))
    assert local_service.requests[0].cookies == {"stored": "s"}
    assert capsys.readouterr().out == ""


async def test_a_firefox_profile_with_the_write_ahead_log_only(
    home: Path, local_service: StandInService
) -> None:
    """Built the way Firefox leaves it while running: the newest rows in cookies.sqlite-wal."""
    database = build_firefox_profile(home, [])
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute(
        "INSERT INTO moz_cookies (name, value, host, path, expiry, lastAccessed, creationTime, "
        "isSecure, isHttpOnly) VALUES ('fresh', 'in-the-log', 'localhost', '/', ?, 0, 0, 0, 0)",
        (int(time.time() + 3600) * 1000,),
    )
    writer.commit()
    assert (database.parent / "cookies.sqlite-wal").stat().st_size > 0
    try:
        await Aichat.create_async("", USER, browser="firefox", base_url=local(local_service))
    finally:
        writer.close()
    assert local_service.requests[0].cookies == {"fresh": "in-the-log"}


async def test_a_profile_folder_that_is_a_symlink_loop_is_passed_over(
    home: Path, local_service: StandInService
) -> None:
    """profiles.ini names a profile whose folder is a symbolic link to itself (or a path with a
    NUL byte): the call ended in a raw ``RuntimeError: Symlink loop`` (``ValueError: embedded
    null byte``) traceback instead of reading the other profiles."""
    build_firefox_profile(home, [Cookie("localhost", "session", "from-the-good-profile")])
    root = home / ".mozilla" / "firefox"
    (root / "loop").symlink_to("loop")
    (root / "profiles.ini").write_text(
        "[Profile1]\nName=broken\nIsRelative=1\nPath=loop\nDefault=1\n\n"
        "[Profile2]\nName=damaged\nIsRelative=1\nPath=nul\x00byte\n\n"
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=t3st.default-release\n"
    )
    await Aichat.create_async("", USER, browser="firefox", base_url=local(local_service))
    assert local_service.requests[0].cookies == {"session": "from-the-good-profile"}
    (root / "t3st.default-release" / "cookies.sqlite").unlink()
    browser_cookie_cache.clear()  # the read above is reused for a minute otherwise
    error = await missing(local_service, "firefox")
    assert "broken, damaged, default-release" in error.reasons["firefox"]
