"""``aichat config``: where the config file is, what a key is set to and why, and setting it."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
from pathlib import Path

from .. import errors
from .._redact import redact_url
from . import _config
from ._commands import SUMMARIES
from ._common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    command_line_text,
    report_error,
    shown,
)

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "config"
SUMMARY = SUMMARIES[NAME]
EXAMPLES = """examples:
  aichat config set model gpt-3.5-turbo
  aichat config set temperature 0.2
  aichat config set browser firefox,chrome     a list: comma-separated
  aichat config get --source                   every key, its value and where it comes from
  aichat config unset temperature
  aichat config edit                           open the file in $VISUAL or $EDITOR"""


def configure(parser: argparse.ArgumentParser) -> None:
    keys = "\n".join(
        f"  {setting.key:<18} {_with_default(setting)}" for setting in _config.settings().values()
    )
    parser.description = (
        "Defaults for the flags, in a TOML file of flat keys (path: $AICHAT_CONFIG_FILE, else "
        "the user config directory). A flag wins over an environment variable, which wins over "
        "the config file, which wins over the built-in default."
    )
    parser.epilog = f"keys:\n{keys}\n\n{EXAMPLES}\n\n{parser.epilog or ''}".rstrip()
    parser.add_argument(
        "action", choices=("path", "get", "set", "unset", "edit"), help="what to do"
    )
    parser.add_argument("key", nargs="?", help="a key (get: all keys when absent)")
    parser.add_argument("value", nargs="?", help="the value to set")
    parser.add_argument(
        "--source",
        action="store_true",
        help="get: also say where each value comes from (environment, config file, default)",
    )


def _with_default(setting: _config.Setting) -> str:
    if "(default: " in setting.help:  # the provider's options say theirs already
        return setting.help
    return f"{setting.help} (default: {setting.default_text})"


def run(args: argparse.Namespace) -> int:
    path = _config.config_path()
    known = _config.settings()
    if args.action == "path":
        print(path)
        return EXIT_OK
    if args.key is not None and args.key not in known:
        report_error(f"there is no config key {args.key!r}; the keys are: {', '.join(known)}.")
        return EXIT_USAGE
    try:
        if args.action == "get":
            return _get(args, _config.load(path))
        if args.action == "edit":
            return _edit(path)
        if args.key is None or (args.action == "set") != (args.value is not None):
            usage = "set KEY VALUE" if args.action == "set" else "unset KEY"
            report_error(f"usage: aichat config {usage}")
            return EXIT_USAGE
        setting = known[args.key]
        value = None
        if args.action == "set":
            command_line_text(args.value, args.key)
            value = _config.value_from_text(setting, args.value)
            _config.check_value(setting, value)
        _config.write_key(args.key, value, path)
    except errors.InvalidRequestError as error:
        report_error(error)
        return EXIT_USAGE
    except OSError as exc:
        report_error(f"the config file {path} cannot be written ({exc.strerror or exc}).")
        return EXIT_FAILURE
    return EXIT_OK


def _shown_value(setting: _config.Setting, value: object) -> str:
    if value is None:
        return f"(not set; built-in default: {setting.default_text})"
    text = _config.toml_value(value)
    return redact_url(text) if setting.secret else text


def _get(args: argparse.Namespace, config: dict[str, object]) -> int:
    keys = [args.key] if args.key else list(_config.settings())
    for key in keys:
        setting = _config.settings()[key]
        found = _config.effective(key, config, os.environ)
        if args.key and not args.source:
            if found.value is None:
                return EXIT_FAILURE  # as `git config`: unset prints nothing, exit 1
            value = found.value
            text = value if isinstance(value, str) else _config.toml_value(value)
            print(shown(redact_url(text) if setting.secret else text))
            continue
        line = f"{key} = {_shown_value(setting, found.value)}"
        if args.source:
            line += f"  [{found.source}]"
        if args.key or args.source or found.value is not None:
            print(shown(line))
    return EXIT_OK


def _edit(path: Path) -> int:
    editor = os.environ.get("VISUAL", "").strip() or os.environ.get("EDITOR", "").strip() or "vi"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(descriptor, b"# aichat settings: 'aichat config --help' lists the keys\n")
        os.close(descriptor)
    try:
        subprocess.run([*shlex.split(editor), str(path)], check=False)  # noqa: S603
    except (OSError, ValueError) as exc:  # ValueError: quotes the shell could not split
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        report_error(f"the editor {editor!r} cannot be started ({why}); set $EDITOR.")
        return EXIT_FAILURE
    try:
        _config.load(path)
    except errors.InvalidRequestError as error:
        report_error(error)
        return EXIT_USAGE
    return EXIT_OK
