"""Where profiles are found on each system. Real browsers write the Linux layouts in
``test_real_browsers.py``; the macOS and Windows layouts, which no browser here can write, are
built by hand from what those browsers write there."""

from __future__ import annotations

import json
from pathlib import Path

from aichat_provider import _constants
from aichat_provider.cookies._profiles import (
    BROWSERS,
    LINUX,
    MACOS,
    WINDOWS,
    available_browsers,
    find_profiles,
)


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_browser_table_names_every_supported_browser_once() -> None:
    assert tuple(BROWSERS) == _constants.SUPPORTED_BROWSERS


def test_which_browsers_each_system_has() -> None:
    assert "arc" not in available_browsers(LINUX)
    assert "safari" not in available_browsers(LINUX)
    assert "opera_gx" not in available_browsers(LINUX)
    assert {"chrome", "chromium", "firefox", "lynx"} <= set(available_browsers(LINUX))
    assert {"safari", "arc", "opera_gx", "chrome"} <= set(available_browsers(MACOS))
    assert "safari" not in available_browsers(WINDOWS)
    assert {"arc", "edge", "firefox"} <= set(available_browsers(WINDOWS))


def test_firefox_profiles_the_installation_uses_come_first(tmp_path: Path) -> None:
    legacy = tmp_path / ".mozilla/firefox"
    xdg = tmp_path / ".config/mozilla/firefox"
    touch(legacy / "old.default/cookies.sqlite")
    touch(xdg / "unused.default/cookies.sqlite")
    touch(xdg / "inuse.default-esr/cookies.sqlite")
    touch(xdg / "Crash Reports/notes.txt")
    touch(
        xdg / "profiles.ini",
        "[Profile1]\nName=default\nIsRelative=1\nPath=unused.default\nDefault=1\n\n"
        "[Profile0]\nName=default-esr\nIsRelative=1\nPath=inuse.default-esr\n\n"
        "[Install3B6073811A6ABF12]\nDefault=inuse.default-esr\nLocked=1\n",
    )
    touch(xdg / "installs.ini", "[3B6073811A6ABF12]\nDefault=inuse.default-esr\nLocked=1\n")
    found = [p.path for p in find_profiles("firefox", platform=LINUX, home=tmp_path)]
    assert found == [xdg / "inuse.default-esr", xdg / "unused.default", legacy / "old.default"]


def test_firefox_profiles_ini_with_an_absolute_path_and_no_default(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere/profile"
    touch(elsewhere / "cookies.sqlite")
    root = tmp_path / ".mozilla/firefox"
    touch(root / "profiles.ini", f"[Profile0]\nName=x\nIsRelative=0\nPath={elsewhere}\n")
    found = find_profiles("firefox", platform=LINUX, home=tmp_path)
    assert [p.path for p in found] == [elsewhere]


def test_a_broken_profiles_ini_still_finds_the_profiles_on_disk(tmp_path: Path) -> None:
    root = tmp_path / ".mozilla/firefox"
    touch(root / "profiles.ini", "[Profile0\nPath=\x00 nonsense")
    touch(root / "abc.default/cookies.sqlite")
    assert [p.path for p in find_profiles("firefox", platform=LINUX, home=tmp_path)] == [
        root / "abc.default"
    ]


def test_chromium_profiles_the_last_used_first_and_both_cookie_file_places(
    tmp_path: Path,
) -> None:
    root = tmp_path / ".config/chromium"
    touch(root / "Default/Cookies")
    touch(root / "Profile 2/Network/Cookies")
    touch(root / "Profile 1/Cookies")
    touch(root / "System Profile/Cookies")  # not a person's profile
    touch(root / "Local State", json.dumps({"profile": {"last_used": "Profile 2"}}))
    found = find_profiles("chromium", platform=LINUX, home=tmp_path)
    assert [p.path.name for p in found] == ["Profile 2", "Default", "Profile 1"]
    assert found[0].cookie_file == root / "Profile 2/Network/Cookies"
    assert all(p.key_file is None for p in found)  # the key file is for Windows


def test_snap_and_flatpak_folders(tmp_path: Path) -> None:
    touch(tmp_path / "snap/chromium/common/chromium/Default/Cookies")
    touch(tmp_path / "snap/firefox/common/.mozilla/firefox/x.default/cookies.sqlite")
    assert find_profiles("chromium", platform=LINUX, home=tmp_path)
    assert find_profiles("firefox", platform=LINUX, home=tmp_path)


def test_macos_layouts(tmp_path: Path) -> None:
    support = tmp_path / "Library/Application Support"
    touch(support / "Google/Chrome/Default/Cookies")
    touch(support / "Firefox/Profiles/abc.default-release/cookies.sqlite")
    touch(
        support / "Firefox/profiles.ini",
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=Profiles/abc.default-release\n"
        "Default=1\n",
    )
    chrome = find_profiles("chrome", platform=MACOS, home=tmp_path)
    assert chrome[0].cookie_file == support / "Google/Chrome/Default/Cookies"
    firefox = find_profiles("firefox", platform=MACOS, home=tmp_path)
    assert firefox[0].path == support / "Firefox/Profiles/abc.default-release"
    assert find_profiles("chrome", platform=LINUX, home=tmp_path) == []


def test_windows_layouts_with_the_key_file(tmp_path: Path) -> None:
    local, roaming = tmp_path / "Local", tmp_path / "Roaming"
    user_data = local / "Google/Chrome/User Data"
    touch(user_data / "Default/Network/Cookies")
    touch(user_data / "Local State", json.dumps({"os_crypt": {"encrypted_key": "RFBBUEk="}}))
    touch(roaming / "Opera Software/Opera Stable/Network/Cookies")
    touch(roaming / "Mozilla/Firefox/Profiles/w.default-release/cookies.sqlite")
    touch(
        roaming / "Mozilla/Firefox/profiles.ini",
        "[Profile0]\nIsRelative=1\nPath=Profiles/w.default-release\n",
    )
    environ = {"LOCALAPPDATA": str(local), "APPDATA": str(roaming)}
    chrome = find_profiles("chrome", platform=WINDOWS, home=tmp_path, environ=environ)
    assert chrome[0].cookie_file == user_data / "Default/Network/Cookies"
    assert chrome[0].key_file == user_data / "Local State"
    opera = find_profiles("opera", platform=WINDOWS, home=tmp_path, environ=environ)
    assert opera[0].path == roaming / "Opera Software/Opera Stable"  # Opera's folder is a profile
    firefox = find_profiles("firefox", platform=WINDOWS, home=tmp_path, environ=environ)
    assert firefox[0].path == roaming / "Mozilla/Firefox/Profiles/w.default-release"
    assert find_profiles("chrome", platform=WINDOWS, home=tmp_path, environ={}) == []
