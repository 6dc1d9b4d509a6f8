"""Keeping secrets (cookie values, proxy passwords, API keys) out of messages, reprs and logs.

Secrets are removed by value, not by shape: a :class:`Scrubber` knows the secrets of one call and
replaces any occurrence of them, whatever text carries it (a curl message, an error page, a
``Location`` header). :func:`redact_url` removes credentials from a URL before it is shown, even
from strings that are not well-formed URLs.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, unquote

REDACTED = "[redacted]"
#: Values shorter than this are not scrubbed from text: replacing every "1" or "ok" in an error
#: page would destroy the message while protecting nothing worth protecting.
MIN_SECRET_LENGTH = 4


def redact_url(url: str) -> str:
    """``url`` with anything before the last ``@`` of its authority replaced, for messages.

    Works on malformed input too (``user:pw@host:3128`` without a scheme, ``http:/u:p@h``): when
    in doubt, more is hidden, never less.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    at = rest.rfind("@")
    if at == -1:
        return url
    return f"{scheme}{separator}{REDACTED}{rest[at:]}"


def url_secrets(url: str | None) -> list[str]:
    """What of a URL must never be shown: its credentials, each part of them, and the URL itself.

    Both the raw and the percent-decoded forms are returned, since either may be echoed.
    """
    if not url or "@" not in url:
        return []
    rest = url.partition("://")[2] or url
    credentials = rest[: rest.rfind("@")]
    found = [url, credentials, *credentials.split(":", 1)]
    found += [unquote(part) for part in found]
    found += [quote(part, safe="") for part in found]
    return [part for part in dict.fromkeys(found) if part]


class Scrubber:
    """Removes a known set of secret strings from any text that is about to leave the package.

    Made on every call but used only when something goes wrong, so the secrets are sorted on
    first use.
    """

    __slots__ = ("_given", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._given = secrets
        self._secrets: tuple[str, ...] | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        if self._secrets is None:
            unique = {s for s in self._given if len(s) >= MIN_SECRET_LENGTH}
            # Longest first, so a secret that contains another is removed whole.
            self._secrets = tuple(sorted(unique, key=len, reverse=True))
            self._given = ()
        return self._secrets

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def __repr__(self) -> str:
        return f"Scrubber(<{len(self.secrets)} secrets>)"
