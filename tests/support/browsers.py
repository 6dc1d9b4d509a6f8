"""Finding the real browsers the tests drive.

On a developer's machine without them, tests that need one skip with a message saying how to
install it; in CI (``AICHAT_REQUIRE_BROWSERS=1``, set by ``.ci/run``) they fail instead, so a
missing browser can never hide a test.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_VARIABLE = "AICHAT_REQUIRE_BROWSERS"
INSTALL_HINT = (
    "install it with: apt-get install -y chromium firefox-esr dbus-daemon (Debian/Ubuntu, as root)"
)


def require_executable(*names: str) -> str:
    """The path of the first of ``names`` on PATH; skip (or fail in CI) when none is there."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = f"{' or '.join(names)} is not installed; {INSTALL_HINT}"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message} ({REQUIRE_VARIABLE}=1: browser tests must run here)")
    pytest.skip(message)


def chromium() -> str:
    return require_executable("chromium", "chromium-browser", "google-chrome")


def firefox() -> str:
    return require_executable("firefox-esr", "firefox")
