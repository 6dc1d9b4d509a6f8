"""What an HTTP reply means: a status outside 2xx becomes the right exception, with advice."""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import _constants
from ._redact import Scrubber
from .errors import (
    AuthenticationError,
    CloudflareError,
    RateLimitError,
    ResponseStatusError,
)

_CHALLENGE_MARKERS = (
    "<title>just a moment...</title>",
    "<title>attention required! | cloudflare</title>",
    "/cdn-cgi/challenge-platform/",
    "cf-chl-",
    "cf_chl_opt",
)


@dataclass(frozen=True)
class HttpReply:
    """A complete HTTP reply: status, headers (looked up by lower-case name) and the decoded
    body."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    url: str = ""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower()) or ""


def body_excerpt(body: bytes, scrub: Scrubber, limit: int = _constants.BODY_EXCERPT_CHARS) -> str:
    """The start of a body as one line of text, secrets removed before it is cut."""
    text = scrub(body[: limit * 16].decode("utf-8", errors="replace"))
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def is_cloudflare_challenge(reply: HttpReply) -> bool:
    if reply.header("cf-mitigated").lower() == "challenge":
        return True
    if reply.status_code not in (403, 429, 503):
        return False
    head = reply.body[:65536].decode("utf-8", errors="replace").lower()
    return any(marker in head for marker in _CHALLENGE_MARKERS)


def raise_for_status(reply: HttpReply, scrub: Scrubber) -> None:
    """Raise the exception the contract names for a reply outside 2xx; return for a 2xx."""
    status = reply.status_code
    if 200 <= status < 300:
        return
    host = urlsplit(reply.url).hostname or "the service"
    excerpt = body_excerpt(reply.body, scrub)
    retry_after = parse_retry_after(reply.header("retry-after"))

    if is_cloudflare_challenge(reply):
        origin = _origin(reply.url)
        raise CloudflareError(
            f"Cloudflare answered HTTP {status} with a browser challenge instead of the service. "
            "Run 'aichat login' to pass the check in your browser (its cookies and user agent "
            "are then used by every call), or open "
            f"{origin} in your browser, pass the check, and use its cookies (with cf_clearance) "
            "and its exact user agent (user_agent= or AICHAT_USER_AGENT).",
            status_code=status,
            body_excerpt=excerpt,
        )
    if 300 <= status < 400:
        target = scrub(reply.header("location"))
        try:
            parts = urlsplit(target)
            target_host, target_path = parts.hostname, parts.path
        except ValueError:
            target_host, target_path = None, ""
        # The host or path is enough to fix base_url; the query may carry a session id.
        where = f"to {target_host or target_path[:100] or 'elsewhere'}" if target else ""
        raise ResponseStatusError(
            f"{host} answered HTTP {status} redirecting {where or 'elsewhere'}; redirects are not "
            "followed, so cookies never leave the API host. Check base_url.",
            status_code=status,
            body_excerpt=excerpt,
        )
    if status in (401, 403):
        raise AuthenticationError(
            f"{host} rejected the cookies (HTTP {status}); they are missing, expired or from "
            f"another account. Run 'aichat login' to sign in again in a browser, or log in to "
            f"{host} in your browser again or export fresh cookies.",
            status_code=status,
            body_excerpt=excerpt,
        )
    if status == 429:
        wait = f"retry after {retry_after:g} s" if retry_after is not None else "wait and retry"
        raise RateLimitError(
            f"{host} is rate limiting requests (HTTP 429); {wait}.",
            retry_after=retry_after,
            status_code=status,
            body_excerpt=excerpt,
        )
    if status >= 500:
        raise ResponseStatusError(
            f"{host} failed with HTTP {status}; this is on the service's side, try again later.",
            retry_after=retry_after,
            status_code=status,
            body_excerpt=excerpt,
        )
    detail = f": {excerpt}" if excerpt else ""
    raise ResponseStatusError(
        f"{host} refused the request with HTTP {status}{detail}",
        retry_after=retry_after,
        status_code=status,
        body_excerpt=excerpt,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme else "the site"
