"""Install hints: the requirements of an extra, by name, for the Python running now."""

from __future__ import annotations

import shlex
import sys

import pytest

from aichat_provider._extras import install_hint, pip_command


def test_an_extra_is_named_by_its_requirements_for_this_python() -> None:
    hint = install_hint("login")
    assert hint.startswith(f"{shlex.quote(sys.executable)} -m pip install ")
    assert "playwright" in hint
    assert "aichat-provider[" not in hint  # the distribution is on no index


def test_an_extra_without_requirements_falls_back_to_its_name() -> None:
    assert install_hint("no-such-extra").endswith("pip install 'aichat-provider[no-such-extra]'")


def test_under_pipx_the_packages_are_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "prefix", "/home/u/.local/pipx/venvs/aichat-provider")
    assert pip_command("trustme") == "pipx inject aichat-provider trustme"
