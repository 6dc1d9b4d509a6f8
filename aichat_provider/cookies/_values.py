"""Cookie names and values: what may be sent, and the ``"a=1; b=2"`` header form.

Checks are set look-ups over the whole string (no regular expression that could stop before a
final newline), and an error names the cookie but never shows its value.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InvalidRequestError

#: RFC 6265 cookie-name characters (an HTTP token).
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
#: What may travel in a header value: tab and printable ASCII.
_SENDABLE = frozenset("\t" + "".join(chr(code) for code in range(0x20, 0x7F)))
_COOKIE_VALUE = _SENDABLE - {";"}
#: The longest cookie (name and value) a browser keeps (RFC 6265bis 5.7): a longer one is damage.
MAX_COOKIE_BYTES = 4096


def is_token(text: str) -> bool:
    """Whether ``text`` is a non-empty HTTP token (a valid header or cookie name)."""
    return bool(text) and _TOKEN.issuperset(text)


def is_sendable(text: str) -> bool:
    """Whether ``text`` can be sent as a header value: tab and printable ASCII only."""
    return _SENDABLE.issuperset(text)


def check_cookie(name: object, value: object, *, where: str) -> tuple[str, str]:
    """Validate one cookie; the error names the cookie but never shows its value."""
    if not isinstance(name, str) or not is_token(name):
        shown = _shown_name(name)
        raise InvalidRequestError(f"{where}: {shown} is not a valid cookie name.")
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{where}: cookie {name!r} must have a string value, not {type(value).__name__}."
        )
    if not _COOKIE_VALUE.issuperset(value):
        raise InvalidRequestError(
            f"{where}: cookie {name!r} has a control character, a non-ASCII character or ';' "
            "in its value."
        )
    if len(name) + len(value) > MAX_COOKIE_BYTES:  # ASCII by now: characters are bytes
        raise InvalidRequestError(
            f"{where}: cookie {_shown_name(name)} is {len(name) + len(value)} bytes long (name "
            f"and value), over the {MAX_COOKIE_BYTES} a browser keeps; export the cookies again."
        )
    return name, value


def _shown_name(name: object) -> str:
    """A cookie name fit to quote: short, and never more than a hint when it is odd."""
    if isinstance(name, str) and len(name) <= 64 and name.isprintable() and name.isascii():
        return repr(name)
    if isinstance(name, str):
        return f"a name of {len(name)} characters"
    return f"a {type(name).__name__}"


def parse_cookie_header(text: str, *, where: str = "cookies") -> dict[str, str]:
    """Parse ``"a=1; b=2"`` into a dict. A part without ``=`` is refused without quoting it,
    since a bare token there is usually a cookie value pasted on its own."""
    cookies: dict[str, str] = {}
    for number, part in enumerate(text.strip().split(";"), start=1):
        part = part.strip(" \t")  # spaces around a cookie, never line breaks
        if not part:
            continue
        name, separator, value = part.partition("=")
        if not separator:
            raise InvalidRequestError(
                f"{where}: part {number} has no '='; write cookies as "
                "'name=value; name2=value2' (a value on its own cannot be sent)."
            )
        name, value = check_cookie(name.strip(" \t"), value.strip(" \t"), where=where)
        cookies[name] = value
    return cookies


def checked_mapping(value: Mapping[object, object], *, where: str = "cookies") -> dict[str, str]:
    """A dict of cookies, each checked."""
    checked: dict[str, str] = {}
    for name, item in value.items():
        if (
            type(name) is str
            and type(item) is str
            and is_token(name)
            and _COOKIE_VALUE.issuperset(item)
            and len(name) + len(item) <= MAX_COOKIE_BYTES
        ):
            checked[name] = item
            continue
        name, item = check_cookie(name, item, where=where)  # raises, saying what is wrong
        checked[name] = item
    return checked


def cookie_header(cookies: Mapping[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())
