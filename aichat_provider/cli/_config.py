"""The config file: defaults for the flags, in TOML, in the user's config directory.

Flat keys only (``model = "gpt-3.5-turbo"``, ``temperature = 0.2``, ``browser = ["firefox"]``).
A value is used when its flag is absent and its environment variable unset: flag > environment >
config > built-in default. The file is read only by the commands that use it, once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _constants, errors
from .._dirs import user_dir

ENV_CONFIG_FILE = "AICHAT_CONFIG_FILE"
#: A config file of flat keys is a few hundred bytes; past this it is not one.
MAX_BYTES = 1 << 20
#: Where a key's assignment may start: the key bare or quoted, at the start of a line.
_KEY_START = r"[ \t]*(?:{key}|\"{key}\"|'{key}')[ \t]*="


@dataclass(frozen=True)
class Setting:
    """A key of the config file: the flag it stands in for and the type it takes."""

    key: str
    #: The attribute argparse stores the flag in (and the provider's keyword, if it is one).
    dest: str
    kind: type
    help: str
    default_text: str
    env: str | None = None
    #: True for a list of strings (a repeatable flag).
    is_list: bool = False
    #: Checks the value as the provider would (before any I/O): raises InvalidRequestError.
    check: Callable[[object], object] | None = None
    secret: bool = False


#: Defaults as a config file's reader thinks of them, where the table's words are Python's.
_DEFAULT_TEXTS = {"proxy": "none", "verify": "the system's CA certificates"}


def _settings() -> dict[str, Setting]:
    from .._options import OPTIONS

    table = [
        Setting("model", "model", str, "the model", f"{_constants.DEFAULT_MODEL}"),
        Setting("system", "system", str, "a system message sent before every prompt", "none"),
        Setting("log", "log", bool, "log every exchange (aichat logs)", "true"),
        Setting("markdown", "markdown", bool, "show answers as Markdown on a terminal", "true"),
    ]
    for option in OPTIONS:
        if option.flag is None or option.name == "headers":
            continue
        kind: type = str
        if option.flag_type is None:
            kind = bool
        elif option.flag_type in (int, float):
            kind = option.flag_type
        table.append(
            Setting(
                option.text_name or option.name,
                option.name,
                kind,
                option.text_help("a list"),
                _DEFAULT_TEXTS.get(option.name) or option.default_text.replace("`", ""),
                env=option.env,
                is_list=option.repeatable,
                check=option.parse,
                secret=option.secret,
            )
        )
    return {setting.key: setting for setting in table}


_SETTINGS: dict[str, Setting] | None = None


def settings() -> dict[str, Setting]:
    global _SETTINGS  # built once, on first use
    if _SETTINGS is None:
        _SETTINGS = _settings()
    return _SETTINGS


def config_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The user's config directory for this package, as platformdirs' ``user_config_dir``
    names it: ``$XDG_CONFIG_HOME`` or ``~/.config`` on Linux."""
    return user_dir("config", environ, platform)


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    override = environ.get(ENV_CONFIG_FILE)
    return Path(override).expanduser() if override else config_dir(environ) / "config.toml"


class ConfigError(errors.InvalidRequestError):
    """The config file cannot be read, or holds a value that cannot be used. Its message names
    config keys (``base_url``), the words of the file and of ``aichat config``, not flags."""


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:  # Python 3.10: the cli extra brings tomli
        import tomli  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise ConfigError(
            "reading the config file needs Python 3.11, or tomli on Python 3.10: "
            f"{sys.executable} -m pip install tomli"
        ) from None
    return tomli


def load(path: Path | None = None) -> dict[str, Any]:
    """The config file's settings, checked; {} if there is none."""
    path = path or config_path()
    try:
        text = read_text(path)
    except OSError as exc:
        raise ConfigError(
            f"the config file {str(path)!r} cannot be read ({exc.strerror or exc}); make it a "
            f"readable file, or point {ENV_CONFIG_FILE} at another one."
        ) from None
    return parse(text, path) if text is not None else {}


def read_text(path: Path) -> str | None:
    """The config file's text, None if there is none; a ConfigError if it is not UTF-8 (an
    OSError if it cannot be read)."""
    try:
        # without the UTF-8 signature some editors (Notepad) save, which TOML does not take
        return _read_bytes(path).decode("utf-8").removeprefix("\ufeff")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"the config file {str(path)!r} cannot be read (not UTF-8 text: byte "
            f"{exc.object[exc.start]:#04x} at offset {exc.start}); fix it with "
            "'aichat config edit'."
        ) from None


def _toml_data(text: str, path: Path) -> dict[str, Any]:
    tomllib = _toml()
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the config file {str(path)!r} is not valid TOML ({exc}); fix it with "
            "'aichat config edit'."
        ) from None
    return data


def parse(text: str, path: Path) -> dict[str, Any]:
    data = _toml_data(text, path)
    known = settings()
    for key, value in data.items():
        if key not in known:
            raise ConfigError(
                f"the config file {str(path)!r} has an unknown key {key!r} (the keys are: "
                f"{', '.join(known)}); fix it with 'aichat config edit'."
            )
        check_value(known[key], value, where=f"the config file {str(path)!r}")
    return data


def check_value(setting: Setting, value: object, *, where: str | None = None) -> None:
    """A ConfigError unless ``value`` suits ``setting``; ``where`` names the file it came from
    (None: ``aichat config set``)."""
    kind = "a list of strings" if setting.is_list else _KIND_NAMES[setting.kind]
    if setting.is_list:
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    elif setting.kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, setting.kind) and (
            setting.kind is bool or not isinstance(value, bool)
        )
    prefix = "" if where is None else f"{where}: "
    if not ok:
        raise ConfigError(
            f"{prefix}{setting.key} must be {kind}; fix it with 'aichat config edit'."
        )
    if setting.check is not None:
        try:
            setting.check(float(value) if setting.kind is float else value)  # type: ignore[arg-type]
        except errors.InvalidRequestError as exc:
            message = str(exc)
            if not message.startswith(setting.key):
                message = f"{setting.key}: {message}"
            if where is not None:  # a value typed at `config set` is fixed by typing it again
                message = message.rstrip(".") + "; fix it with 'aichat config edit'."
            raise ConfigError(prefix + message) from None


_KIND_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}


def value_from_text(setting: Setting, text: str) -> object:
    """A value typed on the command line (``aichat config set KEY VALUE``) as the key's type."""
    if setting.is_list:
        return [item.strip() for item in text.split(",") if item.strip()]
    if setting.kind is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ConfigError(f"{setting.key} must be true or false; got {text!r}.")
    if setting.kind in (int, float):
        try:
            return setting.kind(text)
        except ValueError:
            raise ConfigError(
                f"{setting.key} must be {_KIND_NAMES[setting.kind]}; got {text!r}."
            ) from None
    return text


def toml_value(value: object) -> str:
    """``value`` written as TOML (strings as basic strings: JSON's escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False).replace("\\u007f", "\\u007F")


def write_key(key: str, value: object | None, path: Path | None = None) -> Path:
    """Set ``key`` (remove it if ``value`` is None) in the config file, keeping the rest of the
    file, comments included; the file is written whole, mode 0600 (it may hold a proxy)."""
    path = path or config_path()
    text = read_text(path) or ""
    line = "" if value is None else f"{key} = {toml_value(value)}\n"
    if key in _toml_data(text, path):
        lines, at = _without(key, text, path)
        text = "".join([*lines[:at], line, *lines[at:]])
    elif value is not None:
        text = text + ("" if not text or text.endswith("\n") else "\n") + line
    else:
        return path  # nothing to remove: no file is made, and none is rewritten
    parse(text, path)  # never write a file that would not load
    # through a symbolic link (a dotfiles manager's) to the file it names, keeping the link
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    # a new file of a name no one else can have made (mkstemp: O_EXCL, 0600), never one that is
    # there already, which could be a link or keep another mode
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def _without(key: str, text: str, path: Path) -> tuple[list[str], int]:
    """The file's lines without the assignment of ``key`` (which may span lines: a multi-line
    string or array), and where it was; the rest of the file is kept as it is."""
    expected = {k: v for k, v in _toml_data(text, path).items() if k != key}
    lines = text.splitlines(keepends=True)
    start = re.compile(_KEY_START.format(key=re.escape(key)))
    tomllib = _toml()
    for first, line in enumerate(lines):
        if not start.match(line):
            continue
        for last in range(first, len(lines)):  # the shortest span whose removal leaves the rest
            rest = lines[:first] + lines[last + 1 :]
            try:
                if tomllib.loads("".join(rest)) == expected:
                    return rest, first
            except tomllib.TOMLDecodeError:
                continue
    raise ConfigError(
        f"'aichat config' cannot tell where the config file {str(path)!r} sets {key}; change it "
        "with 'aichat config edit'."
    )


def _read_bytes(path: Path) -> bytes:
    """The file's bytes. A named pipe is opened without waiting for a writer (an open that
    waits would hang every command): one with no writer is refused, one with a writer, as
    ``AICHAT_CONFIG_FILE=<(command)`` gives, is read to its end."""
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    non_blocking = getattr(os, "O_NONBLOCK", 0)  # Windows has no named pipes of this kind
    descriptor = os.open(path, flags | non_blocking)
    with os.fdopen(descriptor, "rb", buffering=0) as file:
        first: bytes | None = b""
        if stat.S_ISFIFO(os.fstat(descriptor).st_mode):
            first = file.read(65536)  # None: a writer, with nothing written yet
            if first == b"":
                raise ConfigError(
                    f"the config file {str(path)!r} is a named pipe (FIFO) that nothing "
                    f"writes to; make it a file, or point {ENV_CONFIG_FILE} at one."
                )
        if non_blocking:
            os.set_blocking(descriptor, True)
        data = first or b""
        while len(data) <= MAX_BYTES:  # raw reads may be short (a pipe): read to the end
            chunk = file.read(MAX_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    if len(data) > MAX_BYTES:  # /dev/zero, or a huge file named by mistake: not read whole
        raise ConfigError(
            f"the config file {str(path)!r} is larger than {MAX_BYTES >> 20} MiB; is it the right "
            f"file? Point {ENV_CONFIG_FILE} at the config file."
        )
    return data


@dataclass(frozen=True)
class Effective:
    """A key's value and where it comes from: "environment NAME", "config file" or "default"."""

    value: object
    source: str


def effective(key: str, config: Mapping[str, Any], environ: Mapping[str, str]) -> Effective:
    setting = settings()[key]
    if setting.env and environ.get(setting.env):
        return Effective(environ[setting.env], f"environment {setting.env}")
    if key in config:
        return Effective(config[key], "config file")
    return Effective(None, "default")


def apply(args: Any, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> None:
    """Fill the flags ``args`` lacks from ``config``, unless an environment variable (which the
    provider reads itself) sets them."""
    environ = os.environ if environ is None else environ
    for key, value in config.items():
        setting = settings()[key]
        if not hasattr(args, setting.dest) or getattr(args, setting.dest) is not None:
            continue
        if setting.env and environ.get(setting.env):
            continue
        setattr(args, setting.dest, value)
