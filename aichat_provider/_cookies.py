"""Where the service's cookies come from: the call's argument, a cookies file, or a browser.

Parsing and validation are pure functions; reading files and browser profiles is blocking and is
only ever run in a worker thread (see :func:`read_cookies_file` and :class:`BrowserCookieCache`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from . import _config
from .errors import InvalidRequestError, MissingCookiesError

logger = logging.getLogger("aichat_provider")

CookieInput = Mapping[str, str] | CookieJar | str

#: RFC 6265 cookie-name token, and the characters a cookie value may not contain on the wire.
_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE_CHARS = re.compile(r"[^\t\x20-\x7e]|;")
#: What may not travel in a header value: anything but tab and printable ASCII.
UNSENDABLE = re.compile(r"[^\t\x20-\x7e]")
_MAX_COOKIES_FILE_BYTES = 10 * 1024 * 1024


def check_cookie(name: object, value: object, *, where: str) -> tuple[str, str]:
    """Validate one cookie; the error names the cookie but never shows its value."""
    if not isinstance(name, str) or not _COOKIE_NAME.match(name):
        shown = name if isinstance(name, str) and len(name) <= 64 else type(name).__name__
        raise InvalidRequestError(f"{where}: {shown!r} is not a valid cookie name.")
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{where}: cookie {name!r} must have a string value, not {type(value).__name__}."
        )
    if _BAD_VALUE_CHARS.search(value):
        raise InvalidRequestError(
            f"{where}: cookie {name!r} has a control character, a non-ASCII character or ';' "
            "in its value."
        )
    return name, value


def domain_matches(cookie_domain: str, host: str, include_subdomains: bool | None = None) -> bool:
    """Whether a cookie stored for ``cookie_domain`` may be sent to ``host`` (RFC 6265 5.1.3).

    Browsers store a host-only cookie under its bare host and a domain cookie with a leading dot;
    ``include_subdomains`` overrides that reading where the source says it (cookies.txt, JSON).
    """
    raw = cookie_domain.strip().lower()
    domain = raw.lstrip(".")
    host = host.lower()
    if not domain:
        return False
    if host == domain:
        return True
    if include_subdomains is None:
        include_subdomains = raw.startswith(".")
    return include_subdomains and host.endswith("." + domain) and not _is_ip(host)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def parse_cookie_header(text: str, *, where: str = "cookies") -> dict[str, str]:
    """Parse ``"a=1; b=2"`` into a dict."""
    cookies: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise InvalidRequestError(
                f"{where}: {name[:64]!r} has no '='; write cookies as 'name=value; name2=value2'."
            )
        name, value = check_cookie(name.strip(), value.strip(), where=where)
        cookies[name] = value
    return cookies


#: Name -> expiry (seconds since the epoch, None for a session cookie), filled in on request by
#: the readers below for ``aichat doctor``, which shows names and expiry but never values.
Expiries = dict[str, float | None]


def cookies_from_jar(
    jar: Iterable[Any], host: str, expiries: Expiries | None = None
) -> dict[str, str]:
    """The unexpired cookies of a CookieJar that belong to ``host``."""
    now = time.time()
    cookies: dict[str, str] = {}
    for cookie in jar:
        if cookie.expires is not None and cookie.expires and cookie.expires <= now:
            continue
        if cookie.domain and not domain_matches(cookie.domain, host):
            continue
        if cookie.value is None:
            continue
        name, value = check_cookie(cookie.name, cookie.value, where="cookies")
        cookies[name] = value
        if expiries is not None:
            expiries[name] = float(cookie.expires) if cookie.expires else None
    return cookies


def cookies_from_argument(value: object, *, host: str) -> dict[str, str]:
    """Validate the ``cookies`` argument (dict, CookieJar or header string) into a dict.

    A CookieJar may hold cookies of many sites (a browser_cookie3 jar does); only those that belong
    to the API host are kept. A dict or a header string is taken as meant for the service.
    """
    if isinstance(value, CookieJar):
        return cookies_from_jar(value, host)
    if isinstance(value, str):
        return parse_cookie_header(value)
    if isinstance(value, Mapping):
        return dict(check_cookie(k, v, where="cookies") for k, v in value.items())
    raise InvalidRequestError(
        "cookies must be a dict, an http.cookiejar.CookieJar or a 'name=value; ...' string, "
        f"not {type(value).__name__}."
    )


def cookie_header(cookies: Mapping[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# --- cookies files ---------------------------------------------------------------------------


def read_cookies_file(path: Path, host: str, expiries: Expiries | None = None) -> dict[str, str]:
    """Read a Netscape ``cookies.txt`` or a JSON export and keep the cookies for ``host``.

    Blocking: call it in a worker thread.
    """
    where = f"cookies file {str(path)!r}"
    try:
        size = path.stat().st_size
        if size > _MAX_COOKIES_FILE_BYTES:
            raise InvalidRequestError(f"{where} is {size} bytes; a cookies file is far smaller.")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidRequestError(f"{where} does not exist.") from None
    except IsADirectoryError:
        raise InvalidRequestError(f"{where} is a directory, not a file.") from None
    except PermissionError:
        raise InvalidRequestError(f"{where} is not readable (permission denied).") from None
    except UnicodeDecodeError:
        raise InvalidRequestError(f"{where} is not UTF-8 text.") from None
    except OSError as exc:
        raise InvalidRequestError(f"{where} cannot be read ({exc.strerror}).") from None
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return parse_json_cookies(text, host, where=where, expiries=expiries)
    return parse_netscape_cookies(text, host, where=where, expiries=expiries)


def parse_netscape_cookies(
    text: str, host: str, *, where: str = "cookies file", expiries: Expiries | None = None
) -> dict[str, str]:
    """Parse the Netscape ``cookies.txt`` format that curl, wget and browser add-ons write."""
    now = time.time()
    cookies: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\r\n")
        if line.startswith("#HttpOnly_"):
            line = line[len("#HttpOnly_") :]
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 7:
            fields = line.split(None, 6)
        if len(fields) == 6:
            fields.append("")  # an empty value loses its trailing tab in some exports
        if len(fields) != 7:
            raise InvalidRequestError(
                f"{where}, line {number}: expected 7 tab-separated fields "
                "(domain, subdomains, path, secure, expiry, name, value)."
            )
        domain, subdomains, _path, _secure, expires, name, value = fields
        try:
            expiry = int(float(expires)) if expires.strip() else 0
        except ValueError:
            raise InvalidRequestError(
                f"{where}, line {number}: the expiry {expires[:20]!r} is not a number."
            ) from None
        if expiry and expiry <= now:
            continue
        if not domain_matches(domain, host, subdomains.strip().upper() == "TRUE"):
            continue
        name, value = check_cookie(name, value, where=f"{where}, line {number}")
        cookies[name] = value
        if expiries is not None:
            expiries[name] = float(expiry) if expiry else None
    return cookies


def parse_json_cookies(
    text: str, host: str, *, where: str = "cookies file", expiries: Expiries | None = None
) -> dict[str, str]:
    """Parse a JSON cookie export: a list of ``{"name", "value", "domain", ...}`` objects (browser
    add-ons, Selenium) or an object with a ``"cookies"`` list (Playwright's storage state)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidRequestError(
            f"{where} is neither valid JSON nor a cookies.txt file."
        ) from None
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):
        data = data["cookies"]
    if not isinstance(data, list):
        raise InvalidRequestError(f"{where}: expected a JSON list of cookie objects.")
    now = time.time()
    cookies: dict[str, str] = {}
    for index, item in enumerate(data):
        entry = f"{where}, entry {index}"
        if not isinstance(item, dict):
            raise InvalidRequestError(f"{entry} is not an object with 'name' and 'value'.")
        domain = item.get("domain", item.get("host", ""))
        if not isinstance(domain, str):
            raise InvalidRequestError(f"{entry}: 'domain' must be a string.")
        host_only = item.get("hostOnly")
        subdomains = None if not isinstance(host_only, bool) else not host_only
        if domain and not domain_matches(domain, host, subdomains):
            continue
        expiry = _json_expiry(item, entry)
        if expiry is not None and 0 < expiry <= now:
            continue
        name, value = check_cookie(item.get("name"), item.get("value"), where=entry)
        cookies[name] = value
        if expiries is not None:
            expiries[name] = expiry if expiry is not None and expiry > 0 else None
    return cookies


def _json_expiry(item: Mapping[str, object], where: str) -> float | None:
    for key in ("expirationDate", "expires", "expiry"):
        raw = item.get(key)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise InvalidRequestError(f"{where}: {key!r} must be a number of seconds.")
        return float(raw)
    return None


# --- browsers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserCookies:
    """What a read of the browser profiles gave: the cookies (maybe none), the browser they came
    from, and why every other browser gave nothing."""

    cookies: dict[str, str]
    browser: str | None
    reasons: dict[str, str] = field(default_factory=dict)
    expiries: Expiries = field(default_factory=dict)


def browser_search_term(host: str) -> str:
    """The text browser_cookie3 matches host keys against (``LIKE '%term%'``).

    Wider than the host, so cookies set on the parent domain are found; :func:`domain_matches`
    then keeps only those that really belong to the host.
    """
    if _is_ip(host):
        return host
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) > 2 else host


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
NOT_INSTALLED = "not installed (no profile found)"


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


def load_browser_cookies(host: str, browsers: Sequence[str]) -> BrowserCookies:
    """Read the browsers in order; the first with cookies for ``host`` wins. Blocking."""
    import browser_cookie3  # type: ignore[import-untyped]  # deferred: only needed here

    term = browser_search_term(host)
    reasons: dict[str, str] = {}
    for name in browsers:
        loader = getattr(browser_cookie3, name, None)
        if loader is None:
            reasons[name] = "not supported by the installed browser_cookie3"
            continue
        expiries: Expiries = {}
        try:
            jar = loader(domain_name=term)
            cookies = cookies_from_jar(jar, host, expiries)
        except InvalidRequestError:
            reasons[name] = "holds a cookie for the host that cannot be sent (bad name or value)"
            continue
        except Exception as exc:  # every loader fails in its own way; see describe_browser_failure
            reasons[name] = describe_browser_failure(exc, name)
            logger.debug("browser %s: %s", name, reasons[name])
            continue
        if cookies:
            logger.debug("browser %s: %d cookies for %s", name, len(cookies), host)
            return BrowserCookies(cookies, name, reasons, expiries)
        reasons[name] = f"no cookies for {host}"
    return BrowserCookies({}, None, reasons)


class BrowserCookieCache:
    """Browser cookies per host, read in a worker thread, reused for a short time.

    One read is in flight per key however many calls wait for it; a read that hangs (a keyring
    prompt, a locked profile) is given up after ``load_timeout`` without blocking the event loop.
    """

    def __init__(
        self,
        ttl: float = _config.BROWSER_COOKIE_TTL,
        load_timeout: float = _config.BROWSER_LOAD_TIMEOUT,
    ) -> None:
        self.ttl = ttl
        self.load_timeout = load_timeout
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, tuple[str, ...]], tuple[float, BrowserCookies]] = {}
        self._inflight: dict[
            tuple[str, tuple[str, ...]], concurrent.futures.Future[BrowserCookies]
        ] = {}
        #: How many profile reads were started (observability; reads are expensive).
        self.loads = 0

    async def get(self, host: str, browsers: Sequence[str]) -> BrowserCookies:
        key = (host.lower(), tuple(browsers))
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > time.monotonic():
                return entry[1]
            future = self._inflight.get(key)
            if future is None:
                future = self._start_load(key)
        try:
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(future)), self.load_timeout
            )
        except asyncio.TimeoutError:
            reason = (
                f"reading the browser profiles took over {self.load_timeout:g} s "
                "(a locked profile or a keyring that does not answer)"
            )
            raise MissingCookiesError(
                missing_cookies_message(host, {"browsers": reason}),
                reasons={"browsers": reason},
            ) from None

    def _start_load(
        self, key: tuple[str, tuple[str, ...]]
    ) -> concurrent.futures.Future[BrowserCookies]:
        future: concurrent.futures.Future[BrowserCookies] = concurrent.futures.Future()
        self._inflight[key] = future
        self.loads += 1

        def run() -> None:
            try:
                result = load_browser_cookies(key[0], key[1])
            except BaseException as exc:
                with self._lock:
                    self._inflight.pop(key, None)
                future.set_exception(exc)
                return
            with self._lock:
                self._inflight.pop(key, None)
                if result.cookies:
                    self._entries[key] = (time.monotonic() + self.ttl, result)
            future.set_result(result)

        # A daemon thread, not a pool: a loader stuck on a keyring must not hold a pool slot or
        # keep the interpreter from exiting.
        threading.Thread(target=run, name="aichat-browser-cookies", daemon=True).start()
        return future

    def invalidate(self, host: str) -> None:
        """Forget cached cookies for ``host`` (the service rejected them)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == host.lower()]:
                del self._entries[key]

    def clear(self) -> None:
        """Forget every cached read and reset the ``loads`` count."""
        with self._lock:
            self._entries.clear()
            self.loads = 0


browser_cookie_cache = BrowserCookieCache()


def missing_cookies_message(host: str, reasons: Mapping[str, str]) -> str:
    """The three ways to supply cookies, then what each source said, alike reasons grouped."""
    grouped: dict[str, list[str]] = {}
    for source, why in reasons.items():
        grouped.setdefault(why, []).append(source)
    tried = "; ".join(f"{', '.join(sources)}: {why}" for why, sources in grouped.items())
    return (
        f"No cookies for {host} were found. Pass cookies={{...}} (or a 'name=value; ...' string), "
        f"point cookies_file= or {_config.ENV_COOKIES_FILE} at a cookies.txt or JSON export, "
        f"or log in to {host} in a supported browser on this machine."
        + (f" Tried: {tried}." if tried else "")
    )


# --- resolution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedCookies:
    cookies: dict[str, str]
    source: str  # "argument", "cookies_file" or "browser:<name>"


async def resolve_cookies(
    *,
    host: str,
    argument: Mapping[str, str] | None,
    cookies_file: Path | None,
    browsers: Sequence[str],
    cache: BrowserCookieCache = browser_cookie_cache,
) -> ResolvedCookies:
    """The contract's order: the argument, then the cookies file, then the browsers."""
    if argument:
        return ResolvedCookies(dict(argument), "argument")
    reasons: dict[str, str] = {}
    if cookies_file is not None:
        from_file = await asyncio.to_thread(read_cookies_file, cookies_file, host)
        if from_file:
            return ResolvedCookies(from_file, "cookies_file")
        reasons["cookies_file"] = f"{os.fspath(cookies_file)!r} has no cookies for {host}"
    if browsers:
        found = await cache.get(host, browsers)
        if found.cookies:
            return ResolvedCookies(found.cookies, f"browser:{found.browser}")
        reasons.update(found.reasons)
    raise MissingCookiesError(missing_cookies_message(host, reasons), reasons=reasons)


def get_cookies(domain_name: str, browser: str | Sequence[str] | None = None) -> dict[str, str]:
    """Read the cookies a browser on this machine holds for ``domain_name`` (blocking).

    The first browser (in ``browser``, or all supported ones) that has cookies for the domain
    wins. Returns an empty dict when none has any; the reasons are logged at DEBUG level. In async
    code, let ``Aichat.create_async`` do this: it reads in a worker thread and caches.
    """
    from ._options import parse_browsers

    host = domain_name.strip().lstrip(".").lower()
    if not host:
        raise InvalidRequestError("domain_name must name a host, such as 'chat-gpt.org'.")
    return load_browser_cookies(host, parse_browsers(browser)).cookies
