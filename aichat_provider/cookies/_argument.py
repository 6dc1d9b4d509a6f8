"""The ``cookies`` argument of a call: a dict, a ``CookieJar`` or a header string, checked into a
dict before any I/O. The provider sends it as it is, without asking the other sources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import InvalidRequestError
from ._jar import select_cookies
from ._values import checked_mapping, parse_cookie_header

if TYPE_CHECKING:
    from http.cookiejar import CookieJar
else:  # isinstance() checks without importing http.cookiejar (see _jar)
    from ._jar import AnyCookieJar as CookieJar


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
