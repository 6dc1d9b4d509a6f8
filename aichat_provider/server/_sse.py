"""Server-sent events with event names, as the Responses and Messages APIs stream them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._http import dumps

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]


def encode(events: Iterable[tuple[str, Any]]) -> bytes:
    """``event: NAME`` and ``data: JSON`` per event; no ``[DONE]`` line (these APIs end with an
    event of their own)."""
    return b"".join(
        b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n" for name, data in events
    )
