"""The user's per-package folders (data, config), named as platformdirs names them.

One place for the platform rules, so the cookie store and the CLI's config file cannot drift
apart; standard library only, because ``aichat config path`` must start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

__all__ = ["APP_NAME", "user_dir"]

APP_NAME = "aichat-provider"

#: Linux's XDG variable and its default under ``$HOME``, by kind of folder.
_XDG = {"data": ("XDG_DATA_HOME", (".local", "share")), "config": ("XDG_CONFIG_HOME", (".config",))}


def user_dir(
    kind: Literal["data", "config"],
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> Path:
    """This package's ``kind`` folder: ``~/Library/Application Support`` on macOS,
    ``%LOCALAPPDATA%`` on Windows, the XDG variable (when absolute) or its default on Linux."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    home = Path(environ.get("HOME") or Path.home())
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    if platform.startswith("win"):
        local = environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(local) / APP_NAME
    variable, default = _XDG[kind]
    xdg = environ.get(variable, "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home.joinpath(*default)
    return base / APP_NAME
