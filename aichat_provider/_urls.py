"""Checking the URLs a call names: the service's ``base_url`` and the ``proxy``.

A base URL is normalised the way a browser would send it: the host in IDNA (``bücher.example`` ->
``xn--bcher-kva.example``) and the path percent-encoded, so curl never sees a character it cannot
put on the wire. Nothing here does I/O.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote_to_bytes, urlsplit

from . import _constants
from ._redact import redact_url
from .errors import InvalidRequestError

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
#: Anything but printable ASCII, which a proxy URL may not contain once it is checked.
_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")
#: What a host name (after IDNA) or an IP address may be made of; only an IPv6 address has a
#: zone after '%' (curl decodes any other '%' and looks up, or refuses, another name).
_HOST = re.compile(r"[a-z0-9._\-]+|[0-9a-f.]*:[0-9a-f:.]*(%[a-z0-9._~\-]+)?")
#: A proxy's ``host[:port]`` as curl reads it: a name or IPv4 address, or an IPv6 address in
#: brackets (zone allowed); curl refuses anything else ("Bad hostname", text around brackets).
_PROXY_HOST_PORT = re.compile(r"(?:[a-z0-9._\-]+|\[[0-9a-f:.]+(?:%[a-z0-9._~\-]+)?\])(?::[0-9]*)?")
#: What curl ends a URL's authority with; Python's urlsplit ends it there too.
_AUTHORITY_END = re.compile(r"[/?#]")


class Endpoints(NamedTuple):
    """The parts of a checked ``base_url`` each call needs (computed once per base URL)."""

    base_url: str
    host: str
    #: ``scheme://host[:port]``, the ``Origin`` a browser sends.
    origin: str
    api_url: str
    referer: str


def parse_base_url(value: object) -> Endpoints:
    """Check ``base_url`` (None: the default) and return its endpoints, or InvalidRequestError."""
    if value is None:
        return _endpoints(_constants.DEFAULT_BASE_URL)
    if not isinstance(value, str):
        raise InvalidRequestError(f"base_url must be a string, not {type(value).__name__}.")
    return _endpoints(value)


@lru_cache(maxsize=64)  # an app sends every call to the same few URLs
def _endpoints(value: str) -> Endpoints:
    shown = redact_url(value)[:200]
    if not value.isprintable() or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidRequestError(
            "base_url contains a control character, a line break or an invalid character."
        )
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise InvalidRequestError(f"base_url {shown!r} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"base_url must be an http:// or https:// URL with a host; got {shown!r}."
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidRequestError("base_url must not contain a user name or password.")
    if parts.query or parts.fragment:
        raise InvalidRequestError("base_url must not have a query string or fragment.")
    host = _ascii_host(parts.hostname, shown)
    if not _HOST.fullmatch(host) or ".." in host or host.startswith("."):
        raise InvalidRequestError(f"base_url {shown!r} does not name a valid host.")
    if port == 0:
        raise InvalidRequestError(
            f"base_url {shown!r} has port 0; give the port the service listens on (1 to 65535), "
            "or none for the scheme's own."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    # Percent-encode what is not ASCII in the path (as a browser does); keep existing escapes.
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~").rstrip("/")
    base_url = f"{parts.scheme}://{netloc}{path}"
    origin = f"{parts.scheme}://{netloc}"
    return Endpoints(base_url, host, origin, f"{base_url}/api/text", f"{base_url}/chat")


def _ascii_host(hostname: str, shown: str) -> str:
    if hostname.isascii():
        return hostname.lower()
    try:
        return hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidRequestError(
            f"base_url {shown!r} has a host name that is not a valid international domain name."
        ) from None


def parse_proxy(value: object) -> str | None:
    """Check a proxy URL; messages never show its credentials."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"proxy must be a URL string, not {type(value).__name__}.")
    return _checked_proxy(value)


@lru_cache(maxsize=64)
def _checked_proxy(value: str) -> str:
    shown = redact_url(value)[:200]
    if _NOT_PRINTABLE.search(value):
        raise InvalidRequestError(
            f"proxy {_printable(shown)!r} contains white space, control or non-ASCII characters."
        )
    if "://" not in value:
        raise InvalidRequestError(
            f"proxy {shown!r} must start with one of {_schemes()} (for example 'http://host:3128')."
        )
    rest = value.partition("://")[2]
    authority = _AUTHORITY_END.split(rest, maxsplit=1)[0]
    # curl takes the user name and password up to the *first* '@' and Python's urlsplit up to
    # the last; both end them at a '/', '?' or '#'. A second '@', or one after such a character,
    # is a password that was not percent-encoded, which curl refuses or sends to another host.
    if rest.count("@") > 1 or ("@" in rest and "@" not in authority):
        raise InvalidRequestError(
            f"proxy {shown!r}: percent-encode the user name and password, writing '@' as %40, "
            "'/' as %2F, '?' as %3F, '#' as %23, '%' as %25 and, in the user name, ':' as %3A "
            "(urllib.parse.quote(password, safe=''))."
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise InvalidRequestError(f"proxy {shown!r} is not a valid URL (bad port?).") from None
    if parts.scheme.lower() not in PROXY_SCHEMES:
        raise InvalidRequestError(f"proxy {shown!r} must start with one of {_schemes()}.")
    if not parts.hostname:
        raise InvalidRequestError(f"proxy {shown!r} has no host.")
    credentials, _, host_port = parts.netloc.rpartition("@")
    if not _PROXY_HOST_PORT.fullmatch(host_port.lower()):
        raise InvalidRequestError(
            f"proxy {shown!r} does not name a valid host: a host name, an IPv4 address or an "
            "IPv6 address in brackets, then ':port'."
        )
    if port == 0:
        raise InvalidRequestError(
            f"proxy {shown!r} has port 0; give the port the proxy listens on (1 to 65535)."
        )
    # curl decodes the credentials and refuses a control character in them (curl error 3).
    if any(byte < 0x20 for byte in unquote_to_bytes(credentials)):
        raise InvalidRequestError(
            f"proxy {shown!r} has a percent-encoded control character (%00 to %1F) in its user "
            "name or password, which curl refuses; check how the URL was built."
        )
    return value


def _schemes() -> str:
    return ", ".join(scheme + "://" for scheme in PROXY_SCHEMES)


def _printable(text: str) -> str:
    return _NOT_PRINTABLE.sub("?", text)
