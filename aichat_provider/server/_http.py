"""JSON in and out (orjson), a request's headers read once, and noticing that the client has
gone: what the gateway, the pipeline and the renderers share."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
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


def read_headers(scope: Scope) -> dict[str, str]:
    """Lower-case names; each appears once (a request repeating one of SINGLE_HEADERS is
    refused: two parts of the stack could read different ones)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in headers and name in SINGLE_HEADERS:
            raise APIError(400, f"The request has more than one {name!r} header.")
        headers[name] = raw_value.decode("latin-1")
    return headers


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
    documents the standard library takes: lone surrogates, NaN)."""
    if _orjson is not None:
        try:
            return _orjson.loads(body)
        except ValueError:  # orjson's JSONDecodeError
            pass
    return json.loads(body)


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


async def wait_for_disconnect(receive: Receive) -> None:
    """Return when the client goes away (after the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass
