"""The cookie sources a call asks when it was given no cookies, in order, first with cookies wins.

A source is an object with one small interface (:class:`CookieSource`): a ``name``, ``find`` (the
cookies for a URL, or why there are none), ``examine`` (what ``aichat doctor`` says about it)
and ``rejected`` (the service refused what it found). :func:`resolve_cookies` and
``aichat doctor`` walk the same list, :data:`SOURCES`: a new source is a class here and an entry
in that list. The call's own ``cookies`` argument comes before all of them; the provider sends it
without asking any.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar, Literal

from .. import _constants
from ..errors import InvalidRequestError, MissingCookiesError
from ._browsers import NOT_INSTALLED, load_browser_cookies
from ._cache import BrowserCookieCache, ChangedFileCache, within
from ._files import read_cookies_file
from ._jar import Selected
from ._store import StoredLogin, load_login, store_path


@dataclass(frozen=True)
class CookieQuery:
    """What the sources are asked for: the cookies for ``url`` (on ``host``), with the settings
    of the call that say where to look."""

    url: str
    host: str
    cookies_file: Path | None
    browsers: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class ResolvedCookies:
    """The cookies a call sends; ``source`` names where they came from (``"argument"``,
    ``"cookies_file"``, ``"store"`` or ``"browser:<name>"``), ``found_by`` is the source object
    (None when no source found them: the argument, a refresh). Cookies from the store bring the
    user agent of the browser that earned them."""

    cookies: dict[str, str]
    source: str
    user_agent: str | None = None
    found_by: CookieSource | None = None

    def __repr__(self) -> str:  # names only: values are secrets
        return f"ResolvedCookies(source={self.source!r}, names={list(self.cookies)})"

    def rejected(self, url: str) -> None:
        """The service refused these cookies: their source forgets what it kept of them."""
        if self.found_by is not None:
            self.found_by.rejected(url)


Verdict = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Finding:
    """One line of ``aichat doctor`` about a source: never a cookie value."""

    verdict: Verdict
    check: str
    detail: str
    #: The file the cookies were found in, shown after ``check``.
    path: Path | None = None
    #: The names of the cookies found, and how the doctor names this source when one of them
    #: is ``cf_clearance``.
    names: tuple[str, ...] = ()
    place: str = ""
    #: The user agent saved with the cookies (the cookie store keeps the browser's).
    user_agent: str | None = None


class CookieSource(ABC):
    """One place a call's cookies may come from."""

    #: How ``MissingCookiesError.reasons`` and ``ResolvedCookies.source`` name it (the browsers
    #: name each browser).
    name: ClassVar[str]

    @abstractmethod
    async def find(self, query: CookieQuery) -> ResolvedCookies | dict[str, str]:
        """The cookies for ``query.url``, or why there are none (empty: the call did not ask
        this source, or it holds nothing for the host). Never blocks the event loop."""

    @abstractmethod
    def examine(self, query: CookieQuery) -> Iterator[Finding]:
        """What ``aichat doctor`` says about this source, read afresh (blocking)."""

    def rejected(self, url: str) -> None:  # noqa: B027  # a hook: most sources keep nothing
        """The service refused cookies this source found for ``url``: forget what was kept."""


def describe_cookies(cookies: Mapping[str, str], expiries: Mapping[str, float | None]) -> str:
    """Names and expiry dates, never values."""
    parts = []
    for name in cookies:
        expiry = expiries.get(name)
        when = "session" if expiry is None else time.strftime("%Y-%m-%d", time.gmtime(expiry))
        parts.append(f"{name} (expires {when})")
    return ", ".join(parts)


def _found(host: str, cookies: Mapping[str, str], expiries: Mapping[str, float | None]) -> str:
    return f"{len(cookies)} for {host}: {describe_cookies(cookies, expiries)}"


cookies_file_cache: ChangedFileCache[Selected] = ChangedFileCache(read_cookies_file)


class CookiesFile(CookieSource):
    """The file of ``cookies_file=`` (or ``$AICHAT_COOKIES_FILE``), parsed again when it changes."""

    name = "cookies_file"

    async def find(self, query: CookieQuery) -> ResolvedCookies | dict[str, str]:
        if query.cookies_file is None:
            return {}
        selected = await cookies_file_cache.get(query.cookies_file, query.url)
        if selected.values:
            return ResolvedCookies(selected.values, self.name, found_by=self)
        return {self.name: _why_none_in_file(query.cookies_file, selected, query.host)}

    def examine(self, query: CookieQuery) -> Iterator[Finding]:
        check, host = "cookies file", query.host
        if query.cookies_file is None:
            yield Finding(
                "skip", check, f"none given (--cookies-file or {_constants.ENV_COOKIES_FILE})"
            )
            return
        try:
            selected = read_cookies_file(query.cookies_file, query.url)
        except InvalidRequestError as error:
            yield Finding("fail", check, f"{error} Fix or re-export it.")
            return
        if selected.values:
            yield Finding(
                "ok",
                check,
                _found(host, selected.values, selected.expiries),
                names=(*selected.values,),
                place=check,
            )
        else:
            yield Finding("warn", check, _why_none_in_file(query.cookies_file, selected, host))


def _why_none_in_file(path: Path, selected: Selected, host: str) -> str:
    """Why a cookies file sends nothing to ``host``: it holds none for it, or why those it holds
    stay behind (expired, Secure over http, another host), with the next step."""
    export = f"export them again while logged in to {host}"
    if not selected.skipped:
        return f"{os.fspath(path)!r} has no cookies for {host}; {export}"
    return f"{os.fspath(path)!r}: {selected.why_none(host, again=export)}"


def _read_store(path: Path, url: str) -> tuple[Selected, StoredLogin] | None:
    login = load_login(path.stem) if path.exists() else None
    return None if login is None else (login.select(url), login)


#: The cookie store, looked at again only when ``aichat login`` or a refresh wrote to it.
store_cache: ChangedFileCache[tuple[Selected, StoredLogin] | None] = ChangedFileCache(_read_store)


class CookieStore(CookieSource):
    """What ``aichat login`` saved for the host, with the user agent of its browser."""

    name = "store"

    async def find(self, query: CookieQuery) -> ResolvedCookies | dict[str, str]:
        stored = await store_cache.get(store_path(query.host), query.url)
        if stored is None:
            return {}
        selected, login = stored
        if selected.values:
            return ResolvedCookies(selected.values, self.name, login.user_agent, self)
        return {self.name: _why_none_with_login(selected, query.host)}

    def examine(self, query: CookieQuery) -> Iterator[Finding]:
        check, host = "cookie store", query.host
        try:
            stored = load_login(host)
        except InvalidRequestError as error:
            yield Finding("fail", check, str(error))
            return
        if stored is None:
            yield Finding("skip", check, f"nothing saved for {host} ('aichat login' saves cookies)")
            return
        selected = stored.select(query.url)
        saved = time.strftime("%Y-%m-%d", time.gmtime(stored.saved_at))
        if selected.values:
            yield Finding(
                "ok",
                check,
                f"{_found(host, selected.values, selected.expiries)}; saved {saved} by "
                f"{stored.browser or 'a browser'}",
                path=stored.path,
                names=(*selected.values,),
                place="the cookie store",
                user_agent=stored.user_agent,
            )
        else:
            yield Finding("warn", check, f"{_why_none_with_login(selected, host)} (saved {saved})")


def _why_none_with_login(selected: Selected, host: str) -> str:
    """Why the saved cookies send nothing to ``host``, and that a new login is the way out
    (said once, also when they expired)."""
    login = "run 'aichat login' again"
    why = selected.why_none(host, again=login).replace("its ", "the saved ", 1)
    return why if why.endswith(login) else f"{why}; {login}"


browser_cookie_cache = BrowserCookieCache()


class Browsers(CookieSource):
    """The browsers named by ``browser=`` (all supported ones by default), first with cookies
    wins; a read is reused for a short time, and dropped when the service refuses it."""

    name = "browser"

    async def find(self, query: CookieQuery) -> ResolvedCookies | dict[str, str]:
        if not query.browsers:
            return {}
        found = await browser_cookie_cache.get(query.url, query.browsers)
        if found.cookies:
            return ResolvedCookies(found.cookies, f"{self.name}:{found.browser}", found_by=self)
        return found.reasons

    def examine(self, query: CookieQuery) -> Iterator[Finding]:
        for browser in query.browsers:
            check = f"browser {browser}"
            read = partial(load_browser_cookies, query.url, (browser,))
            try:
                found = within(_constants.BROWSER_LOAD_TIMEOUT, read)
            except Exception as exc:  # a loader failing in a way browser_cookie3 does not wrap
                yield Finding("warn", check, f"could not be read ({type(exc).__name__})")
                continue
            if found is None:
                yield Finding(
                    "warn",
                    check,
                    f"reading it took over {_constants.BROWSER_LOAD_TIMEOUT:g} s (locked profile "
                    "or a keyring that does not answer); close the browser or use a file",
                )
            elif found.cookies:
                yield Finding(
                    "ok",
                    check,
                    _found(query.host, found.cookies, found.expiries),
                    path=found.profile,
                    names=(*found.cookies,),
                    place=browser,
                )
            else:
                reason = found.reasons.get(browser, "nothing found")
                quiet = reason == NOT_INSTALLED or reason.startswith("no cookies")
                yield Finding("skip" if quiet else "warn", check, reason)

    def rejected(self, url: str) -> None:
        browser_cookie_cache.invalidate(url)


#: The order the sources are asked in.
SOURCES: tuple[CookieSource, ...] = (CookiesFile(), CookieStore(), Browsers())


def missing_cookies_message(host: str, reasons: Mapping[str, str]) -> str:
    """The three ways to supply cookies, then what each source said, alike reasons grouped."""
    grouped: dict[str, list[str]] = {}
    for source, why in reasons.items():
        grouped.setdefault(why, []).append(source)
    tried = "; ".join(f"{', '.join(sources)}: {why}" for why, sources in grouped.items())
    return (
        f"No cookies for {host} were found. Pass cookies={{...}} (or a 'name=value; ...' string), "
        f"point cookies_file= or {_constants.ENV_COOKIES_FILE} at a cookies.txt or JSON export, "
        f"run 'aichat login' (it saves them for every later call), or log in to {host} in a "
        "supported browser on this machine." + (f" Tried: {tried}." if tried else "")
    )


async def resolve_cookies(
    *, url: str, host: str, cookies_file: Path | None, browsers: Sequence[str]
) -> ResolvedCookies:
    """The cookies of the first source in :data:`SOURCES` that has some for ``url``."""
    query = CookieQuery(url, host, cookies_file, tuple(browsers))
    reasons: dict[str, str] = {}
    for source in SOURCES:
        found = await source.find(query)
        if isinstance(found, ResolvedCookies):
            return found
        reasons.update(found)
    raise MissingCookiesError(missing_cookies_message(host, reasons), reasons=reasons)
