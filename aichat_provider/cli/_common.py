"""What the ``aichat`` commands share: option flags from the declared options, the exit codes,
error reporting, logging and writing the answer."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import re
import sys
import time
from collections.abc import Collection
from typing import Any, TextIO

from .. import errors
from .._aichat import Aichat, Answer
from .._options import OPTIONS

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_COOKIES = 3
EXIT_BLOCKED = 4
EXIT_NETWORK = 5
EXIT_INTERRUPTED = 130

EXIT_CODES = """exit codes:
  0  success
  1  any other failure (including an answer that could not be written out)
  2  usage error or invalid input
  3  cookies missing or rejected
  4  rate limited or stopped by a Cloudflare challenge
  5  network failure or timeout
  130  interrupted (Ctrl-C)"""

ENVIRONMENT = "environment:    AICHAT_COOKIES_FILE, AICHAT_BASE_URL, AICHAT_USER_AGENT, NO_COLOR"


def add_option_flags(parser: argparse.ArgumentParser, scopes: Collection[str]) -> None:
    """The flags of the declared options whose scope is in ``scopes``."""
    for option in OPTIONS:
        if option.flag is None or option.scope not in scopes:
            continue
        if option.flag_type is None:  # a switch
            parser.add_argument(
                option.flag,
                dest=option.name,
                action="store_const",
                const=True,
                help=option.cli_help,
            )
            continue
        parser.add_argument(
            option.flag,
            dest=option.name,
            type=option.flag_type,
            action="append" if option.repeatable else "store",
            help=option.cli_help,
            metavar=option.flag.lstrip("-").upper().replace("-", "_"),
        )


def shown_path(path: os.PathLike[str]) -> str:
    """``path`` with the home directory written ``~``, as people write it."""
    text, home = os.fspath(path), os.path.expanduser("~")
    return "~" + text[len(home) :] if text.startswith(home + os.sep) else text


def add_verbose_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logs on stderr (secrets redacted)"
    )


def provider_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments (``proxy`` included) the flags ask for; absent flags are left out."""
    kwargs: dict[str, Any] = {}
    for option in OPTIONS:
        value = getattr(args, option.name, None)
        if value is None:
            continue
        if option.name == "headers":
            value = dict(value)
        kwargs[option.name] = value
    return kwargs


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, errors.InvalidRequestError):
        return EXIT_USAGE
    if isinstance(
        error, (errors.MissingCookiesError, errors.AuthenticationError, errors.LoginError)
    ):
        return EXIT_COOKIES
    if isinstance(error, (errors.RateLimitError, errors.CloudflareError)):
        return EXIT_BLOCKED
    if isinstance(error, (errors.ProviderConnectionError, errors.ProviderTimeoutError)):
        return EXIT_NETWORK
    return EXIT_FAILURE


#: What a terminal would obey: C0 controls but tab and newline (and CR right before a newline,
#: which overwrites nothing), DEL and the C1 controls (U+009B alone starts a CSI sequence).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
#: Line breaks as ``str.splitlines`` knows them, with the white space around them.
_LINE_BREAK = re.compile(r"\s*[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]\s*")
_JSON_RAW_CONTROL = re.compile(r"[\x7f-\x9f]")


def _caret(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code >= 0x80:  # as ``cat -v`` shows the byte: M- and the C0 control it mirrors
        return "M-" + _caret_of(code - 0x80)
    return _caret_of(code)


def _caret_of(code: int) -> str:
    return "^?" if code == 0x7F else "^" + chr(code + 0x40)


def shown(text: str) -> str:
    """``text`` safe for a terminal: each control it would obey (ESC, CSI, CR, BS, BEL...) written
    in ``cat -v`` notation (ESC as ``^[``, U+009B as ``M-^[``); newlines and tabs kept."""
    return _CONTROL.sub(_caret, text)


def one_line(text: str) -> str:
    """``text`` on one line for a message: line breaks become spaces, other controls shown."""
    return shown(_LINE_BREAK.sub(" ", text).strip())


def _json_shown(text: str) -> str:
    """JSON text with DEL and the C1 controls written as ``\\u`` escapes, which JSON leaves raw
    (it escapes only U+0000-U+001F); outside strings JSON has no such characters."""
    return _JSON_RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class ShownFormatter(logging.Formatter):
    """Log records (tracebacks included) with their controls shown: they can quote the
    service."""

    def format(self, record: logging.LogRecord) -> str:
        return shown(super().format(record))


def use_color(stream: TextIO | None) -> bool:
    return stream is not None and stream.isatty() and not os.environ.get("NO_COLOR")


def report_error(error: BaseException | str) -> None:
    """One line on stderr (if there is a stderr at all), wherever it goes: an error can quote the
    service, and errors are read by people."""
    stream = sys.stderr
    if stream is None:
        return
    prefix = "\033[31maichat: error:\033[0m" if use_color(stream) else "aichat: error:"
    with contextlib.suppress(OSError, ValueError):  # stderr is gone too; the exit code tells
        print(f"{prefix} {one_line(str(error))}", file=stream, flush=True)


def configure_logging(verbose: bool) -> None:
    if verbose and sys.stderr is not None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(ShownFormatter("%(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.DEBUG, handlers=[handler])


class OutputClosedError(Exception):
    """Standard output is closed or its reader went away (``| head``)."""


def write_out(text: str, *, is_json: bool = False) -> None:
    """Write ``text`` and a newline to stdout, all of it, or raise OutputClosedError.

    On a terminal its controls are shown, not obeyed (:func:`shown`; for JSON, escaped the JSON
    way, so it still decodes to the same value); anywhere else the text is written as it is.

    With stdout closed at start, Python sets ``sys.stdout`` to None and ``print`` writes nothing;
    and when the reader of a pipe goes away during a large write, ``BufferedWriter.write``
    returns a short count instead of raising. Neither may look like success.
    """
    stream = sys.stdout
    if stream is None:
        raise OutputClosedError("standard output is closed")
    try:
        if getattr(stream, "isatty", bool)():
            text = _json_shown(text) if is_json else shown(text)
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text-only stream, as some embedding hosts install
            stream.write(text + "\n")
            stream.flush()
            return
        stream.flush()
        data = memoryview((text + "\n").encode(stream.encoding or "utf-8", errors="replace"))
        while data:
            written = buffer.write(data)
            if not written:
                raise OSError("nothing could be written")
            data = data[written:]
        buffer.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise OutputClosedError("the reader of standard output went away (broken pipe)") from None
    except (OSError, ValueError) as exc:
        _silence_stdout()
        raise OutputClosedError(f"standard output cannot be written ({exc})") from None


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def report_output_closed(error: OutputClosedError) -> int:
    report_error(f"the answer could not be written: {error}.")
    return EXIT_FAILURE


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


async def ask(messages: list[dict[str, str]], model: str, kwargs: dict[str, Any]) -> Answer:
    """One provider call, with a spinner on stderr while it waits (on a terminal only)."""
    stderr = sys.stderr
    spinner = (
        asyncio.create_task(spin_while(stderr)) if stderr is not None and stderr.isatty() else None
    )
    try:
        return await Aichat.ask_async(model, messages, **kwargs)
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


def add_question_flags(parser: argparse.ArgumentParser) -> None:
    """What ``aichat ask`` and ``aichat chat`` take besides the provider's options."""
    parser.add_argument("--system", help="a system message sent before the prompt")
    parser.add_argument("--model", default="", help="model id (default: gpt-3.5-turbo)")
    add_option_flags(parser, ("connection", "request"))
    add_verbose_flag(parser)
