"""The one place every request passes, in front of the routes (an ASGI middleware): admission
(``Host``/``Origin``, the API key), ``OPTIONS``/404/405, the drain and the JSON body's type and
size for routes that read one; then CORS headers, metrics and the one exception handler that
answers every error, in OpenAI's JSON format or the route's own (``RouteInfo.error_body``);
Anthropic's SDKs get Anthropic's from a route without its own (``_error_shape``)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp

from ._errors import APIError, internal_error, not_found, shutting_down
from ._guard import Guard, check_json_body, preflight_headers
from ._http import (
    JSON_HEADERS,
    ClientGone,
    Headers,
    Message,
    Receive,
    Scope,
    Send,
    dumps,
    read_headers,
)
from ._messages_render import error_body as anthropic_error_body
from ._metrics import Metrics

logger = logging.getLogger("aichat_provider.server")


#: An error's JSON body in one API's shape.
ErrorBody = Callable[[APIError], dict[str, Any]]


@dataclass(frozen=True)
class RouteInfo:
    """What admission knows of a route: its name in metrics and logs (never a client's own
    text), its methods, and whether it is open without the key. A route is closed unless it is
    marked public: a route added later is closed until someone opens it."""

    name: str
    methods: tuple[str, ...]
    public: bool = False
    #: The body of an error answer, for a route whose clients expect another shape than
    #: OpenAI's (Anthropic's Messages API); None: OpenAI's.
    error_body: ErrorBody | None = field(default=None, compare=False)

    @property
    def reads_body(self) -> bool:
        return "POST" in self.methods


class Served(Protocol):
    """What the gateway asks of the application."""

    guard: Guard
    metrics: Metrics | None
    draining: bool
    api_key: str | None
    max_body_bytes: int

    def lookup(self, path: str) -> RouteInfo | None: ...


class Gateway:
    """An ASGI middleware around the application's router (see the module docstring)."""

    def __init__(self, app: ASGIApp, served: Served) -> None:
        self.app = app
        self.served = served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        served = self.served
        path = scope["path"]
        info = served.lookup(path)
        metrics = served.metrics
        if metrics is not None:
            metrics.in_flight.inc()
        state = _Response()
        cors: Headers = []

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                state.started, state.status = True, message["status"]
                if metrics is not None:  # counted before the client can have it
                    metrics.request_done(_name(info), state.status)
                if cors:
                    message["headers"] = [*message.get("headers", ()), *cors]
            await send(message)

        try:
            headers = read_headers(scope)
            cors = served.guard.admit(headers, scope["scheme"])
            method = scope["method"]
            if method != "OPTIONS" and (info is None or not info.public):
                self._check_key(headers, scope.get("query_string", b""))
            if info is None:
                raise not_found(path)
            if method == "OPTIONS":
                extra = preflight_headers(headers) if cors else []
                await _send(answer, 204, b"", [*extra, _allow(info.methods)])
                return
            if method not in info.methods:
                message = f"{path} does not take {method[:10]}."
                error = APIError(405, message, code="method_not_allowed")
                await _send_error(answer, error, [_allow(info.methods)], _error_shape(info, scope))
                return
            if info.reads_body:
                if served.draining:
                    raise shutting_down()
                check_json_body(headers)
                limit = served.max_body_bytes
                receive = _limited(receive, limit, headers.get("content-length"))
            await self.app(scope, receive, answer)
        except (ClientGone, ClientDisconnect):
            state.status = 499  # nginx's name for it: nobody is left to answer
        except APIError as error:
            await self._fail(answer, state, error, _error_shape(info, scope))
        except HTTPException as exc:  # Starlette's own (a path parameter that did not convert)
            await self._fail(
                answer,
                state,
                not_found(path)
                if exc.status_code == 404
                else APIError(exc.status_code, str(exc.detail)),
                _error_shape(info, scope),
            )
        except Exception:
            logger.exception("the server failed to answer %s %s", scope["method"], _name(info))
            await self._fail(answer, state, internal_error(), _error_shape(info, scope))
        finally:
            if metrics is not None:
                metrics.in_flight.dec()
                if not state.started:  # nobody was answered (499)
                    metrics.request_done(_name(info), state.status)

    @staticmethod
    async def _fail(send: Send, state: _Response, error: APIError, shape: ErrorBody) -> None:
        if state.started:  # the answer is on its way: nothing more can be said
            logger.warning("an error after the answer began: %s", error.code)
            return
        await _send_error(send, error, [], shape)

    def _check_key(self, headers: dict[str, str], query: bytes) -> None:
        key = self.served.api_key
        if not key:
            return
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode("latin-1"), key.encode()
        ):
            return
        # Anthropic's SDKs and the tools built on them send the key this way.
        given = headers.get("x-api-key")
        if given is not None and hmac.compare_digest(given.strip().encode("latin-1"), key.encode()):
            return
        in_url = b"key=" in query.lower()
        raise APIError(
            401,
            "Invalid or missing API key; send 'Authorization: Bearer <key>' (or 'x-api-key: <key>')"
            + (" (a key in the URL is not accepted: URLs end up in logs)." if in_url else "."),
            "invalid_request_error",
            "invalid_api_key",
        )


class _Response:
    __slots__ = ("started", "status")

    def __init__(self) -> None:
        self.started = False
        self.status = 500


def _name(info: RouteInfo | None) -> str:
    return "other" if info is None else info.name


def _allow(methods: Sequence[str]) -> tuple[bytes, bytes]:
    return (b"allow", ", ".join([*methods, "OPTIONS"]).encode())


def _limited(receive: Receive, limit: int, declared: str | None) -> Receive:
    """``receive`` refusing a body with 413 as soon as it is known to exceed ``limit``."""
    too_large = APIError(
        413,
        f"The request body is over {limit} bytes.",
        "invalid_request_error",
        "request_too_large",
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    size = 0

    async def limited() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise too_large
        return message

    return limited


async def _send(send: Send, status: int, body: bytes, headers: Headers) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


def _error_shape(info: RouteInfo | None, scope: Scope) -> ErrorBody:
    """How errors are written for this request: in its route's own shape; else Anthropic's for
    Anthropic's SDKs, which send ``anthropic-version`` (the model list is in their shape for
    them too); else OpenAI's."""
    if info is not None and info.error_body is not None:
        return info.error_body
    if any(name == b"anthropic-version" for name, _ in scope["headers"]):
        return anthropic_error_body
    return APIError.body


async def _send_error(send: Send, error: APIError, headers: Headers, shape: ErrorBody) -> None:
    await _send(
        send, error.status, dumps(shape(error)), [*JSON_HEADERS, *error.headers(), *headers]
    )
