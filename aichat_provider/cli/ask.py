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
from pathlib import Path

from .. import errors
from .._messages import repair_text
from . import _config, chat
from ._commands import SUMMARIES
from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    OutputClosedError,
    add_question_flags,
    ask,
    base_url_of,
    cli_words,
    command_line_text,
    configure_logging,
    conversation,
    exit_code_for,
    log_exchange,
    provider_kwargs,
    report_error,
    report_output_closed,
    resume,
    write_out,
)
from ._render import print_answer

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "ask"
SUMMARY = SUMMARIES[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "prompt",
        nargs="*",
        help="the prompt: the rest of the words; '-' or none reads standard input",
    )
    add_question_flags(parser)
    parser.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        default=[],
        metavar="FILE",
        help="add the text of FILE before the prompt, as context (repeatable)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: model, answer, elapsed seconds, attempts, conversation id; "
        'a failure prints {"error": {...}}',
    )


def read_prompt(argument: str | None) -> str:
    """The prompt from the argument or standard input; InvalidRequestError if unusable."""
    if argument not in (None, "-"):
        return argument
    stdin = sys.stdin
    if stdin is None:
        raise errors.InvalidRequestError(
            "no prompt: give it as an argument, or pipe it to standard input (which is closed)."
        )
    try:
        return stdin.read()
    except UnicodeDecodeError:
        raise errors.InvalidRequestError("standard input is not UTF-8 text.") from None
    except OSError as exc:
        raise errors.InvalidRequestError(
            f"standard input cannot be read ({exc.strerror or exc})."
        ) from None


def with_files(prompt: str, files: list[str]) -> str:
    """The prompt with each file's text before it, fenced; InvalidRequestError if one is
    unusable."""
    parts = []
    for name in files:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise errors.InvalidRequestError(f"-f {name}: not UTF-8 text.") from None
        except OSError as exc:
            raise errors.InvalidRequestError(
                f"-f {name}: cannot be read ({exc.strerror or exc})."
            ) from None
        fence = "```"
        while fence in text:
            fence += "`"
        # a name in another encoding is shown with U+FFFD, as a file manager would
        parts.append(f"{repair_text(name)}:\n{fence}\n{text.rstrip(chr(10))}\n{fence}")
    return "\n\n".join([*parts, prompt])


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    words = " ".join(args.prompt) if args.prompt else None
    on_terminal = sys.stdin is not None and sys.stdin.isatty()
    if words is None and not args.files and on_terminal:
        return chat.run(args)
    try:  # everything that can be wrong with the call, before any request
        _config.apply(args, _config.load())
        if words is None and on_terminal:
            raise errors.InvalidRequestError("give a prompt with the files: aichat -f FILE PROMPT")
        if args.system is not None:
            command_line_text(args.system, "--system")
        prompt = read_prompt(None if words is None else command_line_text(words, "the prompt"))
        if not prompt.strip():
            raise errors.InvalidRequestError(
                "the prompt is empty: give it as words (aichat 'your question') or on stdin."
            )
        prompt = with_files(prompt.rstrip("\n"), args.files)
        thread = resume(args)
    except errors.InvalidRequestError as error:
        return fail(args, error)
    kwargs = provider_kwargs(args)
    system = args.system if args.system is not None else thread.system
    messages = conversation(system, thread.history, prompt)
    try:
        answer = asyncio.run(ask(messages, args.model or "", kwargs))
    except errors.ProviderError as error:
        return fail(args, error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED

    def log() -> bool:
        return log_exchange(
            args, thread, system=system, prompt=prompt, answer=answer, base_url=base_url_of(kwargs)
        )

    try:
        if args.json:  # logged first: the id it gives must name a logged conversation
            text = json.dumps(
                {
                    "model": answer.model,
                    "answer": answer.text,
                    "elapsed": round(answer.elapsed, 3),
                    "attempts": answer.attempts,
                    "conversation_id": thread.id if log() else None,
                },
                ensure_ascii=False,
            )
            write_out(text, is_json=True)
        else:
            print_answer(answer.text, markdown=args.markdown)
            log()
    except OutputClosedError as error:
        return report_output_closed(error)
    return EXIT_OK


def fail(args: argparse.Namespace, error: errors.ProviderError) -> int:
    """Report ``error`` (as a JSON object on standard output with ``--json``); its exit code."""
    code = exit_code_for(error)
    if args.verbose:
        logging.getLogger("aichat_provider").debug("details", exc_info=error)
    if not args.json:
        report_error(error)
        return code
    body = {
        "error": {"type": type(error).__name__, "message": cli_words(str(error)), "exit_code": code}
    }
    try:
        write_out(json.dumps(body, ensure_ascii=False), is_json=True)
    except OutputClosedError:
        report_error(error)
    return code
