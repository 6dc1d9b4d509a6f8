"""Errors in OpenAI's format, and the one place provider exceptions become HTTP statuses.

Every error response says whether a retry can help (``x-should-retry``, which both official SDKs
obey): not when the provider already retried, not when the cause is one a retry cannot change
(rejected cookies, a Cloudflare check, a bad request). That keeps one client call with the SDKs'
default two retries at three upstream requests at most, whatever the fault.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import _constants, errors

logger = logging.getLogger("aichat_provider.server")


@dataclass(eq=False)
class APIError(Exception):
    """An error answered in OpenAI's JSON format: ``{"error": {"message", "type", "code"}}``."""

    status: int
    message: str
    kind: str = "invalid_request_error"
    code: str | None = None
    retry_after: float | None = None
    should_retry: bool = False
    param: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(b"x-should-retry", b"true" if self.should_retry else b"false")]
        if self.retry_after is not None:
            headers.append((b"retry-after", str(math.ceil(self.retry_after)).encode()))
        return headers


def invalid(message: str, param: str | None = None, code: str | None = None) -> APIError:
    """400 for a request the server will not run as given."""
    return APIError(400, message, "invalid_request_error", code, param=param)


def refuse_unknown(data: Mapping[str, object], known: frozenset[str]) -> None:
    """A 400 naming the first few fields of ``data`` (a request's JSON object) that are not
    ``known``."""
    unknown = sorted(name for name in data if name not in known)
    if unknown:
        raise unrecognized(unknown)


def unrecognized(names: list[str]) -> APIError:
    """A 400 for fields no route takes, naming the first few, and where the fields are listed:
    the server's own description, which every client can fetch."""
    shown = ", ".join(repr(name[:40]) for name in names[:5])
    return invalid(
        f"Unrecognized request argument(s): {shown}. GET /openapi.json lists the fields each "
        "route accepts.",
        names[0][:40],
    )


def error_for(exc: errors.ProviderError) -> APIError:
    """The HTTP status, OpenAI error type and retry advice for a provider's exception."""
    # The provider's own retries (``attempts`` > 1) already spent what a client retry would.
    retried = exc.attempts > 1
    message = str(exc)
    if isinstance(exc, errors.ModelNotSupportedError):
        return APIError(404, message, "invalid_request_error", "model_not_found", param="model")
    if isinstance(exc, errors.InvalidRequestError):
        return APIError(400, message, "invalid_request_error")
    if isinstance(exc, errors.MissingCookiesError):
        return APIError(401, _missing_cookies(exc), "authentication_error", "upstream_cookies")
    if isinstance(exc, (errors.AuthenticationError, errors.LoginError)):
        return APIError(401, message, "authentication_error", "upstream_cookies")
    if isinstance(exc, errors.RateLimitError):
        wait, capped = _capped(exc.retry_after)
        return APIError(
            429, message, "rate_limit_error", "rate_limited", wait, not retried and not capped
        )
    if isinstance(exc, errors.CloudflareError):
        return APIError(503, message, "upstream_challenge", "cloudflare")
    if isinstance(exc, errors.ProviderTimeoutError):
        return APIError(504, message, "timeout", "upstream_timeout", None, not retried)
    if isinstance(exc, errors.ProviderConnectionError):
        return APIError(
            502,
            message,
            "upstream_error",
            "upstream_unreachable",
            None,
            exc.transient and not retried,
        )
    if isinstance(exc, errors.ResponseStatusError) and exc.status_code >= 500:
        wait, capped = _capped(exc.retry_after)
        return APIError(
            502, message, "upstream_error", "upstream_failed", wait, not retried and not capped
        )
    if isinstance(exc, errors.AllProvidersFailedError):
        return APIError(502, message, "upstream_error", "all_providers_failed")
    return APIError(502, message, "upstream_error", "upstream_failed")


def _missing_cookies(exc: errors.MissingCookiesError) -> str:
    """What the server's operator can do, for the client to pass on. Where the server looked
    (folders of its machine) goes to its log, not to every client."""
    host = urlsplit(exc.url).hostname if exc.url else None
    logger.warning(
        "no cookies for %s; tried: %s",
        host or "the service",
        "; ".join(f"{source}: {why}" for source, why in exc.reasons.items()) or "nothing",
    )
    return (
        f"This server has no cookies for {host or 'the service'}. Its operator can start it with "
        "--cookies-file FILE (or AICHAT_COOKIES_FILE), or run 'aichat login' on its machine; "
        "its log says where it looked."
    )


def _capped(retry_after: float | None) -> tuple[float | None, bool]:
    """The ``Retry-After`` to pass on, and whether the upstream asked for longer than that."""
    if retry_after is None:
        return None, False
    cap = _constants.SERVER_RETRY_AFTER_CAP
    return min(retry_after, cap), retry_after > cap


def shutting_down() -> APIError:
    return APIError(
        503,
        "The server is shutting down; send the request again in a moment.",
        "server_error",
        "server_shutting_down",
        retry_after=1,
        should_retry=True,
    )


def not_found(path: str) -> APIError:
    return APIError(
        404,
        f"No route {path[:100]!r}. The API is under /v1: POST /v1/chat/completions, "
        "GET /v1/models; GET /openapi.json describes it.",
        "invalid_request_error",
        "not_found",
    )


def internal_error() -> APIError:
    return APIError(500, "The server failed; its log says why.", "server_error", "internal_error")
