"""The ``aichat`` command (also ``python -m aichat_provider``): a group of subcommands.

``ask`` is the default, so ``aichat tell me a joke`` asks; a prompt that happens to be a
command's name goes through ``aichat ask doctor`` (or standard input). Each command is a module
with ``NAME``, ``SUMMARY``, ``configure(parser)`` and ``run(args) -> exit code``, imported only
when it runs (``aichat --version`` and ``--help`` import none).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence
from types import ModuleType

from .._constants import VERSION
from ._commands import (
    EXIT_CODES_OF,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    SUMMARIES,
    environment_text,
    exit_codes_text,
)

__all__ = ["build_parser", "main"]

DEFAULT_COMMAND = "ask"
_TOP_LEVEL_FLAGS = ("-h", "--help", "-V", "--version")
EXAMPLES = """examples:
  aichat tell me a joke                        ask (the words are the prompt)
  aichat -m gpt-3.5-turbo -s "Be brief" hello  with a model and a system message
  aichat -f notes.txt summarise this           a file as context
  git diff | aichat -s "Review this diff"      the prompt from standard input
  aichat -c "and shorter?"                     go on with the latest conversation
  aichat chat                                  a conversation in the terminal
  aichat logs -q joke                          search the log
  aichat config set temperature 0.2            a default for every call
  aichat completion bash > ~/.local/share/bash-completion/completions/aichat"""


def command(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def build_parser(configured: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``configured``, only those commands get their flags
    (and their modules imported), the others are listed by name and summary."""
    parser = argparse.ArgumentParser(
        prog="aichat",
        description="Ask chat-gpt.org through the Aichat provider. 'aichat PROMPT' is "
        "'aichat ask PROMPT'; without a prompt on a terminal, a chat starts.",
        epilog=f"{EXAMPLES}\n\n{exit_codes_text()}\n\n{environment_text()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"aichat {VERSION}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    for name, summary in SUMMARIES.items():
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=exit_codes_text(EXIT_CODES_OF[name]),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if configured is None or name in configured:
            module = command(name)
            module.configure(sub)
            sub.set_defaults(run=module.run)
    return parser


class _NearMiss(Exception):
    pass


def _routed(arguments: list[str]) -> list[str]:
    """The arguments with the command first: ``ask`` put in when none is named, and a command
    named after leading flags (``aichat --base-url X ask doctor``) moved to the front."""
    if not arguments:
        return [DEFAULT_COMMAND]
    first = arguments[0]
    if first in SUMMARIES or first in _TOP_LEVEL_FLAGS:
        return arguments
    if first == "help":
        return [arguments[1], "--help"] if arguments[1:2] and arguments[1] in SUMMARIES else ["-h"]
    words = _positionals(arguments)
    if words:
        index = words[0]
        word = arguments[index]
        if word in SUMMARIES:
            return [word, *arguments[:index], *arguments[index + 1 :]]
        if len(words) == 1 and word.isascii() and word.isalpha():
            import difflib

            near = difflib.get_close_matches(word, [*SUMMARIES, "help"], n=1, cutoff=0.75)
            if near:
                raise _NearMiss(
                    f"{word!r} is not a command; did you mean 'aichat {near[0]}'? "
                    f"To ask it as a prompt: aichat ask {word}"
                )
    return [DEFAULT_COMMAND, *arguments]


def _positionals(arguments: list[str]) -> list[int]:
    """Where the words that are not flags or their values are, read as ``ask`` reads them."""
    ask_parser = argparse.ArgumentParser(add_help=False)
    command(DEFAULT_COMMAND).configure(ask_parser)
    actions = ask_parser._option_string_actions
    found: list[int] = []
    index = 0
    while index < len(arguments):
        token = arguments[index]
        if token == "--":  # noqa: S105  # not a password
            return found + list(range(index + 1, len(arguments)))
        if token.startswith("-") and token != "-":  # noqa: S105
            action = actions.get(token.split("=", 1)[0])
            takes_value = action is not None and action.nargs != 0 and "=" not in token
            index += 2 if takes_value else 1
            continue
        found.append(index)
        index += 1
    return found


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        arguments = _routed(arguments)
    except _NearMiss as miss:
        from ._common import report_error

        report_error(str(miss))
        return EXIT_USAGE
    chosen = [arguments[0]] if arguments[0] in SUMMARIES else []
    try:
        args = build_parser(chosen).parse_args(arguments)
        code: int = args.run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # what a command printed went into `| head` after it had gone
        from ._common import OutputClosedError, report_output_closed, silence_stdout

        silence_stdout()
        gone = OutputClosedError("the reader of standard output went away (broken pipe)")
        return report_output_closed(gone)
    return code
