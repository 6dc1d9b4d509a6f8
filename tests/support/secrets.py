"""Constants and checks shared by the tests."""

from __future__ import annotations

import os
import re
import traceback
from http.cookiejar import Cookie, CookieJar
from pathlib import Path

import pytest

#: Long, distinctive secrets, so "not in the text" really means not leaked.
SECRET_COOKIE = "s3cr3t-cookie-value-7f3a9c1e"
SECRET_CLEARANCE = "cf-clearance-secret-0b8d2e4a"
PROXY_PASSWORD = "pr0xy-passw0rd-91ac"
COOKIES = {"session": SECRET_COOKIE, "cf_clearance": SECRET_CLEARANCE}
SECRETS = (SECRET_COOKIE, SECRET_CLEARANCE, PROXY_PASSWORD)
USER = [{"role": "user", "content": "Hi"}]


def exposed_text(error: BaseException, caplog: pytest.LogCaptureFixture | None = None) -> str:
    """Everything a user could see of an error: message, repr, traceback chain, fields, logs."""
    parts = [
        str(error),
        repr(error),
        *map(str, error.args),
        "".join(traceback.format_exception(error)),
    ]
    parts += [str(value) for value in vars(error).values()]
    if caplog is not None:
        parts += [record.getMessage() for record in caplog.records]
        parts.append(caplog.text)
    return "\n".join(parts)


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    # a Cookie header may be named (an error page can echo it) but never with a value
    assert re.search(r"session=(?!\[redacted\])\S", text) is None


#: What no test may inherit from the developer's session: its proxies, AICHAT_* settings, and
#: the desktop's D-Bus and XDG folders (its keyring must never be asked by a test).
DEVELOPER_VARIABLES = (
    "AICHAT_BASE_URL",
    "AICHAT_COOKIES_FILE",
    "AICHAT_USER_AGENT",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_RUNTIME_DIR",
)


def subprocess_env(home: Path) -> dict[str, str]:
    """The environment for a child process: no AICHAT_* settings, a test HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICHAT_")}
    env["HOME"] = str(home)
    return env


def cookie_jar(*cookies: tuple[str, str, str]) -> CookieJar:
    """A CookieJar holding ``(name, value, domain)`` cookies, as browser_cookie3 returns them."""
    jar = CookieJar()
    for name, value, domain in cookies:
        jar.set_cookie(
            Cookie(
                0,
                name,
                value,
                None,
                False,
                domain,
                domain.startswith("."),
                domain.startswith("."),
                "/",
                True,
                False,
                None,
                False,
                None,
                None,
                {},
            )
        )
    return jar
