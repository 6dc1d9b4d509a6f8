"""Cookies from the browsers on this machine, through browser_cookie3.

browser_cookie3 is imported only here, the first time a browser is read. Every loader fails in its
own way (a ``KeyError`` for a missing D-Bus session, a ``TypeError`` for a half-written profile
list, ...), so every call is guarded and each failure becomes a reason a person can act on.
Blocking: the provider runs this in a worker thread (see ``_cache``).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.cookiejar import Cookie
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import InvalidRequestError
from ._jar import Selected, make_cookie, normalise_expiry, select_cookies

logger = logging.getLogger("aichat_provider")

NOT_INSTALLED = "not installed (no profile found)"


@dataclass(frozen=True, repr=False)
class BrowserCookies:
    """What a read of the browser profiles gave: the cookies (maybe none), the browser they came
    from, and why every other browser gave nothing."""

    cookies: dict[str, str]
    browser: str | None
    reasons: dict[str, str] = field(default_factory=dict)
    expiries: dict[str, float | None] = field(default_factory=dict)

    def __repr__(self) -> str:  # names only: values are secrets
        return (
            f"BrowserCookies(browser={self.browser!r}, names={list(self.cookies)}, "
            f"reasons={self.reasons!r})"
        )


def browser_search_term(host: str) -> str:
    """The text browser_cookie3 matches host keys against (``LIKE '%term%'``).

    Wider than the host, so cookies set on the parent domain are found; the cookie policy then
    keeps only those that really belong to the host.
    """
    if _is_ip(host):
        return host
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) > 2 else host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


#: Where the Chromium-family browsers keep their profiles on Linux (relative to the home
#: directory). browser_cookie3 asks the keyring before it looks for a profile, so without D-Bus
#: every one of them fails alike; these globs tell "not installed" from "keyring unreachable".
_LINUX_CHROMIUM_PROFILES: dict[str, tuple[str, ...]] = {
    "chrome": (".config/google-chrome*", ".var/app/com.google.Chrome"),
    "chromium": (".config/chromium", ".var/app/org.chromium.Chromium"),
    "brave": (".config/BraveSoftware/Brave-Browser*", ".var/app/com.brave.Browser"),
    "edge": (".config/microsoft-edge*", ".var/app/com.microsoft.Edge"),
    "opera": (".config/opera*", ".var/app/com.opera.Opera"),
    "opera_gx": (),
    "vivaldi": (".config/vivaldi*", ".var/app/com.vivaldi.Vivaldi"),
    "arc": (),
}


def _has_linux_profile(browser: str) -> bool:
    home = Path.home()
    return any(any(home.glob(pattern)) for pattern in _LINUX_CHROMIUM_PROFILES.get(browser, ()))


def describe_browser_failure(exc: BaseException, browser: str = "") -> str:
    """A reason a person can act on, without the exception text (which may quote cookie bytes)."""
    import sqlite3  # already loaded by browser_cookie3 whenever this runs

    text = str(exc) if type(exc).__name__ == "BrowserCookieError" else ""
    if isinstance(exc, KeyError) and "DBUS_SESSION_BUS_ADDRESS" in str(exc):
        if browser in _LINUX_CHROMIUM_PROFILES and not _has_linux_profile(browser):
            return NOT_INSTALLED
        return (
            "no D-Bus session, so its keyring cannot be read (usual on servers and in containers); "
            "export the cookies to a file and pass cookies_file"
        )
    if isinstance(exc, TimeoutError):
        return (
            "its keyring did not answer over D-Bus in time (a locked or stuck keyring daemon); "
            "unlock it, or export the cookies to a file and pass cookies_file"
        )
    if isinstance(exc, PermissionError):
        return (
            "permission denied reading its profile (the running browser may hold it); "
            "close the browser or export the cookies to a file"
        )
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return "its cookie database is locked by the running browser; close the browser and retry"
    if re.search(r"(?i)(can ?not|could not|failed to) find|not recognized", text):
        return NOT_INSTALLED
    if "decrypt" in text or "key" in text.lower():
        return "its cookies cannot be decrypted (keyring unavailable or locked)"
    if text:
        return text[:200]
    return f"could not be read ({type(exc).__name__})"


def browser_cookies(jar: Iterable[Cookie]) -> list[Cookie]:
    """A loader's cookies as browsers mean them (Firefox's millisecond expiry made seconds)."""
    found: list[Cookie] = []
    for cookie in jar:
        if cookie.value is None:
            continue
        try:
            expires = normalise_expiry(float(cookie.expires)) if cookie.expires else None
        except (TypeError, ValueError):
            expires = None
        found.append(
            make_cookie(
                cookie.name,
                cookie.value,
                domain=cookie.domain,
                path=cookie.path or "/",
                secure=bool(cookie.secure),
                expires=expires,
            )
        )
    return found


def load_browser_cookies(
    url: str, browsers: Sequence[str], *, any_path: bool = False
) -> BrowserCookies:
    """Read the browsers in order; the first with cookies for ``url`` wins. Blocking."""
    import browser_cookie3  # type: ignore[import-untyped]  # deferred: only needed here

    host = (urlsplit(url).hostname or "").lower()
    term = browser_search_term(host)
    reasons: dict[str, str] = {}
    for name in browsers:
        loader = getattr(browser_cookie3, name, None)
        if loader is None:
            reasons[name] = "not supported by the installed browser_cookie3"
            continue
        try:
            selected: Selected = select_cookies(
                browser_cookies(loader(domain_name=term)),
                url,
                where=f"browser {name}",
                any_path=any_path,
            )
        except InvalidRequestError:
            reasons[name] = "holds a cookie for the host that cannot be sent (bad name or value)"
            continue
        except Exception as exc:  # every loader fails in its own way; see describe_browser_failure
            reasons[name] = describe_browser_failure(exc, name)
            logger.debug("browser %s: %s", name, reasons[name])
            continue
        if selected.values:
            logger.debug("browser %s: %d cookies for %s", name, len(selected.values), host)
            return BrowserCookies(selected.values, name, reasons, selected.expiries)
        reasons[name] = f"no cookies for {host}"
    return BrowserCookies({}, None, reasons)
