"""Who may use the server: the checks that keep a web page from spending the user's account.

A server on 127.0.0.1 holds the user's chat-gpt.org cookies. Any web page the user opens can
send it requests, so before anything else:

- the ``Host`` must be a name this machine answers to (a DNS-rebinding page sends its own);
- a request with a foreign ``Origin`` is refused unless that origin was allowed (then it gets
  CORS headers), which also covers the ``text/plain`` POST a browser sends without asking;
- a body must be declared ``application/json``, which a page cannot send cross-origin without a
  preflight the server refuses.

The server's own chat page is same-origin and passes all three.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _constants
from ._errors import APIError
from ._http import Headers

ALLOWED_METHODS = b"GET, POST, OPTIONS"
#: Headers a browser may read from a cross-origin answer besides the CORS-safelisted ones.
EXPOSED_HEADERS = b"retry-after, x-should-retry, x-request-id"


@dataclass(frozen=True)
class Guard:
    cors_origins: frozenset[str]
    #: None: any Host is accepted.
    hosts: frozenset[str] | None

    @classmethod
    def create(cls, cors_origins: tuple[str, ...], allowed_hosts: tuple[str, ...]) -> Guard:
        hosts = (
            None
            if "*" in allowed_hosts
            else frozenset((*_constants.LOOPBACK_HOSTS, *allowed_hosts))
        )
        return cls(frozenset(cors_origins), hosts)

    def admit(self, headers: dict[str, str], scheme: str) -> Headers:
        """Raise APIError for a request from where it may not come; else the CORS headers its
        answer needs (none for a same-origin or non-browser client)."""
        host = headers.get("host", "")
        if self.hosts is not None and host_name(host) not in self.hosts:
            raise APIError(
                403,
                f"Host {host[:100]!r} is not one this server answers to. If you reach it by that "
                "name on purpose, start it with --allowed-host NAME (AICHAT_ALLOWED_HOSTS).",
                "invalid_request_error",
                "host_not_allowed",
            )
        origin = headers.get("origin")
        if origin is None or origin.lower() == f"{scheme}://{host.lower()}":
            return []
        if "*" in self.cors_origins or origin.lower() in self.cors_origins:
            return [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-expose-headers", EXPOSED_HEADERS),
                (b"vary", b"Origin"),
            ]
        raise APIError(
            403,
            f"Requests from the web page at {origin[:100]!r} are not allowed. To let a page of "
            "yours use this server, start it with --cors-origin ORIGIN (AICHAT_CORS_ORIGINS).",
            "invalid_request_error",
            "origin_not_allowed",
        )


def preflight_headers(headers: dict[str, str]) -> Headers:
    """The answer to an allowed origin's ``OPTIONS`` preflight (besides its CORS headers)."""
    asked = headers.get("access-control-request-headers", "")
    names = [name.strip() for name in asked.split(",") if name.strip()]
    if not all(name.replace("-", "").isalnum() for name in names):
        raise APIError(400, "Access-Control-Request-Headers holds a name that is not a header.")
    return [
        (b"access-control-allow-methods", ALLOWED_METHODS),
        (b"access-control-allow-headers", ", ".join(names).encode("latin-1")),
        (b"access-control-max-age", b"600"),
    ]


def check_json_body(headers: dict[str, str]) -> None:
    """415 unless the body is declared JSON (a cross-site form or text/plain POST is not)."""
    declared = headers.get("content-type", "")
    if declared.partition(";")[0].strip().lower() != "application/json":
        raise APIError(
            415,
            "Send the request body as JSON with 'Content-Type: application/json'.",
            "invalid_request_error",
            "unsupported_media_type",
        )


def host_name(host: str) -> str:
    """The name part of a ``Host`` header: lower case, without the port or IPv6 brackets; a
    value that is not ``name[:port]`` or ``[address][:port]`` is returned whole."""
    value = host.strip().lower()
    if value.startswith("["):
        name, bracket, port = value[1:].partition("]")
        if not bracket:
            return value
    elif value.count(":") == 1:
        name, colon, number = value.partition(":")
        port = colon + number
    else:
        return value
    # Anything after the name but a port (``[::1].evil.example``) leaves the whole value, which
    # no allowed name equals.
    return name if not port or (port[0] == ":" and port[1:].isdigit()) else value
