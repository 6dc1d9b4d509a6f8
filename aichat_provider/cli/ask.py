"""``aichat ask PROMPT`` (the default command, so ``aichat PROMPT`` is the same): print the answer.

The prompt comes from the argument, or from standard input when it is ``-`` or absent; with no
prompt on a terminal the interactive chat starts. Only the answer goes to standard output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from .. import errors
from . import chat
from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OutputClosedError,
    add_question_flags,
    ask,
    configure_logging,
    conversation,
    exit_code_for,
    provider_kwargs,
    report_error,
    report_output_closed,
    write_out,
)

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "ask"
SUMMARY = "ask one question and print the answer (the default: aichat PROMPT)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", nargs="?", help="the prompt; '-' or none reads standard input")
    add_question_flags(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: model, answer, elapsed seconds, attempts",
    )


def read_prompt(argument: str | None) -> str | None:
    """The prompt from the argument or standard input; None (after reporting why) if unusable."""
    if argument not in (None, "-"):
        return argument
    stdin = sys.stdin
    if stdin is None:
        report_error(
            "no prompt: give it as an argument, or pipe it to standard input (which is closed)."
        )
        return None
    try:
        return stdin.read()
    except UnicodeDecodeError:
        report_error("standard input is not UTF-8 text.")
    except OSError as exc:
        report_error(f"standard input cannot be read ({exc.strerror or exc}).")
    return None


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    kwargs = provider_kwargs(args)
    if args.prompt is None and sys.stdin is not None and sys.stdin.isatty():
        return chat.run(args)
    prompt = read_prompt(args.prompt)
    if prompt is None:
        return EXIT_USAGE
    if not prompt.strip():
        report_error("the prompt is empty.")
        return EXIT_USAGE
    messages = conversation(args.system, [], prompt.rstrip("\n"))
    try:
        answer = asyncio.run(ask(messages, args.model, kwargs))
    except errors.ProviderError as error:
        report_error(error)
        if args.verbose:
            logging.getLogger("aichat_provider").debug("details", exc_info=error)
        return exit_code_for(error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if args.json:
        text = json.dumps(
            {
                "model": answer.model,
                "answer": answer.text,
                "elapsed": round(answer.elapsed, 3),
                "attempts": answer.attempts,
            },
            ensure_ascii=False,
        )
    else:
        text = answer.text
    try:
        write_out(text, is_json=args.json)
    except OutputClosedError as error:
        return report_output_closed(error)
    return EXIT_OK
