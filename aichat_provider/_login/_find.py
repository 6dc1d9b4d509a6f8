"""Finding the user's installed Chrome-family browser: on PATH, then where installers put it.

Nothing is ever downloaded: ``aichat login`` uses the browser the user already has, so the
cookies it earns belong to a real, up-to-date browser.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

#: Executable names on PATH, most usual first.
PATH_NAMES = (
    "google-chrome",
    "google-chrome-stable",
    "chromium",
    "chromium-browser",
    "microsoft-edge",
    "microsoft-edge-stable",
    "brave-browser",
    "brave",
    "chrome",
    "msedge",
)

LINUX_PLACES = (
    "/opt/google/chrome/chrome",
    "/usr/bin/google-chrome",
    "/usr/bin/chromium",
    "/usr/lib/chromium/chromium",
    "/snap/bin/chromium",
    "/opt/microsoft/msedge/msedge",
    "/opt/brave.com/brave/brave",
    "/var/lib/flatpak/exports/bin/com.google.Chrome",
    "/var/lib/flatpak/exports/bin/org.chromium.Chromium",
)
MACOS_PLACES = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "/Applications/Brave Browser.app/Contents/MacOS/Brave Browser",
)
WINDOWS_PLACES = (
    ("ProgramFiles", "Google/Chrome/Application/chrome.exe"),
    ("ProgramFiles(x86)", "Google/Chrome/Application/chrome.exe"),
    ("LOCALAPPDATA", "Google/Chrome/Application/chrome.exe"),
    ("ProgramFiles(x86)", "Microsoft/Edge/Application/msedge.exe"),
    ("ProgramFiles", "Microsoft/Edge/Application/msedge.exe"),
    ("ProgramFiles", "BraveSoftware/Brave-Browser/Application/brave.exe"),
    ("LOCALAPPDATA", "Chromium/Application/chrome.exe"),
)


def find_browser(
    *,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    path: str | None = None,
) -> Path | None:
    """The first Chrome, Chromium, Edge or Brave found, or None."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    search = environ.get("PATH", "") if path is None else path
    for name in PATH_NAMES:
        found = shutil.which(name, path=search)
        if found:
            return Path(found)
    for candidate in _install_places(environ, platform):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _install_places(environ: Mapping[str, str], platform: str) -> list[Path]:
    home = Path(environ.get("HOME") or Path.home())
    if platform == "darwin":
        return [Path(place) for place in MACOS_PLACES] + [
            home / place.lstrip("/") for place in MACOS_PLACES
        ]
    if platform.startswith("win"):
        return [Path(environ[base]) / rest for base, rest in WINDOWS_PLACES if environ.get(base)]
    return [Path(place) for place in LINUX_PLACES]
