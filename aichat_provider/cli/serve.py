"""``aichat serve``: run the OpenAI-compatible API (``aichat_provider.server``) with Uvicorn."""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import logging
import os
import socket
import tempfile
import threading
import time
import webbrowser
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import _constants
from ._commands import SUMMARIES
from ._common import (
    EXIT_OK,
    EXIT_SERVER,
    EXIT_USAGE,
    add_option_flags,
    add_verbose_flag,
    configure_logging,
    install_hint,
    provider_kwargs,
    report_error,
)

if TYPE_CHECKING:
    from ..server import ServerConfig

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "serve"
SUMMARY = SUMMARIES[NAME]
ENV_API_KEY = _constants.ENV_API_KEY
#: Uvicorn's own limit comes after the server's grace period, which answers 503 itself.
UVICORN_GRACE_MARGIN = 5.0

logger = logging.getLogger("aichat_provider.server")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Serve OpenAI's Chat Completions and Responses APIs and Anthropic's Messages API "
        "(POST /v1/chat/completions, /v1/responses, /v1/messages, GET /v1/models, ...) and a "
        "chat page at /, backed by Aichat with this machine's cookies."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument(
        "--api-key",
        help=f"require 'Authorization: Bearer KEY' or 'x-api-key: KEY' (default: ${ENV_API_KEY})",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let the web page at ORIGIN (https://app.example) call the API; repeatable; * for any "
        f"(default: ${_constants.ENV_CORS_ORIGINS})",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="answer requests for Host NAME too (only loopback names by default); repeatable; "
        f"* for any (default: ${_constants.ENV_ALLOWED_HOSTS})",
    )
    parser.add_argument(
        "--graceful-timeout",
        type=float,
        default=_constants.SERVER_GRACEFUL_TIMEOUT,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in flight may take before they are answered 503 "
        f"(default: {_constants.SERVER_GRACEFUL_TIMEOUT:g})",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=_constants.SERVER_READ_TIMEOUT,
        metavar="SECONDS",
        help="how long a client may take to send a request's head, and again its body, or "
        "go without taking any of its answer, before the connection is closed "
        f"(default: {_constants.SERVER_READ_TIMEOUT:g})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes; /metrics counts them all (default: 1)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=_constants.SERVER_MAX_BODY_BYTES,
        metavar="BYTES",
        help="refuse request bodies larger than this with 413 "
        f"(default: {_constants.SERVER_MAX_BODY_BYTES})",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the chat page in the default browser"
    )
    add_option_flags(parser, ("connection",))
    add_verbose_flag(parser)


def run(args: argparse.Namespace) -> int:
    try:
        from ..server import ServerConfig, ServerConfigError
        from ..server._settings import environment_list
    except ImportError:
        report_error(f"aichat serve needs the server extra: {install_hint('server')}")
        return EXIT_SERVER
    configure_logging(args.verbose)
    try:
        if not 1 <= args.workers <= 64:
            raise ServerConfigError("--workers must be between 1 and 64.")
        if not 0 <= args.port <= 65535:
            raise ServerConfigError("--port must be between 0 and 65535.")
        if not 0 < args.read_timeout <= _constants.MAX_TIMEOUT:
            raise ServerConfigError("--read-timeout must be more than 0 s and at most a day.")
        config = ServerConfig(
            api_key=args.api_key or os.environ.get(ENV_API_KEY) or None,
            provider_kwargs=provider_kwargs(args),
            max_body_bytes=args.max_body_bytes,
            cors_origins=tuple(args.cors_origin) or environment_list(_constants.ENV_CORS_ORIGINS),
            allowed_hosts=tuple(args.allowed_host)
            or environment_list(_constants.ENV_ALLOWED_HOSTS),
            graceful_timeout=args.graceful_timeout,
        )
        config.check()
        handed_over = config.to_json() if args.workers > 1 else ""
    except ServerConfigError as error:
        report_error(f"the server cannot start: {error}")
        return EXIT_USAGE
    busy = port_taken(args.host, args.port)
    if busy:
        report_error(busy)
        return EXIT_SERVER
    warn_if_exposed(args.host, config)
    serve(
        args.host,
        args.port,
        config,
        workers=args.workers,
        handed_over=handed_over,
        open_page=args.open,
        read_timeout=args.read_timeout,
    )
    return EXIT_OK


def port_taken(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (in use, not an address here), or None;
    checked before anything is printed, so a busy port is one clear line, not Uvicorn's."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError) as exc:
        return f"the server could not start: {host!r} is not an address of this machine ({exc})."
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"the server could not start: port {port} on {host} is in use; "
                    f"pick another with --port (e.g. --port {port + 1 if port < 65535 else 8001})."
                )
            return f"the server could not start on {host}:{port} ({exc.strerror or exc})."
    return None


def warn_if_exposed(host: str, config: ServerConfig) -> None:
    from ..server._settings import is_loopback

    if not is_loopback(host) and not config.api_key:
        logger.warning(
            "Serving on %s without an API key: anyone who can reach this address can use your "
            "cookies. Set --api-key or %s.",
            host,
            ENV_API_KEY,
        )
    if "*" in config.cors_origins and not config.api_key:
        logger.warning(
            "--cors-origin '*' without an API key: any web page you open can use your cookies."
        )


def serve(
    host: str,
    port: int,
    config: ServerConfig,
    *,
    workers: int = 1,
    handed_over: str = "",
    open_page: bool = False,
    read_timeout: float = _constants.SERVER_READ_TIMEOUT,
) -> None:
    """Run the server with Uvicorn until interrupted (SIGTERM drains it first)."""
    import uvicorn

    from ..server import create_app
    from ..server._protocol import BoundedHttpToolsProtocol
    from ..server._settings import WORKER_CONFIG_VARIABLE

    page = page_url(host, port)
    print(f"aichat serve: OpenAI-compatible API at {page}v1, chat page at {page}", flush=True)
    if open_page:
        threading.Thread(target=_open_when_listening, args=(host, port), daemon=True).start()
    options = {
        "host": host,
        "port": port,
        "log_level": "info",
        "timeout_graceful_shutdown": int(config.graceful_timeout + UVICORN_GRACE_MARGIN),
        "server_header": False,
        # No route speaks WebSocket: an upgrade request is an ordinary request, admitted and
        # logged (query redacted) as any other, not a handshake that bypasses both.
        "ws": "none",
        # A class reference and numbers: worker processes unpickle it and build the same protocol.
        "http": functools.partial(BoundedHttpToolsProtocol, read_timeout=read_timeout),
    }
    if workers > 1:
        # Worker processes build the app themselves; the configuration goes with them, and
        # their metrics go to one directory that each worker's /metrics adds up.
        os.environ[WORKER_CONFIG_VARIABLE] = handed_over
        with _metrics_directory():
            uvicorn.run(
                "aichat_provider.server:create_app",
                factory=True,
                workers=workers,
                **options,  # type: ignore[arg-type]
            )
        return
    uvicorn.run(create_app(config), **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def _metrics_directory() -> Iterator[None]:
    """A private ``PROMETHEUS_MULTIPROC_DIR`` for the workers, removed when they have stopped
    (one the environment already names is the caller's to manage)."""
    from ..server._metrics import MULTIPROCESS_VARIABLE

    if os.environ.get(MULTIPROCESS_VARIABLE):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="aichat-metrics-") as directory:
        os.environ[MULTIPROCESS_VARIABLE] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_VARIABLE]


def page_url(host: str, port: int) -> str:
    """The chat page's address; a wildcard bind is opened on this machine's loopback."""
    name = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host.strip("[]")  # noqa: S104
    return f"http://{f'[{name}]' if ':' in name else name}:{port}/"


def _open_when_listening(host: str, port: int) -> None:
    """Open the chat page once the port answers (giving up after 30 s)."""
    page = page_url(host, port)
    target = page.split("//")[1].rpartition(":")[0].strip("[]")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((target, port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:
        return
    if not webbrowser.open(page):
        logger.warning("No browser could be opened; the chat page is at %s", page)
