"""Cookies files: Netscape ``cookies.txt``, JSON exports, Playwright storage state and HAR.

Only regular files are read, and at most :data:`MAX_COOKIES_FILE_BYTES` of them: a FIFO, a device
(``/dev/zero``) or a directory is refused before a byte is read. Reading is blocking: the provider
runs it in a worker thread. Every format becomes ``http.cookiejar.Cookie`` objects, and
:func:`~._jar.select_cookies` keeps those a browser would send to the API URL.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from ..errors import InvalidRequestError
from ._jar import Selected, _is_ip, make_cookie, normalise_expiry, select_cookies
from ._values import check_cookie, parse_cookie_header

if TYPE_CHECKING:  # imported when a file is read: see _jar
    from http.cookiejar import Cookie, DefaultCookiePolicy

MAX_COOKIES_FILE_BYTES = 10 * 1024 * 1024
_IPV6_LINE = re.compile(r"\[[0-9A-Fa-f:.]*\]\s")


def read_text_file(path: Path, *, what: str, limit: int = MAX_COOKIES_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or InvalidRequestError.

    The file is opened without blocking (a FIFO would otherwise wait for a writer for ever) and
    checked to be a regular file before anything is read.
    """
    where = f"{what} {str(path)!r}"
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        relative = "" if path.is_absolute() else f", from the current folder {os.getcwd()!r}"
        raise InvalidRequestError(f"{where} does not exist; check the path{relative}.") from None
    except IsADirectoryError:
        raise InvalidRequestError(f"{where} is a directory, not a file.") from None
    except PermissionError:
        raise InvalidRequestError(f"{where} is not readable (permission denied).") from None
    except OSError as exc:
        raise InvalidRequestError(f"{where} cannot be opened ({_reason(exc)}).") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise InvalidRequestError(f"{where} is a directory, not a file.")
        if not stat.S_ISREG(mode):
            raise InvalidRequestError(
                f"{where} is not a regular file (a pipe, socket or device); save the cookies "
                "to a file and pass its path."
            )
        data = _read_at_most(descriptor, limit + 1)
    except OSError as exc:
        raise InvalidRequestError(f"{where} cannot be read ({_reason(exc)}).") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise InvalidRequestError(
            f"{where} is over {limit // (1024 * 1024)} MiB; a cookies file is far smaller."
        )
    # UTF-16 with its byte order mark is what Windows PowerShell 5 redirects a command into.
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise InvalidRequestError(
            f"{where} is not UTF-8 text; save it as UTF-8 (or export the cookies again)."
        ) from None


def _read_at_most(descriptor: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.read(descriptor, min(size, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _reason(exc: OSError) -> str:
    return exc.strerror or errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def read_cookies_file(path: Path, url: str) -> Selected:
    """Read any supported cookies file and keep the cookies a browser would send to ``url``."""
    where = f"cookies file {str(path)!r}"
    text = read_text_file(path, what="cookies file")
    return select_cookies(parse_cookies_text(text, where=where, url=url), url, where=where)


def parse_cookies_text(
    text: str, *, where: str = "cookies file", url: str | None = None
) -> list[Cookie]:
    """Every cookie in a cookies file's text, whatever its format (``url``: the API URL the
    cookies are read for, which a HAR recording's later entries are followed for)."""
    start = text.lstrip()
    # A cookies.txt line for an IPv6 address starts with "[" too: "[::1]<tab>FALSE<tab>...".
    if start.startswith("{") or (start.startswith("[") and not _IPV6_LINE.match(start)):
        return list(parse_json_cookies(text, where=where, url=url))
    return list(parse_netscape_cookies(text, where=where))


def parse_netscape_cookies(text: str, *, where: str = "cookies file") -> Iterator[Cookie]:
    """The Netscape ``cookies.txt`` format that curl, wget and browser add-ons write."""
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
        at = f"{where}, line {number}"
        if len(fields) != 7:
            raise InvalidRequestError(
                f"{at}: expected 7 tab-separated fields "
                "(domain, subdomains, path, secure, expiry, name, value)."
            )
        domain, subdomains, path, secure, expires, name, value = fields
        yield make_cookie(
            name,
            value,
            domain=domain,
            host_only=subdomains.strip().upper() != "TRUE",
            path=path.strip() or "/",
            secure=secure.strip().upper() == "TRUE",
            expires=_expiry_number(expires.strip() or "0", at, "the expiry"),
        )


def parse_json_cookies(
    text: str, *, where: str = "cookies file", url: str | None = None
) -> Iterator[Cookie]:
    """A JSON cookie export: a list of ``{"name", "value", "domain", ...}`` objects (browser
    add-ons, Selenium), Playwright's storage state (``{"cookies": [...]}``) or a HAR file."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidRequestError(
            f"{where} is neither valid JSON nor a cookies.txt file."
        ) from None
    if isinstance(data, dict) and isinstance(data.get("log"), dict):
        yield from _har_cookies(data["log"], where, url)
        return
    if isinstance(data, dict) and isinstance(data.get("cookies"), list):
        data = data["cookies"]
    if not isinstance(data, list):
        raise InvalidRequestError(
            f"{where}: expected a JSON list of cookie objects, Playwright's storage state or a "
            "HAR file."
        )
    for index, item in enumerate(data):
        yield _json_cookie(item, f"{where}, entry {index}")


def _json_cookie(item: object, at: str) -> Cookie:
    if not isinstance(item, dict):
        raise InvalidRequestError(f"{at} is not an object with 'name' and 'value'.")
    name, value = item.get("name"), item.get("value")
    if not isinstance(name, str):
        raise InvalidRequestError(f"{at} needs a string 'name'.")
    if not isinstance(value, str):
        check_cookie(name, value, where=at)  # raises, naming the cookie that lacks a value
        raise InvalidRequestError(f"{at} needs a string 'value'.")
    domain = item.get("domain", item.get("host", ""))
    path = item.get("path", "/")
    if not isinstance(domain, str) or not isinstance(path, str):
        raise InvalidRequestError(f"{at}: 'domain' and 'path' must be strings.")
    host_only = item.get("hostOnly")
    return make_cookie(
        name,
        value,
        domain=domain,
        host_only=host_only if isinstance(host_only, bool) else None,
        path=path or "/",
        secure=item.get("secure") is True,
        expires=_json_expiry(item, at),
    )


def _json_expiry(item: Mapping[str, object], at: str) -> float | None:
    if item.get("session") is True:
        return None
    for key in ("expirationDate", "expires", "expiry"):
        raw = item.get(key)
        if raw is None:
            continue
        if isinstance(raw, str):  # HAR writes ISO 8601 dates
            return _iso_expiry(raw, at, key)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise InvalidRequestError(f"{at}: {key!r} must be a number of seconds.")
        return _expiry_number(raw, at, repr(key))
    return None


def _expiry_number(raw: str | float, at: str, what: str) -> float | None:
    try:
        number = float(raw)
    except OverflowError:  # an integer too large for a float: the far future (or past)
        number = math.inf if raw > 0 else -math.inf  # type: ignore[operator]
    except ValueError:
        raise InvalidRequestError(f"{at}: {what} {str(raw)[:20]!r} is not a number.") from None
    try:
        return normalise_expiry(number)
    except ValueError:
        raise InvalidRequestError(f"{at}: {what} is not a number (NaN).") from None


def _iso_expiry(raw: str, at: str, key: str) -> float | None:
    try:
        from datetime import datetime

        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        seconds = when.timestamp()
    except (ValueError, OverflowError, OSError):
        raise InvalidRequestError(f"{at}: {key!r} {raw[:40]!r} is not a date.") from None
    return normalise_expiry(seconds) if math.isfinite(seconds) else None


def _har_cookies(log: Mapping[str, object], where: str, target: str | None) -> Iterator[Cookie]:
    """Cookies a HAR recording saw: those each request sent (for its own host, path /) and
    those each response set, stored as a browser would have stored them. Later entries win:
    of the cookies that go to ``target`` (the API URL), one that a later request would have
    sent but did not (it sent another value under the name) is gone, and one a request sent is
    replaced by a later response's cookie of its name that would have gone with that request.

    A HAR holds every site a page talked to: a response from another site must not choose the
    API host's cookies (session fixation), so each entry counts only for its own host.
    """
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise InvalidRequestError(f"{where}: a HAR file needs a 'log.entries' list.")
    held = _HeldCookies(target)
    for index, entry in enumerate(entries):
        at = f"{where}, entry {index}"
        if not isinstance(entry, dict):
            raise InvalidRequestError(f"{at} is not an object.")
        request = entry.get("request")
        response = entry.get("response")
        if not isinstance(request, dict):
            continue
        url = request.get("url")
        host = _host(url) if isinstance(url, str) else ""
        if not host:
            continue
        assert isinstance(url, str)  # _host found a host in it
        held.sent(url, host, list(_request_cookies(request, at)))
        if isinstance(response, dict):
            for item in _list(response.get("cookies")):
                cookie = _response_cookie(item, f"{at}, response cookie", url, host)
                if cookie is not None:
                    held.set(cookie)
    return held.cookies()


class _Request(NamedTuple):
    """Where a request went: what decides which cookies a browser sends with it."""

    host: str
    path: str
    https: bool

    @classmethod
    def of(cls, url: str) -> _Request:
        parts = urlsplit(url)
        https = parts.scheme.lower() in ("https", "wss")
        return cls((parts.hostname or "").lower(), parts.path or "/", https)

    def gets(self, cookie: Cookie) -> bool:
        """Whether a browser holding ``cookie`` sends it with this request (RFC 6265 5.4:
        domain, path and Secure)."""
        if cookie.secure and not self.https:
            return False
        bare = cookie.domain.lstrip(".")
        if self.host != bare and not (
            cookie.domain.startswith(".") and self.host.endswith("." + bare)
        ):
            return False
        own = cookie.path or "/"
        return self.path == own or self.path.startswith(own if own.endswith("/") else own + "/")


class _HeldCookies:
    """The cookies a browser holds while a HAR recording goes on, in the order they came.

    Only those that go to the target URL are followed (name -> domain and path -> where they
    sit and the request that sent them): a few per name, so a recording is read in linear time.
    """

    def __init__(self, target: str | None) -> None:
        self._held: list[Cookie | None] = []  # None once gone
        self._target = None if target is None else _Request.of(target)
        self._live: dict[str, dict[tuple[str, str], tuple[int, _Request | None]]] = {}

    def sent(self, url: str, host: str, cookies: list[tuple[str, str]]) -> None:
        """A request to ``url`` sent ``cookies``: what the browser held for it under their names."""
        if not cookies:
            return
        request = _Request.of(url)
        values: dict[str, set[str]] = {}
        for name, value in cookies:
            values.setdefault(name, set()).add(value)
        for name, sent in values.items():
            for key, (cookie, _) in self._following(name):
                if request.gets(cookie) and cookie.value not in sent:
                    self._forget(name, key)
        for name, value in cookies:
            cookie = make_cookie(name, value, domain=host, host_only=True, secure=request.https)
            self._add(cookie, request)

    def set(self, cookie: Cookie) -> None:
        """A response set ``cookie``: it replaces what earlier requests it would have gone with
        sent under its name."""
        name = str(cookie.name)
        for key, (_, sent_by) in self._following(name):
            if sent_by is not None and sent_by.gets(cookie):
                self._forget(name, key)
        self._add(cookie, None)

    def _following(self, name: str) -> list[tuple[tuple[str, str], tuple[Cookie, _Request | None]]]:
        """The followed cookies ``name`` (by domain and path) and the request that sent each."""
        held = self._held
        return [
            (key, (cookie, sent_by))
            for key, (index, sent_by) in self._live.get(name, {}).items()
            if (cookie := held[index]) is not None
        ]

    def _forget(self, name: str, key: tuple[str, str]) -> None:
        index, _ = self._live[name].pop(key)
        self._held[index] = None

    def _add(self, cookie: Cookie, by: _Request | None) -> None:
        if self._target is not None and self._target.gets(cookie):
            live = self._live.setdefault(str(cookie.name), {})
            key = (cookie.domain, cookie.path)
            if key in live:  # the same domain, path and name: it replaces the earlier cookie
                self._held[live[key][0]] = None
            live[key] = (len(self._held), by)
        self._held.append(cookie)

    def cookies(self) -> Iterator[Cookie]:
        return (cookie for cookie in self._held if cookie is not None)


def _response_cookie(item: object, at: str, url: str, host: str) -> Cookie | None:
    """A cookie a response from ``url`` set, as a browser stores it (RFC 6265 5.3), or None
    where a browser refuses it: a ``Domain`` the response's host does not domain-match."""
    parsed = _json_cookie(item, at)  # checks the fields' types
    assert isinstance(item, dict)  # _json_cookie raised otherwise
    attribute = str(item.get("domain", item.get("host")) or "").strip().lower()
    domain = attribute.lstrip(".").strip("[]")
    if domain and not _may_set_domain(domain, url, host):
        return None
    path = item.get("path")
    return make_cookie(
        str(parsed.name),
        str(parsed.value),
        domain=domain or host,
        host_only=not domain,  # no Domain attribute: the setting host's alone
        path=path if isinstance(path, str) and path.startswith("/") else _default_path(url),
        secure=bool(parsed.secure),
        expires=parsed.expires,
    )


#: strict_domain also refuses ``Domain=co.uk``-style two-letter country suffixes.
@cache
def _set_policy() -> DefaultCookiePolicy:
    from http.cookiejar import DefaultCookiePolicy

    return DefaultCookiePolicy(strict_domain=True)


def _may_set_domain(domain: str, url: str, host: str) -> bool:
    """Whether a response from ``url`` may set a cookie for ``domain`` and its subdomains: its
    host must domain-match it, a parent domain but no bare suffix (the stdlib's policy)."""
    if _is_ip(domain) or _is_ip(host):
        return domain == host  # an address is nobody's parent domain, nor has one
    # the cookie as http.cookiejar builds it from a Set-Cookie with Domain=domain
    probe = make_cookie("n", "", domain=domain, host_only=False)
    try:
        import urllib.request

        request = urllib.request.Request(url)  # noqa: S310  # built to ask the policy, never opened
    except ValueError:
        return False
    return _set_policy().set_ok(probe, request)


def _default_path(url: str) -> str:
    """RFC 6265 5.1.4: the request path up to, not including, its last slash."""
    path = urlsplit(url).path
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


def _request_cookies(request: Mapping[str, object], at: str) -> Iterable[tuple[str, str]]:
    listed = _list(request.get("cookies"))
    if listed:
        for cookie in listed:
            if isinstance(cookie, dict):
                name, value = cookie.get("name"), cookie.get("value")
                if isinstance(name, str) and isinstance(value, str):
                    yield name, value
        return
    for header in _list(request.get("headers")):
        if (
            isinstance(header, dict)
            and str(header.get("name", "")).lower() == "cookie"
            and isinstance(header.get("value"), str)
        ):
            yield from parse_cookie_header(str(header["value"]), where=f"{at}, Cookie").items()


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
