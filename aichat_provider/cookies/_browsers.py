"""Cookies from the browsers on this machine: found by ``_profiles``, copied by ``_snapshot``,
decrypted by browser_cookie3, chosen by ``_jar``.

browser_cookie3 is imported only here, the first time a browser is read. It is never patched:
where it cannot work as it is (a Chromium-family profile on Linux when the desktop keyring cannot
be reached), this module uses browser_cookie3's own reader with the key a missing keyring leaves
(Chromium's fixed ``v10`` key), which reads every cookie the browser wrote without a keyring.
Every loader fails in its own way (a ``KeyError`` for a missing D-Bus session, a ``TypeError`` for
a half-written profile list, ...), so every call is guarded and each failure becomes a reason a
person can act on. Blocking: the provider runs this in a worker thread (see ``_cache``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import InvalidRequestError
from ._jar import Selected, make_cookie, normalise_expiry, select_cookies
from ._profiles import (
    BROWSERS,
    LINUX,
    Profile,
    current_platform,
    find_profiles,
    installed_roots,
    listed_profile_names,
    parse_browsers,
)
from ._values import is_token

if TYPE_CHECKING:  # imported when a browser is read: see _jar
    from http.cookiejar import Cookie

logger = logging.getLogger("aichat_provider")

NOT_INSTALLED = "not installed (no profile found)"
_PLATFORM_NAMES = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}


@dataclass(frozen=True, repr=False)
class BrowserCookies:
    """What a read of the browser profiles gave: the cookies (maybe none), the browser and the
    profile they came from, and why every other browser gave nothing."""

    cookies: dict[str, str]
    browser: str | None
    reasons: dict[str, str] = field(default_factory=dict)
    expiries: dict[str, float | None] = field(default_factory=dict)
    profile: Path | None = None

    def __repr__(self) -> str:  # names only: values are secrets
        return (
            f"BrowserCookies(browser={self.browser!r}, profile={self.profile!r}, "
            f"names={list(self.cookies)}, reasons={self.reasons!r})"
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
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def browser_cookies(jar: Any) -> list[Cookie]:
    """A loader's cookies as browsers mean them (Firefox's millisecond expiry made seconds)."""
    found: list[Cookie] = []
    for cookie in jar:
        if cookie.value is None:
            continue
        try:
            expires = normalise_expiry(float(cookie.expires)) if cookie.expires else None
        except (TypeError, ValueError, OverflowError):
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


class _KeyringNeeded(Exception):
    """Cookies encrypted with the desktop keyring (Chromium's ``v11``), which cannot be reached."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def get_cookies(domain_name: str, browser: str | Sequence[str] | None = None) -> dict[str, str]:
    """Read the cookies a browser on this machine holds for ``domain_name`` (blocking).

    The first browser (in ``browser``, or all supported ones) that has cookies for the domain
    wins; the cookies are the unexpired ones a browser would send to the host, on any path.
    Returns an empty dict when none has any; the reasons are logged at DEBUG level. In async
    code, let ``Aichat.create_async`` do this: it reads in a worker thread and caches.
    """
    if not isinstance(domain_name, str):
        raise InvalidRequestError("domain_name must be a host name such as 'chat-gpt.org'.")
    host = domain_name.strip().lstrip(".").lower()
    if not host or not is_token(host.replace(":", "")):
        raise InvalidRequestError("domain_name must name a host, such as 'chat-gpt.org'.")
    found = load_browser_cookies(f"https://{host}/", parse_browsers(browser), any_path=True)
    if not found.cookies:
        logger.debug("no browser cookies for %s: %s", host, found.reasons)
    return found.cookies


def load_browser_cookies(
    url: str, browsers: Sequence[str], *, any_path: bool = False
) -> BrowserCookies:
    """Read the browsers in order; the first with cookies for ``url`` wins. Blocking."""
    import browser_cookie3  # type: ignore[import-untyped]  # deferred: only needed here

    host = (urlsplit(url).hostname or "").lower()
    term = browser_search_term(host)
    platform = current_platform()
    reasons: dict[str, str] = {}
    for name in browsers:
        kind = BROWSERS[name]
        if not kind.available_on(platform):
            reasons[name] = f"has no {_PLATFORM_NAMES.get(platform, platform)} version"
            continue
        if kind.family == "other":
            selected, profile, reason = _read_by_browser_cookie3(
                browser_cookie3, name, url, term, any_path
            )
        else:
            selected, profile, reason = _read_profiles(
                browser_cookie3, name, url, host, term, any_path, platform
            )
        if selected is not None and selected.values:
            logger.debug("browser %s: %d cookies for %s", name, len(selected.values), host)
            return BrowserCookies(selected.values, name, reasons, selected.expiries, profile)
        reasons[name] = reason
        logger.debug("browser %s: %s", name, reason)
    return BrowserCookies({}, None, reasons)


def _read_by_browser_cookie3(
    module: ModuleType, name: str, url: str, term: str, any_path: bool
) -> tuple[Selected | None, Path | None, str]:
    """Browsers whose files browser_cookie3 finds and reads alone (Safari, lynx, w3m)."""
    try:
        jar = getattr(module, name)(domain_name=term)
        selected = select_cookies(
            browser_cookies(jar), url, where=f"browser {name}", any_path=any_path
        )
    except InvalidRequestError:
        return None, None, _UNSENDABLE
    except Exception as exc:  # every loader fails in its own way
        return None, None, describe_browser_failure(exc)
    return selected, None, selected.why_none(_host(url))


_UNSENDABLE = "holds a cookie for the host that cannot be sent (bad name or value)"


def _read_profiles(
    module: ModuleType,
    name: str,
    url: str,
    host: str,
    term: str,
    any_path: bool,
    platform: str,
) -> tuple[Selected | None, Path | None, str]:
    """Each profile of a Chromium- or Firefox-family browser, the one in use first."""
    from ._snapshot import snapshot  # sqlite3, shutil and tempfile: only to read a browser

    profiles = find_profiles(name)
    if not profiles:
        return None, None, _no_profile_reason(name)
    reasons: list[str] = []
    for profile in profiles:
        try:
            with snapshot(profile) as copy:
                jar = _load(module, name, profile, copy, term, platform)
            selected = select_cookies(
                browser_cookies(jar), url, where=f"browser {name}", any_path=any_path
            )
        except _KeyringNeeded as needed:
            reasons.append(needed.why)
            continue
        except InvalidRequestError:
            reasons.append(_UNSENDABLE)
            continue
        except Exception as exc:  # every loader fails in its own way
            reasons.append(describe_browser_failure(exc))
            continue
        if selected.values:
            return selected, profile.path, ""
        reasons.append(selected.why_none(host))
    return None, None, _most_useful(reasons, host)


def _most_useful(reasons: list[str], host: str) -> str:
    """Of the reasons each profile gave, the one that says most (an empty profile says least)."""
    plain = f"no cookies for {host}"
    informative = [reason for reason in reasons if reason != plain]
    return informative[0] if informative else plain


def _no_profile_reason(name: str) -> str:
    roots = installed_roots(name)
    if not roots:
        return NOT_INSTALLED
    if BROWSERS[name].family == "firefox":
        listed = listed_profile_names(name, roots[0])
        if listed:
            return (
                f"its profiles.ini in {roots[0]} lists {', '.join(listed[:5])}, but none of them "
                "has a cookie database yet; start the browser once and log in"
            )
    return f"{roots[0]} holds no profile with a cookie database yet; start the browser and log in"


def _load(
    module: ModuleType, name: str, profile: Profile, copy: Path, term: str, platform: str
) -> Any:
    """browser_cookie3's reader on the private copy of ``profile``."""
    loader = getattr(module, name)
    key_file = str(profile.key_file) if profile.key_file else None
    try:
        return loader(cookie_file=str(copy), domain_name=term, key_file=key_file)
    except Exception as exc:
        if BROWSERS[name].family != "chromium" or platform != LINUX:
            raise
        if _keyring_failed(exc):
            keyring = describe_keyring_failure(exc)
        elif _no_dbus_session() and type(exc).__name__ == "BrowserCookieError":
            # gpt4free's import replaces browser_cookie3's keyring lookup with a fixed password
            # when there is no D-Bus session, so the lookup "succeeds" and decrypting fails: the
            # cause is still that no keyring could be asked.
            keyring = describe_keyring_failure(KeyError("DBUS_SESSION_BUS_ADDRESS"))
        else:
            raise
    logger.debug("browser %s: %s; reading the cookies written without a keyring", name, keyring)
    try:
        return _read_without_keyring(module, name, copy, term)
    except module.BrowserCookieError as exc:
        if "key" in str(exc).lower():
            raise _KeyringNeeded(
                f"its cookies are encrypted with the desktop keyring, and {keyring}; unlock or "
                "start the keyring (log in to the desktop session), or export the cookies to a "
                "file and pass cookies_file"
            ) from None
        raise


def _no_dbus_session() -> bool:
    return os.environ.get("DBUS_SESSION_BUS_ADDRESS", "") in ("", "/dev/null")


def _keyring_failed(exc: BaseException) -> bool:
    """Whether browser_cookie3 failed asking the desktop keyring (before reading any cookie)."""
    if isinstance(exc, KeyError):
        return True  # no D-Bus session, or a locked keyring's object path
    if isinstance(exc, (ConnectionError, FileNotFoundError, TimeoutError, PermissionError)):
        return True  # a stale bus address, an unreachable or slow bus
    return type(exc).__module__.startswith(("jeepney", "dbus", "secretstorage"))


def describe_keyring_failure(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and "DBUS_SESSION_BUS_ADDRESS" in str(exc):
        return "there is no D-Bus session to reach it (usual on servers and in containers)"
    if isinstance(exc, KeyError):
        return "it is locked"
    if isinstance(exc, (FileNotFoundError, ConnectionError)):
        return "the D-Bus session it names (DBUS_SESSION_BUS_ADDRESS) is gone"
    if isinstance(exc, TimeoutError):
        return "it did not answer over D-Bus in time"
    return f"it could not be asked ({type(exc).__name__})"


def _read_without_keyring(module: ModuleType, name: str, copy: Path, term: str) -> Any:
    """browser_cookie3's own Chromium reader, given the keys it uses when no keyring answers:
    ``v10`` cookies (the basic password store) decrypt; ``v11`` ones raise BrowserCookieError."""
    reader_class = {
        "chrome": module.Chrome,
        "chromium": module.Chromium,
        "brave": module.Brave,
        "edge": module.Edge,
        "opera": module.Opera,
        "opera_gx": module.OperaGX,
        "vivaldi": module.Vivaldi,
        "arc": module.Arc,
    }[name]
    reader = reader_class.__new__(reader_class)  # skips the constructor's keyring lookup
    reader.salt, reader.iv, reader.length = b"saltysalt", b" " * 16, 16
    reader.browser, reader.cookie_file, reader.domain_name = name, str(copy), term
    reader.key_file = None
    reader.v10_key = module.PBKDF2(module.CHROMIUM_DEFAULT_PASSWORD, reader.salt, 16, 1)
    reader.v11_key = reader.v10_key
    reader.v11_empty_key = module.PBKDF2(b"", reader.salt, 16, 1)
    return reader.load()


def describe_browser_failure(exc: BaseException) -> str:
    """A reason a person can act on, without the exception text (which may quote cookie bytes)."""
    import sqlite3

    text = str(exc) if type(exc).__name__ == "BrowserCookieError" else ""
    if isinstance(exc, PermissionError):
        return (
            "the running browser holds its cookie database (Windows locks it while the browser "
            "runs); close the browser and try again, or export the cookies to a file"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        if "locked" in str(exc) or "busy" in str(exc):
            return "its cookie database is busy (locked by the browser); close it and try again"
        return "its cookie database is damaged or not a cookie database"
    if isinstance(exc, OSError):
        return f"its cookie database cannot be copied ({exc.strerror or type(exc).__name__})"
    if re.search(r"(?i)(can ?not|could not|failed to) find|not recognized", text):
        return NOT_INSTALLED
    if "decrypt" in text or "key" in text.lower():
        return (
            "its cookies cannot be decrypted (the keyring is unavailable or locked); export "
            "the cookies to a file and pass cookies_file"
        )
    if text:
        return text[:200]
    return f"could not be read ({type(exc).__name__}); export the cookies to a file instead"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
