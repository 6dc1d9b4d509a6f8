"""Answers shown as Markdown on a terminal (with rich, from the ``cli`` extra).

Only when standard output is a terminal, ``NO_COLOR`` is unset, ``--raw`` was not given (nor
``markdown = false`` in the config) and rich is installed; anywhere else the answer is written
exactly as it came. The answer's control characters are made visible before rich sees it, so
nothing from the service reaches the terminal raw.
"""

from __future__ import annotations

import os
import sys

from ._common import OutputClosedError, shown, write_out


def wants_markdown(markdown: bool | None) -> bool:
    stream = sys.stdout
    return (
        markdown is not False
        and stream is not None
        and getattr(stream, "isatty", bool)()
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    )


def print_answer(text: str, *, markdown: bool | None) -> None:
    """Write the answer: rendered on a terminal, exact elsewhere (raises OutputClosedError)."""
    if not wants_markdown(markdown):
        write_out(text)
        return
    try:
        from rich.console import Console
        from rich.markdown import Markdown
    except ImportError:
        write_out(text)
        return
    try:
        console = Console(file=sys.stdout, highlight=False, emoji=False, soft_wrap=False)
        console.print(Markdown(shown(text), hyperlinks=False))
        sys.stdout.flush()
    except BrokenPipeError:
        raise OutputClosedError("the reader of standard output went away (broken pipe)") from None
    except (OSError, ValueError) as exc:
        raise OutputClosedError(f"standard output cannot be written ({exc})") from None
