"""The few pieces of ASGI the server needs: the request's facts, its body with a size limit, JSON
and event-stream responses, and noticing that the client has gone.

Written against the ASGI interface directly rather than through a framework: the server has six
routes, and a framework's request and response objects cost more than the rest of a request
(measured in ``benchmarks/serve.py``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from ._errors import APIError

_orjson: Any
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - the server extra installs it
    _orjson = None

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON_HEADERS: Headers = [(b"content-type", b"application/json")]
#: Headers whose repetition could make two parts of the stack disagree about the request.
SINGLE_HEADERS = frozenset({"host", "origin", "content-type", "authorization", "content-length"})


@dataclass
class Request:
    method: str
    path: str
    query: bytes
    #: Lower-case names; each appears once (requests repeating one of SINGLE_HEADERS are refused).
    headers: dict[str, str]
    scheme: str

    @classmethod
    def from_scope(cls, scope: Scope) -> Request:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            if name in headers and name in SINGLE_HEADERS:
                raise APIError(400, f"The request has more than one {name!r} header.")
            headers[name] = raw_value.decode("latin-1")
        return cls(
            scope["method"], scope["path"], scope.get("query_string", b""), headers, scope["scheme"]
        )


def dumps(data: object) -> bytes:
    """Compact UTF-8 JSON (through orjson when it is installed: the server extra has it). Text
    holding a lone surrogate (a request may carry ``"\\ud800"``, and an error message may quote
    it) is written escaped, as it came."""
    if _orjson is not None:
        try:
            return bytes(_orjson.dumps(data))
        except TypeError:  # orjson's JSONEncodeError: surrogates, integers over 64 bits
            pass
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(data, separators=(",", ":")).encode()


def loads(body: bytes) -> Any:
    """JSON as the standard library reads it (orjson first when installed, which refuses some
    documents the standard library takes: lone surrogates, huge integers, NaN)."""
    if _orjson is not None:
        try:
            return _orjson.loads(body)
        except ValueError:  # orjson's JSONDecodeError
            pass
    return json.loads(body)


async def read_body(receive: Receive, limit: int, declared: str | None) -> bytes:
    """The whole request body, refused with 413 as soon as it is known to exceed ``limit``."""
    too_large = APIError(
        413,
        f"The request body is over {limit} bytes.",
        "invalid_request_error",
        "request_too_large",
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


async def wait_for_disconnect(receive: Receive) -> None:
    """Return when the client goes away (after the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def send_bytes(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send, status: int, data: object, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    await send_bytes(send, status, dumps(data), [*JSON_HEADERS, *headers])


async def send_error(send: Send, error: APIError, headers: Iterable[tuple[bytes, bytes]]) -> None:
    await send_json(send, error.status, error.body(), [*error.headers(), *headers])


async def send_events(
    send: Send, events: Iterable[object], headers: Iterable[tuple[bytes, bytes]]
) -> None:
    """Server-sent events, one ``data:`` line per event, then ``data: [DONE]``, in one write."""
    body = b"".join(b"data: " + dumps(event) + b"\n\n" for event in events) + b"data: [DONE]\n\n"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-cache"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
