"""The ``aichat`` command (also ``python -m aichat_provider``): a prompt in, the answer out."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from . import __version__, errors
from ._aichat import Aichat

EXIT_CODES = """exit codes:
  0  the answer was printed
  1  any other failure
  2  usage error or invalid input
  3  cookies missing or rejected
  4  rate limited or stopped by a Cloudflare challenge
  5  network failure or timeout
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aichat",
        description="Ask chat-gpt.org through the Aichat provider and print the answer.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "prompt", nargs="?", default="-", help="the prompt; '-' or nothing reads standard input"
    )
    parser.add_argument("--model", default="", help="model id (default: gpt-3.5-turbo)")
    parser.add_argument("--base-url", help="API root (default: $AICHAT_BASE_URL or chat-gpt.org)")
    parser.add_argument(
        "--cookies-file", help="cookies.txt or JSON export (default: $AICHAT_COOKIES_FILE)"
    )
    parser.add_argument("--proxy", help="http://, https://, socks5:// or socks5h:// proxy URL")
    parser.add_argument("--timeout", type=float, help="seconds per attempt")
    parser.add_argument("--ca-bundle", help="CA bundle to verify the service's TLS certificate")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs on stderr")
    parser.add_argument("--version", action="version", version=f"aichat {__version__}")
    return parser


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, errors.InvalidRequestError):
        return 2
    if isinstance(error, (errors.MissingCookiesError, errors.AuthenticationError)):
        return 3
    if isinstance(error, (errors.RateLimitError, errors.CloudflareError)):
        return 4
    if isinstance(error, (errors.ProviderConnectionError, errors.ProviderTimeoutError)):
        return 5
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        print("aichat: error: the prompt is empty.", file=sys.stderr)
        return 2
    kwargs: dict[str, object] = {
        "base_url": args.base_url,
        "cookies_file": args.cookies_file,
        "timeout": args.timeout,
    }
    if args.ca_bundle:
        kwargs["verify"] = args.ca_bundle
    messages = [{"role": "user", "content": prompt.rstrip("\n")}]
    try:
        answer = asyncio.run(Aichat.create_async(args.model, messages, args.proxy, **kwargs))
    except errors.ProviderError as error:
        print(f"aichat: error: {error}", file=sys.stderr)
        return exit_code_for(error)
    except KeyboardInterrupt:
        return 130
    print(answer)
    return 0
