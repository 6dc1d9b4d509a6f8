"""Which stored cookies a browser would send with a request: the standard library decides.

Every source (a browser profile, a cookies file, a ``CookieJar`` argument) becomes
``http.cookiejar.Cookie`` objects, and ``http.cookiejar``'s own policy picks the ones that go
with ``POST {base_url}/api/text``: domain and host-only cookies, path, ``Secure`` (https only)
and expiry.
Two quirks are smoothed over here: Firefox stores expiry in milliseconds, and ``http.cookiejar``
calls a host without dots (``localhost``) ``localhost.local``.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from ._values import check_cookie

# http.cookiejar pulls in urllib.request, http.client and email (most of the package's import
# time): it is imported by the functions that read cookies from a file, a browser or a jar.
if TYPE_CHECKING:
    import urllib.request
    from http.cookiejar import Cookie, DefaultCookiePolicy


class _CookieJarType(type):
    def __instancecheck__(cls, instance: object) -> bool:
        module = sys.modules.get("http.cookiejar")
        return module is not None and isinstance(instance, module.CookieJar)

    def __subclasscheck__(cls, subclass: type) -> bool:
        module = sys.modules.get("http.cookiejar")
        return module is not None and issubclass(subclass, module.CookieJar)


class AnyCookieJar(metaclass=_CookieJarType):
    """``isinstance(value, AnyCookieJar)`` is ``isinstance(value, http.cookiejar.CookieJar)``,
    without importing ``http.cookiejar``: a jar exists only once someone imported it."""


#: 3000-01-01T00:00:00Z: later expiry dates are read as "never expires". It stays below
#: ``_MILLISECONDS_FROM``, so normalising twice changes nothing.
MAX_EXPIRY = 32_503_680_000.0
#: An expiry past this many seconds (year 5138) is a timestamp in milliseconds, as Firefox 153
#: stores it.
_MILLISECONDS_FROM = 1e11


def normalise_expiry(raw: float) -> float | None:
    """Seconds since the epoch from a stored expiry: None for a session cookie (0 or below).

    Raises ValueError for NaN; milliseconds become seconds; the far future is capped.
    """
    if math.isnan(raw):
        raise ValueError("not a number")
    if raw <= 0:
        return None
    if raw > _MILLISECONDS_FROM:
        raw = raw / 1000 if math.isfinite(raw) else raw
    return min(float(raw), MAX_EXPIRY)


def make_cookie(
    name: str,
    value: str,
    *,
    domain: str,
    host_only: bool | None = None,
    path: str = "/",
    secure: bool = False,
    expires: float | None = None,
) -> Cookie:
    """A version-0 cookie as a browser stores it.

    ``host_only`` None reads the domain the browser way: a leading dot marks a domain cookie.
    """
    bare = domain.strip().lower().lstrip(".")
    if host_only is None:
        host_only = not domain.strip().startswith(".")
    stored_domain = bare if host_only else "." + bare
    from http.cookiejar import Cookie

    return Cookie(
        0,
        name,
        value,
        None,
        False,
        stored_domain,
        not host_only,
        not host_only,
        path if path.startswith("/") else "/",
        True,
        secure,
        None if expires is None else int(expires),
        False,
        None,
        None,
        {},
    )


@dataclass(frozen=True, repr=False)
class Selected:
    """The cookies that go with one request, in the order a browser sends them, and why the
    others stay behind (``skipped``: reason -> cookie names, for messages)."""

    values: dict[str, str] = field(default_factory=dict)
    #: Name -> expiry in seconds since the epoch, None for a session cookie.
    expiries: dict[str, float | None] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def __repr__(self) -> str:  # names only: values are secrets
        return f"Selected(names={list(self.values)}, skipped={self.skipped!r})"

    def why_none(self, host: str, *, again: str = "") -> str:
        """Why no cookie goes to ``host``, in words with the next step (``again``: how to get
        new ones, when they expired; logging in to ``host``, unless said)."""
        skipped = self.skipped
        if skipped.get(EXPIRED):
            names = ", ".join(skipped[EXPIRED][:5])
            again = again or f"log in to {host} again"
            return f"its cookies for {host} have expired ({names}); {again}"
        if skipped.get(HTTPS_ONLY):
            return (
                f"its cookies for {host} are Secure (sent over https only) and base_url uses "
                "http; use the https:// address"
            )
        if skipped.get(OTHER_PATH):
            return f"its cookies for {host} belong to other paths than /api/text"
        if skipped.get(TOO_WIDE):
            domains = ", .".join(sorted(set(skipped[TOO_WIDE]))[:3])
            return (
                f"its cookies for {host} are set for all of .{domains}, which a browser never "
                f"sends; export them again from a browser logged in to {host}"
            )
        if skipped.get(OTHER_HOST):
            domains = ", ".join(sorted(set(skipped[OTHER_HOST]))[:3])
            return f"it has cookies only for {domains}, not for {host}; check base_url"
        return f"no cookies for {host}"


#: Why a cookie was not sent (the keys of ``Selected.skipped``).
EXPIRED, HTTPS_ONLY, OTHER_PATH, OTHER_HOST = "expired", "https", "path", "host"
#: Set for a whole top-level domain or public suffix (``.org``), so for other sites too.
TOO_WIDE = "suffix"


def _policy() -> DefaultCookiePolicy:
    from http.cookiejar import DefaultCookiePolicy

    # DomainStrictNonDomain: a host-only cookie goes to its own host only, not its subdomains.
    return DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)


def select_cookies(
    cookies: Iterable[Cookie], url: str, *, where: str = "cookies", any_path: bool = False
) -> Selected:
    """The unexpired cookies among ``cookies`` that a browser would send to ``url``.

    ``any_path`` keeps cookies of every path on the host (what "the site's cookies" means to a
    person). A cookie that would be sent but cannot travel in a header (bad name or value)
    raises InvalidRequestError; one that would not be sent is never looked at.
    """
    import urllib.request
    from http.cookiejar import CookieJar

    request = urllib.request.Request(url)  # noqa: S310  # built to ask the policy, never opened
    # http.cookiejar's own name for the host: "localhost.local", "[::1].local", "127.0.0.1"
    request_host = re.sub(r":\d+$", "", request.host or "").lower()
    jar_host = request_host if "." in request_host else request_host + ".local"
    host = request_host.strip("[]")
    numeric = _is_ip(host)
    jar = CookieJar(_policy())
    originals: list[Cookie] = []
    too_wide: set[int] = set()
    for cookie in cookies:
        if cookie.value is None:
            continue
        # The jar sees a placeholder value, so what comes back names the cookie unambiguously
        # whatever its real value holds.
        domain = cookie.domain
        if not domain.strip("."):
            domain = host  # a cookie that names no domain is meant for the host asked about
        bare = domain.lstrip(".").strip("[]").lower()
        # The host's own cookie, however written ("[::1]" as Chrome keeps an IPv6 host).
        if bare == host:
            domain = "." + jar_host if domain.startswith(".") else jar_host
        elif numeric:
            domain = "!" + bare  # no domain cookie ever goes to an IP address
        elif _too_wide(cookie, bare, jar_host, request):
            domain = "!" + bare
            too_wide.add(len(originals))
        jar.set_cookie(_stand_in(cookie, domain, f"c{len(originals)}", any_path))
        originals.append(cookie)
    if not originals:
        return Selected()
    jar.add_cookie_header(request)
    header = request.get_header("Cookie") or ""
    values: dict[str, str] = {}
    expiries: dict[str, float | None] = {}
    sent = {
        int(placeholder[1:])
        for part in header.split("; ")
        if (placeholder := part.rpartition("=")[2]).startswith("c")
    }
    # A browser sends the longer path first, then the older cookie, which an export lists
    # first (the jar would order by the first domain it saw instead).
    paths = {index: "/" if any_path else originals[index].path or "/" for index in sent}
    for index in sorted(sent, key=lambda index: (-len(paths[index]), index)):
        cookie = originals[index]
        if cookie.name in values:
            continue  # the same name, sent after the one a server reads
        name, value = check_cookie(cookie.name, cookie.value, where=where)
        values[name] = value
        expiries[name] = _expiry(cookie)
    skipped: dict[str, list[str]] = {}
    for index, cookie in enumerate(originals):
        if index in too_wide:
            skipped.setdefault(TOO_WIDE, []).append(cookie.domain.lstrip(".").lower())
        elif index not in sent:
            reason, label = _why_not_sent(cookie, request, host)
            skipped.setdefault(reason, []).append(label)
    return Selected(values, expiries, skipped)


def _too_wide(cookie: Cookie, bare: str, jar_host: str, request: urllib.request.Request) -> bool:
    """Whether a domain cookie that is not the host's own would reach it only through a rule no
    browser has: one for a whole top-level domain (``.org``) or a ``co.uk``-style suffix, which
    the standard library's strict policy would never have stored, or, for a dotless host (which
    http.cookiejar calls ``localhost.local``), one for ``.local`` or a name under it."""
    domain_cookie = cookie.domain.startswith(".") or bool(cookie.domain_specified)
    if not domain_cookie or not ("." + jar_host).endswith("." + bare):
        return False  # a host-only cookie, or another site's: the policy keeps it back
    if "." not in jar_host.removesuffix(".local"):
        return True  # a dotless host has no parent domain
    probe = make_cookie("n", "", domain=bare, host_only=False)
    return not _strict_policy().set_ok_domain(probe, request)


@cache
def _strict_policy() -> DefaultCookiePolicy:
    from http.cookiejar import DefaultCookiePolicy

    return DefaultCookiePolicy(strict_domain=True)


def _why_not_sent(cookie: Cookie, request: urllib.request.Request, host: str) -> tuple[str, str]:
    """The first rule a browser would have applied to keep ``cookie`` back, and what to name."""
    bare = cookie.domain.lstrip(".").lower()
    host_only = not cookie.domain.startswith(".")
    parent = not host_only and host.endswith("." + bare) and not _is_ip(host)
    if bare and not (host == bare or parent):
        return OTHER_HOST, bare
    expiry = _expiry(cookie)
    if expiry is not None and expiry <= time.time():
        return EXPIRED, str(cookie.name)
    if _secure(cookie) and request.type != "https":
        return HTTPS_ONLY, str(cookie.name)
    return OTHER_PATH, str(cookie.name)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _expiry(cookie: Cookie) -> float | None:
    if not cookie.expires:
        return None
    try:
        return normalise_expiry(float(cookie.expires))
    except (TypeError, ValueError, OverflowError):
        return None


def _secure(cookie: Cookie) -> bool:
    """Whether ``cookie`` goes over https only: its Secure flag, or a ``__Secure-`` or ``__Host-``
    name (RFC 6265bis: a browser stores those only with the flag, whatever an export wrote)."""
    name = cookie.name.lower() if isinstance(cookie.name, str) else ""
    return bool(cookie.secure) or name.startswith(("__secure-", "__host-"))


def _stand_in(cookie: Cookie, domain: str, value: str, any_path: bool) -> Cookie:
    from http.cookiejar import Cookie

    expires = _expiry(cookie)
    return Cookie(
        0,
        cookie.name if isinstance(cookie.name, str) and cookie.name else "_",
        value,
        None,
        False,
        domain,
        cookie.domain_specified,
        cookie.domain_initial_dot,
        "/" if any_path else cookie.path or "/",
        cookie.path_specified,
        _secure(cookie),
        None if expires is None else int(expires),
        cookie.discard,
        None,
        None,
        {},
    )
