"""The ``aichat`` command (also ``python -m aichat_provider``).

``aichat "prompt"`` prints the answer; ``echo prompt | aichat`` and ``aichat -`` read the prompt
from standard input; ``aichat`` alone on a terminal starts a chat; ``aichat doctor`` checks the
set-up. Only the answer goes to standard output; progress and errors go to standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from . import __version__, errors
from ._aichat import Aichat, Answer

EXIT_CODES = """exit codes:
  0  success
  1  any other failure
  2  usage error or invalid input
  3  cookies missing or rejected
  4  rate limited or stopped by a Cloudflare challenge
  5  network failure or timeout

aichat doctor   check cookies, browsers, DNS, TLS and the proxy, then make one test request
aichat serve    an OpenAI-compatible API on 127.0.0.1:8000 (needs the server extra)
environment:    AICHAT_COOKIES_FILE, AICHAT_BASE_URL, AICHAT_USER_AGENT, NO_COLOR
"""

CHAT_HELP = "commands: /reset clears the conversation, /system TEXT sets the system message, /exit"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aichat",
        description="Ask chat-gpt.org through the Aichat provider and print the answer. "
        "Without a prompt on a terminal, start an interactive chat.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", nargs="?", help="the prompt; '-' reads standard input")
    add_connection_options(parser)
    parser.add_argument("--system", help="a system message sent before the prompt")
    parser.add_argument("--model", default="", help="model id (default: gpt-3.5-turbo)")
    parser.add_argument("--temperature", type=float, help="0 to 2 (default 0.5)")
    parser.add_argument("--top-p", type=float, help="0 to 1 (default 1)")
    parser.add_argument("--max-retries", type=int, help="retries on 429, 5xx, network (2)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: model, answer, elapsed seconds, attempts",
    )
    parser.add_argument("--version", action="version", version=f"aichat {__version__}")
    return parser


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """The options ``aichat`` and ``aichat doctor`` share."""
    parser.add_argument("--base-url", help="API root (default: $AICHAT_BASE_URL or chat-gpt.org)")
    parser.add_argument(
        "--cookies-file", help="cookies.txt or JSON export (default: $AICHAT_COOKIES_FILE)"
    )
    parser.add_argument(
        "--browser",
        action="append",
        help="read cookies from this browser only (repeatable; default: all supported)",
    )
    parser.add_argument("--proxy", help="http://, https://, socks5:// or socks5h:// proxy URL")
    parser.add_argument("--user-agent", help="user agent (default: $AICHAT_USER_AGENT)")
    parser.add_argument("--timeout", type=float, help="seconds per attempt (default 120)")
    parser.add_argument("--ca-bundle", help="CA bundle to verify the service's TLS certificate")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logs on stderr (secrets redacted)"
    )


def provider_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The ``create_async`` keyword arguments the options ask for (None: the default)."""
    kwargs: dict[str, Any] = {
        "base_url": args.base_url,
        "cookies_file": args.cookies_file,
        "browser": args.browser,
        "user_agent": args.user_agent,
        "timeout": args.timeout,
    }
    if args.ca_bundle:
        kwargs["verify"] = args.ca_bundle
    for name in ("temperature", "top_p", "max_retries"):
        if getattr(args, name, None) is not None:
            kwargs[name] = getattr(args, name)
    return kwargs


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


def use_color(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


def report_error(error: BaseException | str) -> None:
    prefix = "\033[31maichat: error:\033[0m" if use_color(sys.stderr) else "aichat: error:"
    print(f"{prefix} {error}", file=sys.stderr)


def configure_logging(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
        )


async def spin_while(stream: TextIO) -> None:
    """A spinner with the seconds waited, on a terminal only; cancelled when the answer comes."""
    started = time.monotonic()
    frames = itertools.cycle("|/-\\")
    try:
        while True:
            stream.write(f"\r{next(frames)} waiting {time.monotonic() - started:4.1f} s")
            stream.flush()
            await asyncio.sleep(0.1)
    finally:
        stream.write("\r" + " " * 24 + "\r")
        stream.flush()


async def ask(
    messages: list[dict[str, str]], model: str, proxy: str | None, kwargs: dict[str, Any]
) -> Answer:
    spinner = asyncio.create_task(spin_while(sys.stderr)) if sys.stderr.isatty() else None
    try:
        return await Aichat._ask(model, messages, proxy, **kwargs)
    finally:
        if spinner is not None:
            spinner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await spinner


def conversation(
    system: str | None, history: list[dict[str, str]], prompt: str
) -> list[dict[str, str]]:
    head = [{"role": "system", "content": system}] if system else []
    return [*head, *history, {"role": "user", "content": prompt}]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["doctor"]:
        from ._doctor import doctor_main

        return doctor_main(arguments[1:])
    if arguments[:1] == ["serve"]:
        try:
            from .server import serve_main
        except ImportError:
            report_error(
                "aichat serve needs the server extra: pip install 'aichat-provider[server]'"
            )
            return 2
        return serve_main(arguments[1:])
    args = build_parser().parse_args(arguments)
    configure_logging(args.verbose)
    kwargs = provider_kwargs(args)
    if args.prompt is None and sys.stdin.isatty():
        return chat(args, kwargs)
    prompt = sys.stdin.read() if args.prompt in (None, "-") else args.prompt
    if not prompt.strip():
        report_error("the prompt is empty.")
        return 2
    messages = conversation(args.system, [], prompt.rstrip("\n"))
    try:
        answer = asyncio.run(ask(messages, args.model, args.proxy, kwargs))
    except errors.ProviderError as error:
        report_error(error)
        if args.verbose:
            logging.getLogger("aichat_provider").debug("details", exc_info=error)
        return exit_code_for(error)
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(
            json.dumps(
                {
                    "model": answer.model,
                    "answer": answer.text,
                    "elapsed": round(answer.elapsed, 3),
                    "attempts": answer.attempts,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(answer.text)
    return 0


def chat(args: argparse.Namespace, kwargs: dict[str, Any]) -> int:
    """The interactive chat: the whole conversation is sent with every turn."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  # line editing and in-session history for input()
    system: str | None = args.system
    history: list[dict[str, str]] = []
    print(
        f"aichat {__version__}, chatting with chat-gpt.org. {CHAT_HELP}; Ctrl-D quits.",
        file=sys.stderr,
    )
    while True:
        try:
            line = input("you> ")
        except EOFError:
            print(file=sys.stderr)
            return 0
        except KeyboardInterrupt:
            print("^C", file=sys.stderr)
            continue
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return 0
        if text == "/reset":
            history.clear()
            print("(conversation cleared)", file=sys.stderr)
            continue
        if text == "/system" or text.startswith("/system "):
            system = text[len("/system") :].strip() or None
            print(f"(system message {'set' if system else 'cleared'})", file=sys.stderr)
            continue
        if text.startswith("/"):
            print(f"(unknown command; {CHAT_HELP})", file=sys.stderr)
            continue
        messages = conversation(system, history, text)
        try:
            answer = asyncio.run(ask(messages, args.model, args.proxy, kwargs))
        except KeyboardInterrupt:
            print("(interrupted)", file=sys.stderr)
            continue
        except errors.ProviderError as error:
            report_error(error)
            if isinstance(error, errors.InvalidRequestError):
                return 2
            continue
        history += [
            {"role": "user", "content": text},
            {"role": "assistant", "content": answer.text},
        ]
        print(answer.text, flush=True)
