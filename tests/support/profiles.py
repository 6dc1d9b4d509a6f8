"""Real browser cookie databases, built the way Firefox and Chrome on Linux write them."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from Cryptodome.Cipher import AES
from Cryptodome.Protocol.KDF import PBKDF2
from Cryptodome.Util.Padding import pad

#: Seconds between 1601-01-01 (Chrome's epoch) and 1970-01-01.
_NT_EPOCH_OFFSET = 11644473600


@dataclass(frozen=True)
class Cookie:
    host: str
    name: str
    value: str
    expires: float | None = None  # seconds since 1970; None: a year from now
    path: str = "/"
    secure: bool = False


def _expiry(cookie: Cookie) -> float:
    return cookie.expires if cookie.expires is not None else time.time() + 365 * 86400


def build_firefox_profile(home: Path, cookies: list[Cookie]) -> Path:
    """``~/.mozilla/firefox/<profile>/cookies.sqlite`` with a profiles.ini naming it."""
    root = home / ".mozilla" / "firefox"
    profile = root / "t3st.default-release"
    profile.mkdir(parents=True, exist_ok=True)
    (root / "profiles.ini").write_text(
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=t3st.default-release\nDefault=1\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n"
    )
    database = profile / "cookies.sqlite"
    with sqlite3.connect(database) as con:
        con.execute(
            "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL "
            "DEFAULT '', name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, "
            "lastAccessed INTEGER, creationTime INTEGER, isSecure INTEGER, isHttpOnly INTEGER, "
            "inBrowserElement INTEGER DEFAULT 0, sameSite INTEGER DEFAULT 0, "
            "rawSameSite INTEGER DEFAULT 0, schemeMap INTEGER DEFAULT 0)"
        )
        now_us = int(time.time() * 1_000_000)
        con.executemany(
            "INSERT INTO moz_cookies (name, value, host, path, expiry, lastAccessed, "
            "creationTime, isSecure, isHttpOnly) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            [
                (c.name, c.value, c.host, c.path, int(_expiry(c)), now_us, now_us, int(c.secure))
                for c in cookies
            ],
        )
    con.close()
    return database


def chrome_encrypt(
    value: str, host: str, *, host_hash: bool, keyring_password: bytes | None = None
) -> bytes:
    """Chrome's Linux encryption: AES-128-CBC with a key derived from "peanuts" (``v10``, the
    basic password store) or from the password in the desktop keyring (``v11``)."""
    key = PBKDF2(keyring_password or b"peanuts", b"saltysalt", 16, 1)
    plain = value.encode()
    if host_hash:  # database version >= 24 prefixes the SHA-256 of the host key
        plain = hashlib.sha256(host.encode()).digest() + plain
    prefix = b"v11" if keyring_password else b"v10"
    return prefix + AES.new(key, AES.MODE_CBC, b" " * 16).encrypt(pad(plain, 16))


def build_chrome_profile(
    home: Path,
    cookies: list[Cookie],
    *,
    version: int = 24,
    keyring_password: bytes | None = None,
    folder: str = ".config/google-chrome",
) -> Path:
    """``~/.config/google-chrome/Default/Cookies`` with encrypted values (``v11`` when a keyring
    password is given, else ``v10``)."""
    profile = home / folder / "Default"
    profile.mkdir(parents=True, exist_ok=True)
    database = profile / "Cookies"
    with sqlite3.connect(database) as con:
        con.execute(
            "CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)"
        )
        con.execute("INSERT INTO meta VALUES ('version', ?)", (str(version),))
        con.execute(
            "CREATE TABLE cookies(creation_utc INTEGER NOT NULL, host_key TEXT NOT NULL, "
            "top_frame_site_key TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, "
            "encrypted_value BLOB NOT NULL, path TEXT NOT NULL, expires_utc INTEGER NOT NULL, "
            "is_secure INTEGER NOT NULL, is_httponly INTEGER NOT NULL, last_access_utc INTEGER "
            "NOT NULL, has_expires INTEGER NOT NULL, is_persistent INTEGER NOT NULL, priority "
            "INTEGER NOT NULL, samesite INTEGER NOT NULL, source_scheme INTEGER NOT NULL, "
            "source_port INTEGER NOT NULL, last_update_utc INTEGER NOT NULL)"
        )
        now = int((time.time() + _NT_EPOCH_OFFSET) * 1_000_000)
        rows = []
        for c in cookies:
            expires = int((_expiry(c) + _NT_EPOCH_OFFSET) * 1_000_000)
            encrypted = chrome_encrypt(
                c.value, c.host, host_hash=version >= 24, keyring_password=keyring_password
            )
            rows.append(
                (
                    now,
                    c.host,
                    "",
                    c.name,
                    "",
                    encrypted,
                    c.path,
                    expires,
                    int(c.secure),
                    1,
                    now,
                    1,
                    1,
                    1,
                    0,
                    2,
                    443,
                    now,
                )
            )
        placeholders = ", ".join("?" * 18)  # 18 columns, no data in the SQL text
        con.executemany(f"INSERT INTO cookies VALUES ({placeholders})", rows)  # noqa: S608
    con.close()
    return database
