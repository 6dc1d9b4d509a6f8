"""The fault matrix: one case per fault, each driven by a real server, socket or proxy.

Every case asserts the exact exception class and its fields, that the call ended within its
timeout plus a small margin, and that no cookie value, Cookie header or proxy password is in the
exception (message, repr, traceback, fields) or in any DEBUG log record.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.testing import Reply, StandInService
from support.proxy import ConnectProxy
from support.secrets import COOKIES, PROXY_PASSWORD, USER, assert_no_secrets, exposed_text

TIMEOUT = 2.0
MARGIN = 1.5


@dataclass
class World:
    """What a case may need: the stand-ins, a closed port, a stack for extra servers."""

    service: StandInService
    tls: StandInService
    closed_port: int
    stack: contextlib.ExitStack
    other: StandInService | None = None


@dataclass
class Case:
    reply: Reply | None = None  # what the stand-in answers (every attempt)
    error: type[errors.ProviderError] | None = None  # None: the call succeeds
    fields: dict[str, Any] = field(default_factory=dict)
    phrase: str = ""
    answer: str | None = None
    setup: Callable[[World], dict[str, Any]] | None = None  # extra kwargs, or another target
    check: Callable[[World], None] | None = None


def status(code: int, **kwargs: Any) -> Reply:
    return Reply.status(code, body=b"error page", **kwargs)


def via_tls(world: World) -> dict[str, Any]:
    return {"base_url": world.tls.base_url, "verify": world.tls.ca_path}


def untrusted_tls(world: World) -> dict[str, Any]:
    return {"base_url": world.tls.base_url}


def mismatched_tls(world: World) -> dict[str, Any]:
    other = world.stack.enter_context(StandInService(tls=True, tls_hostnames=["other.example"]))
    return {"base_url": other.base_url, "verify": other.ca_path}


def refused(world: World) -> dict[str, Any]:
    return {"base_url": f"http://127.0.0.1:{world.closed_port}"}


def unresolvable(world: World) -> dict[str, Any]:
    # A 64-character label: the resolver refuses it without sending a query, so nothing
    # leaves the machine (a name under .invalid would still be asked of the DNS server).
    return {"base_url": "https://" + "a" * 64 + ".example"}


def dead_proxy(world: World) -> dict[str, Any]:
    return {**via_tls(world), "proxy": f"http://u:{PROXY_PASSWORD}@127.0.0.1:{world.closed_port}"}


def refusing_proxy(world: World) -> dict[str, Any]:
    proxy = world.stack.enter_context(ConnectProxy(refuse=True))
    return {**via_tls(world), "proxy": f"http://u:{PROXY_PASSWORD}@127.0.0.1:{proxy.port}"}


def redirect_elsewhere(world: World) -> dict[str, Any]:
    world.other = world.stack.enter_context(StandInService())
    world.service.set_default(Reply.redirect(f"http://localhost:{world.other.port}/api/text"))
    return {}


def nothing_reached_the_other_host(world: World) -> None:
    assert world.other is not None
    assert world.other.requests == []


CASES: dict[str, Case] = {
    "400": Case(status(400), errors.ResponseStatusError, {"status_code": 400}, "HTTP 400"),
    "401": Case(status(401), errors.AuthenticationError, {"status_code": 401}, "cookies"),
    "403": Case(status(403), errors.AuthenticationError, {"status_code": 403}, "cookies"),
    "404": Case(status(404), errors.ResponseStatusError, {"status_code": 404}, "HTTP 404"),
    "429-retry-after-seconds": Case(
        status(429, retry_after=30),
        errors.RateLimitError,
        {"status_code": 429, "retry_after": 30.0},
        "retry after 30 s",
    ),
    "429-retry-after-http-date": Case(
        status(429, retry_after=formatdate(time.time() + 3600, usegmt=True)),
        errors.RateLimitError,
        {"status_code": 429},
        "rate limiting",
    ),
    "429-retry-after-very-long": Case(
        status(429, retry_after=86400),
        errors.RateLimitError,
        {"status_code": 429, "retry_after": 86400.0},
        "86400",
    ),
    "500": Case(status(500), errors.ResponseStatusError, {"status_code": 500}, "try again later"),
    "502": Case(status(502), errors.ResponseStatusError, {"status_code": 502}, "try again later"),
    "503": Case(status(503), errors.ResponseStatusError, {"status_code": 503}, "try again later"),
    "504": Case(status(504), errors.ResponseStatusError, {"status_code": 504}, "try again later"),
    "cloudflare-403": Case(
        Reply.cloudflare(403), errors.CloudflareError, {"status_code": 403}, "Cloudflare"
    ),
    "cloudflare-503": Case(
        Reply.cloudflare(503, header=False),
        errors.CloudflareError,
        {"status_code": 503},
        "Cloudflare",
    ),
    "2xx-html": Case(Reply.html(), errors.ResponseError, {"status_code": 200}, "not JSON"),
    "2xx-empty": Case(Reply.raw(b""), errors.ResponseError, {"body_excerpt": ""}, "empty body"),
    "invalid-json": Case(
        Reply.raw(b'{"response": tru', content_type="application/json"),
        errors.ResponseError,
        {},
        "not JSON",
    ),
    "json-not-object": Case(Reply.json([1, 2]), errors.ResponseError, {}, "list"),
    "response-false": Case(
        Reply.rejected("Too many requests today"),
        errors.ResponseError,
        {},
        "Too many requests today",
    ),
    "missing-message": Case(
        Reply.json({"response": True}), errors.ResponseError, {}, "no answer text"
    ),
    "non-string-message": Case(
        Reply.json({"response": True, "message": ["a"]}), errors.ResponseError, {}, "no answer text"
    ),
    "gzip-body": Case(Reply.compressed("gzip", "unzipped"), answer="unzipped"),
    "brotli-body": Case(Reply.compressed("br", "unbrotlied"), answer="unbrotlied"),
    "body-over-cap": Case(
        Reply.oversize(17 * 2**20, chunked=True), errors.ResponseError, {}, "16 MiB"
    ),
    "body-cut-short": Case(
        Reply.truncated(), errors.ProviderConnectionError, {}, "closed before the whole reply"
    ),
    "reset-connection": Case(
        Reply.reset(), errors.ProviderConnectionError, {}, "Could not talk to 127.0.0.1"
    ),
    "never-answers": Case(Reply.hang(), errors.ProviderTimeoutError, {}, f"{TIMEOUT:g} s"),
    "trickle": Case(Reply.trickle(0.2), errors.ProviderTimeoutError, {}, f"{TIMEOUT:g} s"),
    "connection-refused": Case(
        None, errors.ProviderConnectionError, {}, "Could not talk to 127.0.0.1", setup=refused
    ),
    "dns-failure": Case(
        None, errors.ProviderConnectionError, {}, "could not be resolved", setup=unresolvable
    ),
    "dead-proxy": Case(
        None,
        errors.ProviderConnectionError,
        {},
        "The proxy http://[redacted]@127.0.0.1:",
        setup=dead_proxy,
    ),
    "proxy-refuses-connect": Case(
        None,
        errors.ProviderConnectionError,
        {},
        "refused to open a tunnel to 127.0.0.1",
        setup=refusing_proxy,
    ),
    "tls-untrusted": Case(
        None, errors.ProviderConnectionError, {"transient": False}, "TLS", setup=untrusted_tls
    ),
    "tls-hostname-mismatch": Case(
        None, errors.ProviderConnectionError, {}, "TLS", setup=mismatched_tls
    ),
    "tls-trusted-ok": Case(None, answer="echo: Hi", setup=via_tls),
    "3xx-other-host": Case(
        None,
        errors.ResponseStatusError,
        {"status_code": 307},
        "localhost",
        setup=redirect_elsewhere,
        check=nothing_reached_the_other_host,
    ),
    "3xx-same-host": Case(
        Reply.redirect("/api/elsewhere", 301),
        errors.ResponseStatusError,
        {"status_code": 301},
        "redirect",
    ),
}


@pytest.fixture
def world(service: StandInService, tls_service: StandInService) -> Iterator[World]:
    with socket.socket() as unused, contextlib.ExitStack() as stack:
        unused.bind(("127.0.0.1", 0))
        yield World(service, tls_service, unused.getsockname()[1], stack)


@pytest.mark.parametrize("name", list(CASES))
async def test_fault(name: str, world: World, debug_logs: pytest.LogCaptureFixture) -> None:
    case = CASES[name]
    if case.reply is not None:
        world.service.set_default(case.reply)
        world.tls.set_default(case.reply)
    kwargs: dict[str, Any] = {
        "base_url": world.service.base_url,
        "cookies": COOKIES,
        "timeout": TIMEOUT,
        "max_retries": 0,
    }
    if case.setup is not None:
        kwargs.update(case.setup(world))
    started = time.monotonic()
    if case.error is None:
        assert await Aichat.create_async("", USER, **kwargs) == case.answer
        assert_no_secrets(debug_logs.text)
        return
    with pytest.raises(errors.ProviderError) as caught:
        await Aichat.create_async("", USER, **kwargs)
    elapsed = time.monotonic() - started
    error = caught.value
    assert type(error) is case.error
    for attribute, expected in case.fields.items():
        assert getattr(error, attribute) == expected, attribute
    assert case.phrase in str(error)
    assert elapsed < TIMEOUT + MARGIN
    assert_no_secrets(exposed_text(error, debug_logs))
    if case.check is not None:
        case.check(world)


#: The error classes a call raises before or beside any exchange with the service, and the bases
#: raised only as a subclass: the matrix of network faults has no case for them.
NOT_FROM_THE_NETWORK = {
    "ProviderError",
    "ReplyError",
    "InvalidRequestError",
    "ModelNotSupportedError",
    "MissingCookiesError",
    "LoginError",
    "ProviderNotFoundError",
    "AllProvidersFailedError",
}


def test_the_matrix_has_a_fault_for_every_error_a_reply_can_cause() -> None:
    """Derived from the public error tree, so a new error class fails here until a real fault
    drives it."""
    covered = {case.error.__name__ for case in CASES.values() if case.error is not None}
    assert set(errors.__all__) - NOT_FROM_THE_NETWORK <= covered
