"""What the HTTP protocol (``_protocol``) writes when it refuses a request itself, before the
application sees it: an HTTP/1.1 answer that closes the connection, in the error shape of the
route the request named (Anthropic's on the Messages routes, OpenAI's elsewhere)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ._errors import APIError

REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}


def refusal(error: APIError, body: object, default_headers: Sequence[tuple[bytes, bytes]]) -> bytes:
    """The whole answer: status line, headers (Uvicorn's defaults first) and JSON body."""
    data = json.dumps(body).encode()
    headers = [
        *default_headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"connection", b"close"),
        *error.headers(),
    ]
    lines = [f"HTTP/1.1 {error.status} {REASONS[error.status]}\r\n".encode()]
    lines.extend(name + b": " + value + b"\r\n" for name, value in headers)
    return b"".join([*lines, b"\r\n", data])


def shaped(error: APIError, app: object, url: bytes) -> object:
    """``error``'s body in the shape of the route ``url`` names, as the application's route
    table says (its ``lookup``); OpenAI's where the path or the table is not known."""
    path = url.partition(b"?")[0].decode("latin-1")
    wrapped: Any = app
    for _ in range(8):  # Uvicorn's middlewares wrap the application, each holding it as .app
        lookup = getattr(wrapped, "lookup", None)
        if lookup is not None:
            shape = getattr(lookup(path), "error_body", None)
            return error.body() if shape is None else shape(error)
        wrapped = getattr(wrapped, "app", None)
    return error.body()
