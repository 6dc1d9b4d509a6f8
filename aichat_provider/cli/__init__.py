"""The ``aichat`` command (also ``python -m aichat_provider``): a group of subcommands.

``ask`` is the default, so ``aichat "prompt"`` asks; a prompt that happens to be a command's name
goes through ``aichat ask doctor`` (or standard input). Each command is a module with ``NAME``,
``SUMMARY``, ``configure(parser)`` and ``run(args) -> exit code``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from .._constants import VERSION
from . import ask, chat, doctor, login, logout, serve
from ._common import ENVIRONMENT, EXIT_CODES, EXIT_INTERRUPTED

__all__ = ["build_parser", "main"]

COMMANDS: dict[str, ModuleType] = {
    module.NAME: module for module in (ask, chat, doctor, serve, login, logout)
}
DEFAULT_COMMAND = ask.NAME
_TOP_LEVEL_FLAGS = ("-h", "--help", "--version")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aichat",
        description="Ask chat-gpt.org through the Aichat provider. 'aichat PROMPT' is "
        "'aichat ask PROMPT'; without a prompt on a terminal, a chat starts.",
        epilog=f"{EXIT_CODES}\n\n{ENVIRONMENT}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aichat {VERSION}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    for name, module in COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=module.SUMMARY,
            description=module.SUMMARY,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0] not in COMMANDS and arguments[0] not in _TOP_LEVEL_FLAGS):
        arguments.insert(0, DEFAULT_COMMAND)
    try:
        args = build_parser().parse_args(arguments)
        code: int = args.run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code
