"""Finding the user's browser for ``aichat login``: PATH first, then where installers put it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aichat_provider import errors
from aichat_provider._login import locate_browser
from aichat_provider._login._find import find_browser


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_path_comes_first(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    brave = executable(bin_dir / "brave-browser")
    assert find_browser(environ={"PATH": str(bin_dir)}, platform="linux") == brave
    chrome = executable(bin_dir / "google-chrome")
    assert find_browser(environ={"PATH": str(bin_dir)}, platform="linux") == chrome


def test_macos_applications_in_the_home_folder(tmp_path: Path) -> None:
    app = executable(tmp_path / "Applications/Chromium.app/Contents/MacOS/Chromium")
    found = find_browser(environ={"HOME": str(tmp_path)}, platform="darwin", path="")
    assert found == app


def test_windows_program_files(tmp_path: Path) -> None:
    edge = executable(tmp_path / "x86/Microsoft/Edge/Application/msedge.exe")
    environ = {"ProgramFiles(x86)": str(tmp_path / "x86"), "HOME": str(tmp_path)}
    assert find_browser(environ=environ, platform="win32", path="") == edge
    assert find_browser(environ={}, platform="win32", path="") is None


def test_a_named_browser_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICHAT_BROWSER", str(tmp_path / "missing"))
    with pytest.raises(errors.LoginError, match="does not exist"):
        locate_browser()
    named = executable(tmp_path / "my-chrome")
    assert locate_browser(named) == named
    monkeypatch.setenv("AICHAT_BROWSER", os.fspath(named))
    assert locate_browser() == named


def test_an_installed_file_that_cannot_be_run_is_passed_over(tmp_path: Path) -> None:
    """A half-removed install can leave the file without its execute bit: the next browser
    is the one found."""
    chrome = tmp_path / "Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
    chrome.parent.mkdir(parents=True)
    chrome.write_text("#!/bin/sh\n")
    chrome.chmod(0o644)
    chromium = executable(tmp_path / "Applications/Chromium.app/Contents/MacOS/Chromium")
    found = find_browser(environ={"HOME": str(tmp_path)}, platform="darwin", path="")
    assert found == chromium
