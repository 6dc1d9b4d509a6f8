"""``aichat chat`` (and ``aichat`` alone on a terminal): a conversation that keeps its history.

Every turn sends the whole conversation. ``/reset`` clears it, ``/system TEXT`` sets the system
message, ``/exit`` or Ctrl-D quits; Ctrl-C at the prompt clears the line and during a request
abandons it. A turn that fails is reported and the conversation goes on; options that can never
work (a bad ``--temperature``) end the chat before it starts, with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from .. import errors
from .._aichat import Aichat
from .._constants import VERSION
from .._options import parse_options
from ._commands import SUMMARIES
from ._common import (
    EXIT_OK,
    EXIT_USAGE,
    OutputClosedError,
    Thread,
    add_question_flags,
    ask,
    base_url_of,
    command_line_text,
    configure_logging,
    conversation,
    log_exchange,
    provider_kwargs,
    report_error,
    report_output_closed,
    resume,
    settle,
)
from ._logs import new_conversation_id
from ._render import print_answer

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "chat"
SUMMARY = SUMMARIES[NAME]
HELP = (
    "commands: /help, /reset starts a new conversation, /system TEXT sets the system message, /exit"
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_question_flags(parser)


def _note(text: str) -> None:
    if sys.stderr is not None:
        print(text, file=sys.stderr, flush=True)


def _read_line(prompt: str) -> str:
    """A line from the terminal (with line editing), or from a pipe one line at a time, so a
    line in another encoding costs that line only."""
    stdin = sys.stdin
    if stdin is None:
        raise EOFError
    if stdin.isatty():
        return input(prompt)
    raw = stdin.buffer.readline()
    if not raw:
        raise EOFError
    return raw.decode("utf-8")


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    settled = settle(args)
    if settled is not None:
        return settled
    kwargs = provider_kwargs(args)
    try:  # options that would fail every turn end the chat before it starts
        options = parse_options(
            args.model or "",
            [{"role": "user", "content": "check"}],
            kwargs.get("proxy"),
            kwargs,
            models=Aichat.models,
            default_model=Aichat.default_model,
        )
        if args.system is not None:
            command_line_text(args.system, "--system")
        thread = resume(args)
    except errors.InvalidRequestError as error:
        report_error(error)
        return EXIT_USAGE
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  # line editing and in-session history for input()
    system: str | None = args.system if args.system is not None else thread.system
    history = thread.history
    host = options.base_url.host
    going_on = f" Going on with conversation {thread.id}." if history else ""
    _note(f"aichat {VERSION}, chatting with {host}.{going_on} {HELP}; Ctrl-D quits.")
    while True:
        try:
            line = _read_line("you> ")
        except EOFError:
            _note("")
            return EXIT_OK
        except KeyboardInterrupt:
            _note("^C")
            continue
        except UnicodeDecodeError:
            report_error("that line is not UTF-8 text; type it again.")
            continue
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return EXIT_OK
        if text == "/help":
            _note(f"({HELP})")
            continue
        if text == "/reset":
            history = []
            thread = Thread(new_conversation_id())
            _note("(conversation cleared; a new one starts)")
            continue
        if text == "/system" or text.startswith("/system "):
            system = text[len("/system") :].strip() or None
            _note(f"(system message {'set' if system else 'cleared'})")
            continue
        if text.startswith("/"):
            _note(f"(unknown command; {HELP})")
            continue
        messages = conversation(system, history, text)
        try:
            answer = asyncio.run(ask(messages, args.model or "", kwargs))
        except KeyboardInterrupt:
            _note("(interrupted)")
            continue
        except errors.ProviderError as error:
            report_error(error)
            continue
        history += [
            {"role": "user", "content": text},
            {"role": "assistant", "content": answer.text},
        ]
        try:
            print_answer(answer.text, markdown=getattr(args, "markdown", None))
        except OutputClosedError as error:
            return report_output_closed(error)
        log_exchange(
            args, thread, system=system, prompt=text, answer=answer, base_url=base_url_of(kwargs)
        )
