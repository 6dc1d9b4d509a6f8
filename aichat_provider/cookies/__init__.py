"""Where the service's cookies come from, first that yields cookies wins: the call's argument, a
cookies file, the browsers on this machine.

The modules below do one job each: ``_values`` (names, values, the header form), ``_jar`` (which
cookies a browser would send, by ``http.cookiejar``'s policy), ``_files`` (cookies files),
``_browsers`` (browser_cookie3) and ``_cache`` (keeping blocking reads off the event loop). This
module chooses between the sources.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import _config
from ..errors import InvalidRequestError, MissingCookiesError
from ._browsers import NOT_INSTALLED, BrowserCookies, load_browser_cookies
from ._cache import BrowserCookieCache, ChangedFileCache
from ._files import parse_cookies_text, read_cookies_file, read_text_file
from ._jar import Selected, select_cookies

if TYPE_CHECKING:
    from http.cookiejar import CookieJar
else:  # isinstance() checks without importing http.cookiejar (see _jar)
    from ._jar import AnyCookieJar as CookieJar
from ._profiles import available_browsers
from ._store import (
    StoredLogin,
    browser_profile_dir,
    data_dir,
    forget_login,
    load_login,
    save_login,
    store_path,
    stored_hosts,
)
from ._values import (
    check_cookie,
    checked_mapping,
    cookie_header,
    is_sendable,
    is_token,
    parse_cookie_header,
)

__all__ = [
    "NOT_INSTALLED",
    "BrowserCookieCache",
    "BrowserCookies",
    "ChangedFileCache",
    "CookieInput",
    "ResolvedCookies",
    "Selected",
    "StoredLogin",
    "browser_cookie_cache",
    "browser_profile_dir",
    "check_cookie",
    "cookie_header",
    "cookies_file_cache",
    "cookies_from_argument",
    "data_dir",
    "forget_login",
    "get_cookies",
    "is_sendable",
    "is_token",
    "load_browser_cookies",
    "load_login",
    "missing_cookies_message",
    "parse_cookie_header",
    "parse_cookies_text",
    "read_cookies_file",
    "read_text_file",
    "resolve_cookies",
    "save_login",
    "select_cookies",
    "store_cache",
    "store_path",
    "stored_hosts",
]

logger = logging.getLogger("aichat_provider")

CookieInput = Mapping[str, str] | CookieJar | str


def _read_store(path: Path, url: str) -> tuple[Selected, StoredLogin] | None:
    login = load_login(path.stem) if path.exists() else None
    return None if login is None else (login.select(url), login)


browser_cookie_cache = BrowserCookieCache()
cookies_file_cache: ChangedFileCache[Selected] = ChangedFileCache(read_cookies_file)
#: The cookie store, looked at again only when ``aichat login`` or a refresh wrote to it.
store_cache: ChangedFileCache[tuple[Selected, StoredLogin] | None] = ChangedFileCache(_read_store)


def cookies_from_argument(value: object, *, url: str) -> dict[str, str]:
    """Validate the ``cookies`` argument (dict, CookieJar or header string) into a dict.

    A CookieJar may hold cookies of many sites (a browser_cookie3 jar does); only those a browser
    would send to ``url`` are kept. A dict or a header string is taken as meant for the service.
    """
    if type(value) is dict or isinstance(value, Mapping):
        return checked_mapping(value)
    if isinstance(value, CookieJar):
        return select_cookies(value, url).values
    if isinstance(value, str):
        return parse_cookie_header(value)
    raise InvalidRequestError(
        "cookies must be a dict, an http.cookiejar.CookieJar or a 'name=value; ...' string, "
        f"not {type(value).__name__}."
    )


@dataclass(frozen=True, repr=False)
class ResolvedCookies:
    """The cookies a call sends, and where they came from (``"argument"``, ``"cookies_file"``,
    ``"store"`` or ``"browser:<name>"``); cookies from the store bring the user agent of the
    browser that earned them."""

    cookies: dict[str, str]
    source: str
    user_agent: str | None = None

    def __repr__(self) -> str:  # names only: values are secrets
        return f"ResolvedCookies(source={self.source!r}, names={list(self.cookies)})"


def missing_cookies_message(host: str, reasons: Mapping[str, str]) -> str:
    """The three ways to supply cookies, then what each source said, alike reasons grouped."""
    grouped: dict[str, list[str]] = {}
    for source, why in reasons.items():
        grouped.setdefault(why, []).append(source)
    tried = "; ".join(f"{', '.join(sources)}: {why}" for why, sources in grouped.items())
    return (
        f"No cookies for {host} were found. Pass cookies={{...}} (or a 'name=value; ...' string), "
        f"point cookies_file= or {_config.ENV_COOKIES_FILE} at a cookies.txt or JSON export, "
        f"run 'aichat login' (it saves them for every later call), or log in to {host} in a "
        "supported browser on this machine." + (f" Tried: {tried}." if tried else "")
    )


async def resolve_cookies(
    *,
    url: str,
    host: str,
    argument: Mapping[str, str] | None,
    cookies_file: Path | None,
    browsers: Sequence[str],
) -> ResolvedCookies:
    """The order: the argument, then the cookies file, then the store ``aichat login``
    fills, then the browsers."""
    if argument:
        return ResolvedCookies(dict(argument), "argument")
    reasons: dict[str, str] = {}
    if cookies_file is not None:
        from_file = await cookies_file_cache.get(cookies_file, url)
        if from_file.values:
            return ResolvedCookies(from_file.values, "cookies_file")
        reasons["cookies_file"] = f"{os.fspath(cookies_file)!r} has no cookies for {host}"
    stored = await store_cache.get(store_path(host), url)
    if stored is not None:
        selected, login = stored
        if selected.values:
            return ResolvedCookies(selected.values, "store", login.user_agent)
        reasons["store"] = selected.why_none(host).replace("its ", "the saved ", 1) + (
            "; run 'aichat login' again"
        )
    if browsers:
        found = await browser_cookie_cache.get(
            url, browsers, missing=lambda more: missing_cookies_message(host, {**reasons, **more})
        )
        if found.cookies:
            return ResolvedCookies(found.cookies, f"browser:{found.browser}")
        reasons.update(found.reasons)
    raise MissingCookiesError(missing_cookies_message(host, reasons), reasons=reasons)


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


def parse_browsers(value: object) -> tuple[str, ...]:
    """The browsers to read, from a name or a list of names (None: every supported browser
    that has a version for this operating system)."""
    if value is None:
        return available_browsers()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise InvalidRequestError("browser must be a browser name or a list of names.")
    chosen: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key not in _config.SUPPORTED_BROWSERS:
            shown = repr(name[:40]) if name.isprintable() else "that name"
            raise InvalidRequestError(
                f"browser {shown} is not supported; use one of: "
                f"{', '.join(_config.SUPPORTED_BROWSERS)}."
            )
        if key not in chosen:
            chosen.append(key)
    return tuple(chosen)
