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
from dataclasses import dataclass, field
from typing import Any, TextIO

from .. import _constants, errors
from .._aichat import Aichat, Answer
from .._extras import install_hint as install_hint
from .._options import OPTIONS
from ._commands import (
    EXIT_BLOCKED as EXIT_BLOCKED,
)
from ._commands import (
    EXIT_COOKIES as EXIT_COOKIES,
)
from ._commands import (
    EXIT_FAILURE as EXIT_FAILURE,
)
from ._commands import (
    EXIT_INTERRUPTED as EXIT_INTERRUPTED,
)
from ._commands import (
    EXIT_NETWORK as EXIT_NETWORK,
)
from ._commands import (
    EXIT_OK as EXIT_OK,
)
from ._commands import (
    EXIT_SERVER as EXIT_SERVER,
)
from ._commands import (
    EXIT_SETUP as EXIT_SETUP,
)
from ._commands import (
    EXIT_USAGE as EXIT_USAGE,
)

# the commands take the exit codes from here
from ._config import ConfigError


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


_LIBRARY_PHRASES = (
    (
        re.compile(
            r"Pass cookies=\{\.\.\.\} \(or a 'name=value; \.\.\.' string\), point "
            r"cookies_file= or (\w+) at"
        ),
        r"Point --cookies-file (or \1) at",
    ),
    (re.compile(r"verify='/path/to/ca\.pem'"), "--ca-bundle /path/to/ca.pem"),
    (re.compile(r"\bbase_url and proxy\b"), "--base-url and --proxy"),
    (re.compile(r"\bCheck base_url\b"), "Check --base-url"),
    (re.compile(r"\bverify=(\S+?): no CA bundle"), r"--ca-bundle \1: no CA bundle"),
)


def cli_words(message: str) -> str:
    """A library message in the words of the command line: flags, not keyword arguments
    (``cookies_file=`` is ``--cookies-file``, ``temperature must`` is ``--temperature must``)."""
    for pattern, replacement in _LIBRARY_PHRASES:
        message = pattern.sub(replacement, message)
    for option in OPTIONS:
        if option.flag is None:
            continue
        name = re.escape(option.name)
        # "name=value" is "--flag value": the '=' becomes the space a command line has
        message = re.sub(rf"(?<![\w\-.'\"/]){name}=(?=[^\s),;])", f"{option.flag} ", message)
        message = re.sub(rf"(?<![\w\-.'\"/])({name}=|{name}(?= must))", option.flag, message)
    return message


def report_error(error: BaseException | str) -> None:
    """One line on stderr (if there is a stderr at all), wherever it goes: an error can quote the
    service, and errors are read by people."""
    stream = sys.stderr
    if stream is None:
        return
    prefix = "\033[31maichat: error:\033[0m" if use_color(stream) else "aichat: error:"
    with contextlib.suppress(OSError, ValueError):  # stderr is gone too; the exit code tells
        text = str(error) if isinstance(error, ConfigError) else cli_words(str(error))
        print(f"{prefix} {one_line(text)}", file=stream, flush=True)


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
        silence_stdout()
        raise OutputClosedError("the reader of standard output went away (broken pipe)") from None
    except (OSError, ValueError) as exc:
        silence_stdout()
        raise OutputClosedError(f"standard output cannot be written ({exc})") from None


def silence_stdout() -> None:
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
    parser.add_argument("-s", "--system", help="a system message sent before the prompt")
    parser.add_argument("-m", "--model", help=f"the model (default: {_constants.DEFAULT_MODEL})")
    parser.add_argument(
        "-c",
        "--continue",
        dest="continue_",
        action="store_true",
        help="go on with the latest logged conversation",
    )
    parser.add_argument(
        "--cid", metavar="ID", help="go on with the logged conversation ID (see: aichat logs)"
    )
    parser.add_argument(
        "--no-log",
        dest="log",
        action="store_const",
        const=False,
        help="do not log this exchange (default: log it; config key: log)",
    )
    parser.add_argument(
        "--raw",
        dest="markdown",
        action="store_const",
        const=False,
        help="print answers as they are, not as Markdown (also: NO_COLOR; config key: markdown)",
    )
    add_option_flags(parser, ("connection", "request"))
    add_verbose_flag(parser)


def command_line_text(text: str, what: str) -> str:
    """``text`` from the command line, or InvalidRequestError if it held bytes that are not
    UTF-8 (Python keeps each as a lone surrogate, which no request can carry)."""
    for index, char in enumerate(text):
        if "\udc80" <= char <= "\udcff":
            offset = len(text[:index].encode("utf-8", "surrogateescape"))
            raise errors.InvalidRequestError(
                f"{what} is not UTF-8 text (byte {ord(char) - 0xDC00:#04x} at offset {offset}); "
                "give it as UTF-8 text (is the terminal set to UTF-8?)."
            )
    return text


def settle(args: argparse.Namespace) -> int | None:
    """Fill absent flags from the config file; an exit code if it cannot be used."""
    from . import _config

    try:
        _config.apply(args, _config.load())
    except errors.InvalidRequestError as error:
        report_error(error)
        return EXIT_USAGE
    return None


def base_url_of(kwargs: dict[str, Any]) -> str:
    """The service's address a call with ``kwargs`` goes to."""
    return str(
        kwargs.get("base_url")
        or os.environ.get(_constants.ENV_BASE_URL)
        or _constants.DEFAULT_BASE_URL
    )


@dataclass
class Thread:
    """The conversation a question belongs to: its logged id, the messages before it, and the
    system message and model it had."""

    id: str
    history: list[dict[str, str]] = field(default_factory=list)
    system: str | None = None


def resume(args: argparse.Namespace) -> Thread:
    """The conversation ``-c`` or ``--cid`` names (read from the log), or a new one."""
    from . import _logs

    cid = getattr(args, "cid", None)
    if cid:
        cid = _logs.find_conversation(cid)
    elif getattr(args, "continue_", False):
        cid = _logs.latest_conversation_id()
    if not cid:
        return Thread(_logs.new_conversation_id())
    exchanges = _logs.exchanges(cid)
    system = exchanges[-1].system if exchanges else None
    return Thread(cid, _logs.history(exchanges), system)


def log_exchange(
    args: argparse.Namespace,
    thread: Thread,
    *,
    system: str | None,
    prompt: str,
    answer: Answer,
    base_url: str,
) -> bool:
    """Add the exchange to the log unless ``--no-log`` or the config says not to; a log that
    cannot be written is reported and the answer stands. Whether it was logged."""
    if getattr(args, "log", None) is False:
        return False
    import sqlite3

    from . import _logs

    try:
        _logs.record(
            thread.id,
            model=answer.model,
            system=system,
            prompt=prompt,
            answer=answer.text,
            base_url=base_url,
            elapsed=answer.elapsed,
            attempts=answer.attempts,
        )
    except (errors.InvalidRequestError, sqlite3.Error, OSError) as error:
        report_error(f"the exchange was not logged: {error}")
        return False
    return True
