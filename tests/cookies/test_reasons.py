"""The words a person reads when a browser gives no cookies, from the exceptions browser_cookie3
and the system really raise."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import browser_cookie3  # type: ignore[import-untyped]
import pytest

from aichat_provider import errors, get_cookies
from aichat_provider.cookies._browsers import (
    NOT_INSTALLED,
    _keyring_failed,
    describe_browser_failure,
    describe_keyring_failure,
    load_browser_cookies,
)


@pytest.mark.parametrize(
    ("exception", "phrase"),
    [
        (PermissionError(13, "Permission denied"), "holds its cookie database"),
        (sqlite3.OperationalError("database is locked"), "busy (locked by the browser)"),
        (sqlite3.DatabaseError("file is not a database"), "damaged or not a cookie database"),
        (OSError(28, "No space left on device"), "cannot be copied (No space left on device)"),
        (
            browser_cookie3.BrowserCookieError("Could not find Firefox profile directory"),
            NOT_INSTALLED,
        ),
        (
            browser_cookie3.BrowserCookieError("Unable to get key for cookie decryption"),
            "cannot be decrypted",
        ),
        (browser_cookie3.BrowserCookieError("something new"), "something new"),
        (TypeError("expected str, bytes or os.PathLike object, not NoneType"), "(TypeError)"),
    ],
)
def test_a_failed_read_says_what_to_do(exception: BaseException, phrase: str) -> None:
    reason = describe_browser_failure(exception)
    assert phrase in reason
    assert "NoneType" not in reason  # the exception's own text is never shown (it may quote bytes)


@pytest.mark.parametrize(
    ("exception", "asked", "phrase"),
    [
        (KeyError("DBUS_SESSION_BUS_ADDRESS"), True, "no D-Bus session"),
        (KeyError("/org/freedesktop/secrets/collection/login/1"), True, "it is locked"),
        (FileNotFoundError(2, "No such file"), True, "is gone"),
        (ConnectionRefusedError(111, "refused"), True, "is gone"),
        (TimeoutError(), True, "did not answer over D-Bus in time"),
        (ValueError("no"), False, "could not be asked (ValueError)"),
    ],
)
def test_why_the_keyring_could_not_be_asked(
    exception: BaseException, asked: bool, phrase: str
) -> None:
    assert _keyring_failed(exception) is asked
    assert phrase in describe_keyring_failure(exception)


def test_a_browser_with_no_version_for_this_system_is_not_read() -> None:
    found = load_browser_cookies("http://127.0.0.1/api/text", ["arc", "safari", "opera_gx"])
    name = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}.get(sys.platform, "")
    if sys.platform.startswith("linux"):
        assert found.reasons == {
            "arc": f"has no {name} version",
            "safari": f"has no {name} version",
            "opera_gx": f"has no {name} version",
        }


@pytest.mark.parametrize("name", [42, "", "  ", "a b", "a/b"])
def test_get_cookies_wants_a_host_name(name: object) -> None:
    with pytest.raises(errors.InvalidRequestError, match="domain_name"):
        get_cookies(name)  # type: ignore[arg-type]


def test_get_cookies_with_no_browser_is_empty(home: Path) -> None:
    assert get_cookies("chat-gpt.org", browser=[]) == {}
    assert get_cookies("chat-gpt.org", browser="firefox") == {}
