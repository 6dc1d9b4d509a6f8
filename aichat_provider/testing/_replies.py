"""Scripted replies and recorded requests of the stand-in service."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Action = Literal["reply", "reset", "close", "hang"]

CLOUDFLARE_CHALLENGE_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">'
    b"<noscript>Enable JavaScript and cookies to continue</noscript></div>"
    b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script>'
    b"</body></html>"
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    connection: int = 0

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def prompt(self) -> str | None:
        try:
            data = self.json
        except ValueError:
            return None
        message = data.get("message") if isinstance(data, dict) else None
        return message if isinstance(message, str) else None

    @property
    def cookies(self) -> dict[str, str]:
        cookies: dict[str, str] = {}
        for part in (self.header("cookie") or "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep:
                cookies[name] = value
        return cookies


def echo_answer(request: RecordedRequest) -> str:
    """The stand-in's default answer: ``"echo: "`` and the prompt."""
    return f"echo: {request.prompt}"


@dataclass(frozen=True)
class Reply:
    """A scripted answer. Build one with the class methods (``Reply.status(503)``, ...)."""

    status_code: int = 200
    #: The body; None means the normal ``{"response": true, "message": ...}`` answer.
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    #: ``"gzip"`` or ``"br"`` (the latter needs the ``brotli`` package).
    encoding: str | None = None
    #: Send the body chunked, without a Content-Length.
    chunked: bool = False
    #: Announce this many more bytes than are sent, then close: a body cut short.
    missing_bytes: int = 0
    #: Seconds to wait before anything is sent.
    delay: float = 0.0
    #: Seconds to wait between body bytes (a trickle); 0 sends the body at once.
    byte_interval: float = 0.0
    #: ``"reset"`` (TCP RST), ``"close"`` (close with no reply), ``"hang"`` (never answer).
    action: Action = "reply"

    @classmethod
    def answer(cls, text: str) -> Reply:
        return cls.json({"response": True, "message": text})

    @classmethod
    def json(cls, data: Any, status: int = 200, **options: Any) -> Reply:
        body = json.dumps(data).encode()
        return cls(status, body, (("Content-Type", "application/json"),), **options)

    @classmethod
    def rejected(cls, message: str) -> Reply:
        """200 with ``"response": false``: the service refusing in its own words."""
        return cls.json({"response": False, "message": message})

    @classmethod
    def status(
        cls,
        status: int,
        *,
        retry_after: str | float | None = None,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> Reply:
        extra = list(headers)
        if retry_after is not None:
            value = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
            extra.append(("Retry-After", value))
        if body:
            extra.append(("Content-Type", "text/plain; charset=utf-8"))
        return cls(status, body, tuple(extra))

    @classmethod
    def cloudflare(cls, status: int = 403, *, header: bool = True) -> Reply:
        """A Cloudflare "Just a moment..." challenge page."""
        headers = [("Content-Type", "text/html; charset=UTF-8"), ("Server", "cloudflare")]
        if header:
            headers.append(("cf-mitigated", "challenge"))
        return cls(status, CLOUDFLARE_CHALLENGE_PAGE, tuple(headers))

    @classmethod
    def html(cls, status: int = 200) -> Reply:
        page = b"<html><body><h1>Welcome</h1></body></html>"
        return cls(status, page, (("Content-Type", "text/html"),))

    @classmethod
    def raw(cls, body: bytes, status: int = 200, content_type: str = "text/plain") -> Reply:
        return cls(status, body, (("Content-Type", content_type),))

    @classmethod
    def redirect(cls, location: str, status: int = 307) -> Reply:
        return cls(status, b"", (("Location", location),))

    @classmethod
    def oversize(cls, size: int, *, chunked: bool = False) -> Reply:
        """A valid-looking answer of ``size`` bytes (with or without a Content-Length)."""
        filler = b"a" * max(0, size - 40)
        body = b'{"response": true, "message": "' + filler + b'"}'
        return cls(200, body, (("Content-Type", "application/json"),), chunked=chunked)

    @classmethod
    def truncated(cls, missing_bytes: int = 100) -> Reply:
        return replace(cls.answer("this answer is cut short"), missing_bytes=missing_bytes)

    @classmethod
    def trickle(cls, byte_interval: float, text: str = "slow answer") -> Reply:
        return replace(cls.answer(text), byte_interval=byte_interval)

    @classmethod
    def compressed(cls, encoding: str, text: str = "compressed answer") -> Reply:
        return replace(cls.answer(text), encoding=encoding)

    @classmethod
    def delayed(cls, seconds: float) -> Reply:
        """The normal answer, sent after ``seconds``."""
        return cls(delay=seconds)

    @classmethod
    def reset(cls) -> Reply:
        return cls(action="reset")

    @classmethod
    def close(cls) -> Reply:
        return cls(action="close")

    @classmethod
    def hang(cls) -> Reply:
        return cls(action="hang")
