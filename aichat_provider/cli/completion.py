"""``aichat completion SHELL``: a completion script for bash, zsh or fish, made by shtab (the
``cli`` extra) from the same parser the commands use."""

from __future__ import annotations

import argparse

from ._commands import SUMMARIES
from ._common import EXIT_OK, EXIT_SETUP, OutputClosedError, install_hint, report_error, write_out

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "completion"
SUMMARY = SUMMARIES[NAME]
SHELLS = ("bash", "zsh", "fish")
EXAMPLES = """examples:
  aichat completion bash > ~/.local/share/bash-completion/completions/aichat
  aichat completion zsh > "${fpath[1]}/_aichat"
  aichat completion fish > ~/.config/fish/completions/aichat.fish"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = f"{EXAMPLES}\n\n{parser.epilog or ''}".rstrip()
    parser.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or fish")


def run(args: argparse.Namespace) -> int:
    try:
        import shtab
    except ImportError:
        report_error(f"completion scripts need the cli extra: {install_hint('cli')}")
        return EXIT_SETUP
    from . import build_parser

    script = shtab.complete(build_parser(), shell=args.shell)
    try:
        write_out(script.rstrip("\n"))
    except OutputClosedError as error:
        from ._common import report_output_closed

        return report_output_closed(error)
    return EXIT_OK
