"""``aichat serve``: run the OpenAI-compatible API (``aichat_provider.server``) with Uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

from .. import _config
from ._common import (
    EXIT_OK,
    EXIT_USAGE,
    add_option_flags,
    add_verbose_flag,
    configure_logging,
    provider_kwargs,
    report_error,
)

if TYPE_CHECKING:
    from ..server import ServerConfig

NAME = "serve"
SUMMARY = "an OpenAI-compatible API on 127.0.0.1:8000 (needs the server extra)"
ENV_API_KEY = _config.ENV_API_KEY

logger = logging.getLogger("aichat_provider.server")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Serve an OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models) backed by "
        "Aichat, with this machine's cookies."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000)")
    parser.add_argument(
        "--api-key", help=f"require 'Authorization: Bearer KEY' (default: ${ENV_API_KEY})"
    )
    parser.add_argument("--max-body-bytes", type=int, default=_config.SERVER_MAX_BODY_BYTES)
    add_option_flags(parser, ("connection",))
    add_verbose_flag(parser)


def run(args: argparse.Namespace) -> int:
    try:
        from ..server import ServerConfig
    except ImportError:
        report_error("aichat serve needs the server extra: pip install 'aichat-provider[server]'")
        return EXIT_USAGE
    configure_logging(args.verbose)
    config = ServerConfig(
        api_key=args.api_key or os.environ.get(ENV_API_KEY) or None,
        provider_kwargs=provider_kwargs(args),
        max_body_bytes=args.max_body_bytes,
    )
    serve(args.host, args.port, config)
    return EXIT_OK


def serve(host: str, port: int, config: ServerConfig) -> None:
    """Run the server with Uvicorn until interrupted."""
    import uvicorn

    from ..server import create_app

    if host not in ("127.0.0.1", "localhost", "::1") and not config.api_key:
        logger.warning(
            "Serving on %s without an API key: anyone who can reach this address can use your "
            "cookies. Set --api-key or %s.",
            host,
            ENV_API_KEY,
        )
    print(f"aichat serve: OpenAI-compatible API at http://{host}:{port}/v1", flush=True)
    uvicorn.run(
        create_app(config), host=host, port=port, log_level="info", timeout_graceful_shutdown=5
    )
