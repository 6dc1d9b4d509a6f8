"""``CurlSession``: a thin async session over curl_cffi with the defaults a provider needs.

``StreamSession`` is its name in the gpt4free-style contract (``from aichat_provider import
StreamSession``); it reads each answer whole, since the service does not stream.

- Redirects are never followed, so a 3xx cannot carry the prompt (or anything else) to another host.
- TLS verification stays on; ``verify`` may name a CA bundle.
- Cookies travel per request as a ``Cookie`` header and nothing a server sets is kept, so sharing a
  session never shares cookies, and curl's cookie engine never quotes a cookie in an error.
- A reply body over ``max_body_bytes`` (after decompression) is refused while it is read.
- ``timeout`` bounds one whole request, from asking for a connection (which waits while every
  curl handle of the session is busy) to the last byte of the body. curl's timer counts whole
  milliseconds and reads 0 as "no limit", so a timeout is rounded up to the next millisecond.
- Every curl failure becomes an exception from :mod:`aichat_provider.errors`, secrets removed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import sys
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import urlsplit

from . import _constants
from ._redact import Scrubber, redact_url
from ._responses import HttpReply, raise_for_status
from .errors import (
    InvalidRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ResponseError,
)

if TYPE_CHECKING:
    from curl_cffi import CurlECode, CurlError, CurlOpt
    from curl_cffi.curl import CURL_WRITEFUNC_ERROR
    from curl_cffi.requests import AsyncSession
    from curl_cffi.requests import exceptions as curl_errors

logger = logging.getLogger("aichat_provider")
#: JSON as a browser's JSON.stringify writes it: UTF-8, no spaces (one encoder for every call).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

_TLS_CODES: set[int] = set()
_PROXY_CODES: set[int] = set()


def curl_imported() -> bool:
    return bool(_TLS_CODES)


def import_curl() -> None:
    """Import curl_cffi, which takes longer than the rest of the package (0.1 s and more): the
    first call does it in a worker thread (see ``_pool``), so neither ``import aichat_provider``
    nor the event loop waits for it."""
    global CurlECode, CurlError, CurlOpt, CURL_WRITEFUNC_ERROR, AsyncSession, curl_errors
    if _TLS_CODES:
        return
    from curl_cffi import CurlECode, CurlError, CurlOpt
    from curl_cffi.curl import CURL_WRITEFUNC_ERROR
    from curl_cffi.requests import AsyncSession
    from curl_cffi.requests import exceptions as curl_errors

    _PROXY_CODES.update({CurlECode.COULDNT_RESOLVE_PROXY, CurlECode.PROXY})
    _TLS_CODES.update(
        {
            CurlECode.SSL_CONNECT_ERROR,
            CurlECode.PEER_FAILED_VERIFICATION,
            CurlECode.SSL_CACERT_BADFILE,
            CurlECode.SSL_CERTPROBLEM,
            CurlECode.SSL_ISSUER_ERROR,
        }
    )


class CurlSession:
    """An async HTTP session for one provider configuration (proxy, fingerprint, TLS settings).

    Use it as ``async with CurlSession(...) as session:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        impersonate: str = _constants.DEFAULT_IMPERSONATE,
        proxy: str | None = None,
        verify: bool | str = True,
        timeout: float = _constants.DEFAULT_TIMEOUT,
        max_body_bytes: int = _constants.MAX_RESPONSE_BYTES,
        max_clients: int = 10,
    ) -> None:
        self.impersonate = impersonate
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self.max_clients = max_clients
        #: Requests running now; past ``max_clients`` a request waits for a curl handle.
        self._in_flight = 0
        self._proxy_shown = None if proxy is None else redact_url(proxy)
        import_curl()  # a no-op once the first call imported it off the loop
        self._session: AsyncSession[Any] = AsyncSession(
            impersonate=impersonate,
            proxy=proxy,
            # curl_cffi types this as bool but also takes a CA bundle path (CURLOPT_CAINFO).
            verify=cast(bool, verify),
            timeout=_curl_seconds(timeout),
            allow_redirects=False,
            # An explicit proxy must not be bypassed by $no_proxy; without one, honour the
            # environment's proxy settings as curl and requests do.
            trust_env=proxy is None,
            discard_cookies=True,
            max_clients=max_clients,
            curl_options={CurlOpt.MAXFILESIZE_LARGE: max_body_bytes},
        )

    def __repr__(self) -> str:
        return (
            f"CurlSession(impersonate={self.impersonate!r}, proxy={self._proxy_shown!r}, "
            f"timeout={self.timeout!r})"
        )

    async def __aenter__(self) -> CurlSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close now; requests still running fail."""
        await self._session.close()

    async def post_json(
        self,
        url: str,
        payload: Mapping[str, Any] | bytes,
        *,
        headers: Mapping[str, str | None],
        scrub: Scrubber | None = None,
        timeout: float | None = None,
    ) -> HttpReply:
        """POST ``payload`` as JSON (or JSON already encoded) and return the whole reply.

        Raises the error the reply's status calls for (see ``raise_for_status``), or the
        transport error that stopped it. Nothing in a raised message is in ``scrub``'s secrets.
        """
        if scrub is None:  # not ``scrub or``: its truth value would sort the secrets now
            scrub = Scrubber()
        body = payload if isinstance(payload, bytes) else _JSON.encode(payload).encode()
        reply = await self._send("POST", url, body, headers, scrub, timeout)
        raise_for_status(reply, scrub)
        return reply

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str | None] | None = None,
        scrub: Scrubber | None = None,
        timeout: float | None = None,
    ) -> HttpReply:
        """GET ``url`` and return the reply whatever its status (transport failures raise)."""
        return await self._send("GET", url, None, headers or {}, scrub or Scrubber(), timeout)

    async def _send(
        self,
        method: Literal["GET", "POST"],
        url: str,
        body: bytes | None,
        headers: Mapping[str, str | None],
        scrub: Scrubber,
        timeout: float | None,
    ) -> HttpReply:
        body_in = _BodyReader(self.max_body_bytes)
        started = time.monotonic()
        timeout = self.timeout if timeout is None else timeout
        request = self._session.request(
            method,
            url,
            content=body,
            headers=headers,
            timeout=_curl_seconds(timeout),
            content_callback=body_in,
        )
        self._in_flight += 1
        try:
            if self._in_flight <= self.max_clients:
                # A curl handle is free, so curl's own timer covers the whole request.
                response = await request
            elif sys.version_info >= (3, 11):
                # Every handle is busy and curl's timer starts only once one is free: this
                # deadline covers the wait as well.
                async with asyncio.timeout(timeout):
                    response = await request
            else:  # pragma: no cover - Python 3.10
                response = await asyncio.wait_for(request, timeout)
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes before Python 3.11
            raise self._timeout_error(url, timeout) from None
        except CurlError as exc:  # RequestException and the raw CurlError curl_cffi lets escape
            code = getattr(exc, "code", 0)
            if body_in.over_cap or code == CurlECode.FILESIZE_EXCEEDED:
                raise ResponseError(
                    f"The reply from {_host(url)} is larger than "
                    f"{self.max_body_bytes // (1024 * 1024)} MiB and was refused while reading.",
                ) from None
            raise self._transport_error(exc, method, url, scrub, timeout) from None
        finally:
            self._in_flight -= 1
        if not response.status_code:  # the transfer was torn down (session closed under it)
            raise ProviderConnectionError(
                f"The request to {_host(url)} ended without an HTTP reply; try again."
            )
        reply = HttpReply(
            status_code=response.status_code,
            headers=response.headers,  # case-insensitive already
            body=bytes(body_in.data),
            url=url,
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (%d bytes, %.3f s)",
                method,
                url,
                reply.status_code,
                len(reply.body),
                time.monotonic() - started,
            )
        return reply

    def _transport_error(
        self,
        exc: CurlError,
        method: str,
        url: str,
        scrub: Scrubber,
        timeout: float,
    ) -> ProviderError:
        code = getattr(exc, "code", 0)
        detail = scrub(_curl_detail(str(exc)))
        if self._proxy_shown:
            detail = detail.replace(self._proxy_shown, "the proxy")
        host = _host(url)
        logger.debug("%s %s failed: curl error %s", method, url, code)
        if isinstance(exc, curl_errors.ImpersonateError):
            return InvalidRequestError(
                f"impersonate={self.impersonate!r} is not a browser target this curl_cffi knows; "
                "use 'chrome' or a versioned target such as 'chrome131'."
            )
        if isinstance(exc, curl_errors.Timeout) or code == CurlECode.OPERATION_TIMEDOUT:
            return self._timeout_error(url, timeout)
        if self._proxy_shown and "response 407" in detail:
            return ProviderConnectionError(
                f"The proxy {self._proxy_shown} failed ({detail}): it wants another user name "
                "or password; check the credentials in the proxy URL."
            )
        if self._proxy_shown and "tunnel failed" in detail:
            return ProviderConnectionError(
                f"The proxy {self._proxy_shown} failed ({detail}): it refused to open a tunnel "
                f"to {host}. Check that it accepts CONNECT to the service."
            )
        if self._proxy_shown and code == CurlECode.COULDNT_CONNECT:
            return ProviderConnectionError(
                f"The proxy {self._proxy_shown} cannot be reached ({detail}). Check that it runs "
                "and that the proxy URL names the right host and port."
            )
        if code in _PROXY_CODES or isinstance(exc, curl_errors.ProxyError):
            return ProviderConnectionError(
                f"The proxy {self._proxy_shown or ''} failed ({detail}). Check that it runs and "
                "accepts CONNECT to the service."
            )
        if code in _TLS_CODES or isinstance(exc, curl_errors.SSLError):
            return ProviderConnectionError(
                f"TLS with {host} failed ({detail}). If you use your own server, pass "
                "verify='/path/to/ca.pem'; check the system clock and any intercepting proxy.",
                # Only a handshake that broke off may go better next time; a certificate or
                # CA bundle that failed will fail the same way.
                transient=code == CurlECode.SSL_CONNECT_ERROR,
            )
        if code == CurlECode.COULDNT_RESOLVE_HOST or isinstance(exc, curl_errors.DNSError):
            return ProviderConnectionError(
                f"The host {host} could not be resolved ({detail}). Check base_url and your DNS."
            )
        if code == CurlECode.PARTIAL_FILE or isinstance(exc, curl_errors.IncompleteRead):
            return ProviderConnectionError(
                f"The connection to {host} closed before the whole reply arrived ({detail})."
            )
        return ProviderConnectionError(
            f"Could not talk to {host} ({detail}). Check the network, base_url and proxy."
        )

    def _timeout_error(self, url: str, timeout: float) -> ProviderTimeoutError:
        return ProviderTimeoutError(
            f"No complete answer from {_host(url)} within {timeout:g} s. Raise timeout= if the "
            "service is slow, or check the network."
        )


class _BodyReader:
    """curl's write callback for one reply: keeps the body, refusing it past ``limit`` bytes.

    An object with a bytearray rather than a closure over a list: one tracked object instead of
    six (the function, its four cells and the list) alive for as long as the request waits.
    """

    __slots__ = ("data", "limit", "over_cap")

    def __init__(self, limit: int) -> None:
        self.data = bytearray()
        self.limit = limit
        self.over_cap = False

    def __call__(self, chunk: bytes) -> int:
        if len(self.data) + len(chunk) > self.limit:
            self.over_cap = True
            return CURL_WRITEFUNC_ERROR
        self.data += chunk
        return len(chunk)


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _curl_detail(message: str) -> str:
    """curl's own words from a curl_cffi message, without its boilerplate."""
    match = re.search(
        r"curl: \((\d+)\) (.*?)(?: See https://\S+ first for more details\.)?$", message
    )
    if match:
        return f"curl error {match.group(1)}: {match.group(2).strip().rstrip('.')}"
    return message.strip()[:300]


def _curl_seconds(timeout: float) -> float:
    """``timeout`` as curl_cffi must be handed it so that curl waits at least that long.

    curl_cffi passes ``int(seconds * 1000)`` to CURLOPT_TIMEOUT_MS, which truncates (7.8 ms
    would end at 7) and turns anything under a millisecond into 0, curl's "no limit". Whole
    milliseconds, rounded up, plus half of one that the truncation removes again.
    """
    return (max(1, math.ceil(timeout * 1000)) + 0.5) / 1000


#: The gpt4free-style name the contract exports (the session reads answers whole).
StreamSession = CurlSession
