"""The exceptions aichat-provider raises on purpose.

Every one derives from :class:`ProviderError`, and several also derive from the standard
exception a generic handler would expect (``ValueError``, ``TimeoutError``, ``ConnectionError``,
``RuntimeError``). Messages say what happened and what to do next; none contains a cookie value,
a ``Cookie`` header or a proxy password. Like httpx's errors carry their request, every error
raised by a provider call carries ``.provider`` (the provider's class name) and ``.url`` (the API
URL it was talking to, without secrets; None when the call failed before one was known) and
``.attempts`` (the requests it sent: 1 plus the retries, 0 when it sent none).

::

    ProviderError
    ├── InvalidRequestError (ValueError)
    │   └── ModelNotSupportedError
    ├── MissingCookiesError (RuntimeError)
    ├── ReplyError                     .status_code, .body_excerpt, .retry_after
    │   ├── ResponseStatusError        a status outside 2xx
    │   │   ├── AuthenticationError    401, 403
    │   │   ├── CloudflareError        a challenge page
    │   │   └── RateLimitError         429
    │   └── ResponseError              a 2xx that is not the answer
    ├── ProviderTimeoutError (TimeoutError)
    ├── ProviderConnectionError (ConnectionError)
    ├── LoginError (RuntimeError)              aichat login, the automatic refresh
    ├── ProviderNotFoundError (KeyError)       registry look-ups
    └── AllProvidersFailedError                .errors: every provider's exception
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "CloudflareError",
    "InvalidRequestError",
    "LoginError",
    "MissingCookiesError",
    "ModelNotSupportedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderNotFoundError",
    "ProviderTimeoutError",
    "RateLimitError",
    "ReplyError",
    "ResponseError",
    "ResponseStatusError",
]


class ProviderError(Exception):
    """Base class of every exception the package raises on purpose."""

    #: Requests sent to the service for this call: 1 plus the retries; 0 when none was sent.
    #: A caller deciding whether to try again can see that the provider already did.
    attempts: int = 0

    def __init__(
        self, message: str, *, provider: str | None = None, url: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        #: The class name of the provider whose call failed, e.g. ``"Aichat"``.
        self.provider = provider
        #: The API URL the call was talking to (no credentials), or None.
        self.url = url

    def add_context(self, *, provider: str, url: str | None) -> None:
        """Record which provider call failed, unless a more precise record is already there."""
        if self.provider is None:
            self.provider = provider
        if self.url is None:
            self.url = url

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Made without __init__, whose keyword-only arguments pickle cannot pass, then given
        # back every field: the error crosses a process pool or a task queue whole.
        return _unpickle, (type(self), self.message), self.__dict__


class InvalidRequestError(ProviderError, ValueError):
    """The call's arguments are wrong; raised before any network or file I/O."""


class ModelNotSupportedError(InvalidRequestError):
    """The provider does not serve the requested model."""

    def __init__(self, message: str, *, model: str, **context: str | None) -> None:
        super().__init__(message, **context)
        self.model = model


class MissingCookiesError(ProviderError, RuntimeError):
    """No cookies for the service were found in any source.

    ``reasons`` maps each source that was tried (``"cookies_file"``, ``"chrome"``, ...) to why
    it gave nothing, so a caller can show it.
    """

    def __init__(
        self, message: str, *, reasons: dict[str, str] | None = None, **context: str | None
    ) -> None:
        super().__init__(message, **context)
        self.reasons: dict[str, str] = dict(reasons or {})


class ReplyError(ProviderError):
    """The service replied, but not with an answer; raised as one of the two classes below.

    ``status_code`` is the HTTP status, ``body_excerpt`` the start of the reply body (secrets
    removed), enough to recognise an error page, and ``retry_after`` the seconds the server's
    ``Retry-After`` header asked for, or None. Left out, ``status_code`` is the status the class
    stands for (429 for :class:`RateLimitError`, 200 for :class:`ResponseError`).
    """

    status_code: int = 200

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body_excerpt: str = "",
        retry_after: float | None = None,
        **context: str | None,
    ) -> None:
        super().__init__(message, **context)
        if status_code is not None:
            self.status_code = status_code
        self.body_excerpt = body_excerpt
        self.retry_after = retry_after

    def __repr__(self) -> str:
        wait = "" if self.retry_after is None else f", retry_after={self.retry_after}"
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code}{wait})"


class ResponseStatusError(ReplyError):
    """The service answered with a status outside 2xx."""

    status_code = 500


class AuthenticationError(ResponseStatusError):
    """401 or 403 that is not a Cloudflare challenge: the cookies were rejected or have expired."""

    status_code = 401


class CloudflareError(ResponseStatusError):
    """Cloudflare answered with a browser challenge instead of the service."""

    status_code = 403


class RateLimitError(ResponseStatusError):
    """429 Too Many Requests. ``retry_after`` is the server's wait in seconds, or None."""

    status_code = 429


class ResponseError(ReplyError):
    """A 2xx reply that is not the answer: not the expected JSON, ``"response": false``, no
    ``message`` string, or a body over the size cap."""


class ProviderTimeoutError(ProviderError, TimeoutError):
    """No complete answer arrived within the per-attempt ``timeout``."""


class ProviderConnectionError(ProviderError, ConnectionError):
    """The service could not be reached: DNS, refused, reset, TLS or proxy failure.

    ``transient`` is False for failures a retry cannot fix (an untrusted TLS certificate, a CA
    bundle that is not one).
    """

    def __init__(self, message: str, *, transient: bool = True, **context: str | None) -> None:
        super().__init__(message, **context)
        self.transient = transient


class LoginError(ProviderError, RuntimeError):
    """``aichat login`` (or the automatic refresh) could not get cookies with a browser: none
    installed, the login extra missing, the check not passed in time. The message says what to
    do next."""


class ProviderNotFoundError(ProviderError, KeyError):
    """A registry has no provider of that name; the message lists the known names."""

    def __init__(self, message: str, *, name: str, known: list[str]) -> None:
        super().__init__(message)
        self.name = name
        self.known = known


class AllProvidersFailedError(ProviderError):
    """Every provider a fallback tried failed; ``errors`` maps each provider's name to its error."""

    def __init__(self, message: str, *, errors: dict[str, BaseException]) -> None:
        super().__init__(message)
        self.errors = errors


def _unpickle(cls: type[ProviderError], message: str) -> ProviderError:
    error = cls.__new__(cls)
    error.args = (message,)  # OSError's __new__ leaves them to an __init__ it does not get
    return error
