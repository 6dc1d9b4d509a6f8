"""Keeping secrets (cookie values, proxy passwords) out of messages, reprs and logs."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "[redacted]"
#: Values shorter than this are not scrubbed from text: replacing every "1" or "ok" in an error
#: page would destroy the message while protecting nothing worth protecting.
MIN_SECRET_LENGTH = 4


def redact_url(url: str) -> str:
    """``url`` with any password (and user name) replaced, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{REDACTED}@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Scrubber:
    """Removes a known set of secret strings from any text that is about to leave the package."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = sorted(unique, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Scrubber(<{len(self._secrets)} secrets>)"


def proxy_secrets(proxy: str | None) -> list[str]:
    """What of a proxy URL must never be shown: its password, credentials and the URL itself."""
    if not proxy:
        return []
    try:
        parts = urlsplit(proxy)
        password = parts.password
    except ValueError:
        return [proxy]
    if not password:
        return []
    credentials = parts.netloc.rpartition("@")[0]
    return [proxy, credentials, password, unquote(password)]
