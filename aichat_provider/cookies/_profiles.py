"""Where browsers keep their profiles today, on Linux, macOS and Windows.

browser_cookie3 knows one place per browser and picks one profile; real machines have more:
Firefox 147+ puts new profiles under ``~/.config/mozilla/firefox`` (XDG) and marks the profile
an installation uses in ``installs.ini``, snaps and flatpaks have their own folders, and a
Chromium-family browser has a ``Default`` and any number of ``Profile N`` folders. This module
lists every profile with a cookie database, the one in use first. Nothing here reads a cookie.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a profiles.ini is read
    import configparser

from .. import _constants
from ..errors import InvalidRequestError

LINUX, MACOS, WINDOWS = "linux", "darwin", "win32"


@dataclass(frozen=True)
class Profile:
    """One profile's cookie database (and, for Chromium on Windows, the file with its key)."""

    browser: str
    path: Path
    cookie_file: Path
    key_file: Path | None = None


@dataclass(frozen=True)
class BrowserKind:
    """Where one browser keeps its profiles: roots per platform, relative to the home directory
    (Linux, macOS) or to ``%APPDATA%``/``%LOCALAPPDATA%`` (Windows, as ``APPDATA/...``)."""

    name: str
    family: str  # "chromium", "firefox" or "other" (read by browser_cookie3 alone)
    roots: Mapping[str, tuple[str, ...]]

    def available_on(self, platform: str) -> bool:
        return platform in self.roots


def _chromium(
    name: str, linux: tuple[str, ...], macos: tuple[str, ...], windows: tuple[str, ...]
) -> BrowserKind:
    roots = {LINUX: linux, MACOS: macos, WINDOWS: windows}
    return BrowserKind(name, "chromium", {key: value for key, value in roots.items() if value})


BROWSERS: dict[str, BrowserKind] = {
    kind.name: kind
    for kind in (
        _chromium(
            "chrome",
            (
                ".config/google-chrome",
                ".config/google-chrome-beta",
                ".config/google-chrome-unstable",
                ".var/app/com.google.Chrome/config/google-chrome",
            ),
            ("Library/Application Support/Google/Chrome",),
            ("LOCALAPPDATA/Google/Chrome/User Data",),
        ),
        _chromium(
            "chromium",
            (
                ".config/chromium",
                "snap/chromium/common/chromium",
                ".var/app/org.chromium.Chromium/config/chromium",
            ),
            ("Library/Application Support/Chromium",),
            ("LOCALAPPDATA/Chromium/User Data",),
        ),
        _chromium(
            "brave",
            (
                ".config/BraveSoftware/Brave-Browser",
                ".config/BraveSoftware/Brave-Browser-Beta",
                ".config/BraveSoftware/Brave-Browser-Nightly",
                "snap/brave/current/.config/BraveSoftware/Brave-Browser",
                ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser",
            ),
            ("Library/Application Support/BraveSoftware/Brave-Browser",),
            ("LOCALAPPDATA/BraveSoftware/Brave-Browser/User Data",),
        ),
        _chromium(
            "edge",
            (
                ".config/microsoft-edge",
                ".config/microsoft-edge-beta",
                ".config/microsoft-edge-dev",
                ".var/app/com.microsoft.Edge/config/microsoft-edge",
            ),
            ("Library/Application Support/Microsoft Edge",),
            ("LOCALAPPDATA/Microsoft/Edge/User Data",),
        ),
        _chromium(
            "opera",
            (".config/opera", ".config/opera-beta", ".config/opera-developer"),
            ("Library/Application Support/com.operasoftware.Opera",),
            ("APPDATA/Opera Software/Opera Stable",),
        ),
        _chromium(
            "opera_gx",
            (),
            ("Library/Application Support/com.operasoftware.OperaGX",),
            ("APPDATA/Opera Software/Opera GX Stable",),
        ),
        _chromium(
            "vivaldi",
            (
                ".config/vivaldi",
                ".config/vivaldi-snapshot",
                ".var/app/com.vivaldi.Vivaldi/config/vivaldi",
            ),
            ("Library/Application Support/Vivaldi",),
            ("LOCALAPPDATA/Vivaldi/User Data",),
        ),
        _chromium(
            "arc",
            (),
            ("Library/Application Support/Arc/User Data",),
            (
                "LOCALAPPDATA/Packages/TheBrowserCompany.Arc_ttt1ap7aakyb4/LocalCache/Local/"
                "Arc/User Data",
            ),
        ),
        BrowserKind(
            "firefox",
            "firefox",
            {
                LINUX: (
                    ".config/mozilla/firefox",
                    ".mozilla/firefox",
                    "snap/firefox/common/.mozilla/firefox",
                    ".var/app/org.mozilla.firefox/.mozilla/firefox",
                    ".var/app/org.mozilla.firefox/config/mozilla/firefox",
                ),
                MACOS: ("Library/Application Support/Firefox",),
                WINDOWS: ("APPDATA/Mozilla/Firefox",),
            },
        ),
        BrowserKind(
            "librewolf",
            "firefox",
            {
                LINUX: (
                    ".config/librewolf/librewolf",
                    ".librewolf",
                    ".var/app/io.gitlab.librewolf-community/.librewolf",
                ),
                MACOS: ("Library/Application Support/librewolf",),
                WINDOWS: ("APPDATA/librewolf",),
            },
        ),
        BrowserKind(
            "safari", "other", {MACOS: ("Library/Cookies", "Library/Containers/com.apple.Safari")}
        ),
        BrowserKind("lynx", "other", {LINUX: (".lynx_cookies",), MACOS: (".lynx_cookies",)}),
        BrowserKind("w3m", "other", {LINUX: (".w3m/cookie",), MACOS: (".w3m/cookie",)}),
    )
}


def current_platform() -> str:
    if sys.platform.startswith("win"):
        return WINDOWS
    if sys.platform == "darwin":
        return MACOS
    return LINUX  # Linux and the BSDs share the XDG layout


def available_browsers(platform: str | None = None) -> tuple[str, ...]:
    """The supported browsers that have a build for ``platform`` (default: this machine's)."""
    platform = platform or current_platform()
    return tuple(name for name, kind in BROWSERS.items() if kind.available_on(platform))


def parse_browsers(value: object) -> tuple[str, ...]:
    """The browsers to read, from a name or a list of names (None: every supported browser
    that has a version for this operating system)."""
    if value is None:
        return available_browsers()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise InvalidRequestError("browser must be a browser name or a list of names.")
    chosen: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key not in _constants.SUPPORTED_BROWSERS:
            shown = repr(name[:40]) if name.isprintable() else "that name"
            raise InvalidRequestError(
                f"browser {shown} is not supported; use one of: "
                f"{', '.join(_constants.SUPPORTED_BROWSERS)}."
            )
        if key not in chosen:
            chosen.append(key)
    return tuple(chosen)


def root_paths(
    kind: BrowserKind, *, platform: str, home: Path, environ: Mapping[str, str]
) -> list[Path]:
    """The folders where ``kind`` may keep profiles on ``platform``."""
    paths = []
    for root in kind.roots.get(platform, ()):
        base, _, rest = root.partition("/")
        if platform == WINDOWS and base in ("APPDATA", "LOCALAPPDATA"):
            folder = environ.get(base)
            if folder:
                paths.append(Path(folder) / rest)
        else:
            paths.append(home / root)
    return paths


def find_profiles(
    browser: str,
    *,
    platform: str | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Profile]:
    """Every profile of ``browser`` with a cookie database, the one in use first."""
    kind = BROWSERS[browser]
    platform = platform or current_platform()
    roots = root_paths(
        kind,
        platform=platform,
        home=home or Path.home(),
        environ=os.environ if environ is None else environ,
    )
    found: list[Profile] = []
    for root in roots:
        if kind.family == "chromium":
            found += _chromium_profiles(browser, root, windows=platform == WINDOWS)
        elif kind.family == "firefox":
            found += _firefox_profiles(browser, root)
    return found


def installed_roots(
    browser: str,
    *,
    platform: str | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Path]:
    """The profile folders of ``browser`` that exist, whether or not they hold cookies."""
    kind = BROWSERS[browser]
    return [
        root
        for root in root_paths(
            kind,
            platform=platform or current_platform(),
            home=home or Path.home(),
            environ=os.environ if environ is None else environ,
        )
        if root.exists()
    ]


# --- the Chromium family -------------------------------------------------------------------


def _chromium_profiles(browser: str, root: Path, *, windows: bool) -> Iterator[Profile]:
    if not root.is_dir():
        return
    key_file = root / "Local State"
    folders = [root] if browser.startswith("opera") else _chromium_profile_folders(root)
    for folder in folders:
        for cookie_file in (folder / "Network" / "Cookies", folder / "Cookies"):
            if cookie_file.is_file():
                yield Profile(
                    browser,
                    folder,
                    cookie_file,
                    key_file if windows and key_file.is_file() else None,
                )
                break


def _chromium_profile_folders(root: Path) -> list[Path]:
    """``Default`` and every ``Profile N``, the last used one first (from ``Local State``)."""
    try:
        folders = sorted(
            (p for p in root.iterdir() if p.name == "Default" or p.name.startswith("Profile ")),
            key=lambda p: (p.name != "Default", p.name),
        )
    except OSError:
        return []
    last_used = _last_used_profile(root / "Local State")
    if last_used:
        folders.sort(key=lambda p: p.name != last_used)
    return folders


def _last_used_profile(local_state: Path) -> str | None:
    try:
        data = json.loads(local_state.read_text(encoding="utf-8"))
        last_used = data["profile"]["last_used"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return last_used if isinstance(last_used, str) else None


# --- the Firefox family --------------------------------------------------------------------


def _firefox_profiles(browser: str, root: Path) -> Iterator[Profile]:
    if not root.is_dir():
        return
    seen: set[Path] = set()
    for folder in [*_listed_firefox_profiles(root), *sorted(root.glob("*/"))]:
        cookie_file = folder / "cookies.sqlite"
        try:
            if not cookie_file.is_file() or folder.resolve() in seen:
                continue
            seen.add(folder.resolve())
        except (OSError, ValueError, RuntimeError):  # a symlink loop, a NUL in profiles.ini
            continue
        yield Profile(browser, folder, cookie_file)


def _listed_firefox_profiles(root: Path) -> list[Path]:
    """The profiles ``installs.ini`` and ``profiles.ini`` name: those an installation uses
    first, then the one marked ``Default=1``, then the others."""
    profiles = _read_ini(root / "profiles.ini")
    installs = _read_ini(root / "installs.ini")
    in_use: list[str] = []
    for parser in (installs, profiles):
        for section in parser.sections():
            if parser is installs or section.startswith("Install"):
                default = parser[section].get("Default")
                if default:
                    in_use.append(default)
    marked: list[str] = []
    others: list[str] = []
    locations: dict[str, Path] = {}
    for section in profiles.sections():
        entry = profiles[section]
        path = entry.get("Path")
        if not section.startswith("Profile") or not path:
            continue
        relative = entry.get("IsRelative", "1") != "0"
        locations[path] = root / path if relative else Path(path)
        (marked if entry.get("Default") == "1" else others).append(path)
    ordered = [*in_use, *marked, *others]
    return [locations.get(name, root / name) for name in dict.fromkeys(ordered)]


def _read_ini(path: Path) -> configparser.ConfigParser:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    with contextlib.suppress(OSError, configparser.Error):  # no file, or a damaged one
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def listed_profile_names(browser: str, root: Path) -> list[str]:
    """The profile names a Firefox ``profiles.ini`` lists (for messages)."""
    parser = _read_ini(root / "profiles.ini")
    return [
        parser[section].get("Name") or parser[section].get("Path") or section
        for section in parser.sections()
        if section.startswith("Profile")
    ]
