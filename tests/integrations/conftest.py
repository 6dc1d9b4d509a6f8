"""Fixtures for the framework tests: each framework imported offline, once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.frameworks import (
    LEGACY_G4F,
    LEGACY_G4F_HINT,
    import_offline,
    offline_environment,
    require,
    unavailable,
)


@pytest.fixture(scope="session")
def offline_variables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return offline_environment(tmp_path_factory.mktemp("g4f-cache"))


@pytest.fixture
def offline(
    offline_variables: dict[str, str], isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """This test's environment points every proxy variable at a dead local port."""
    for name, value in offline_variables.items():
        monkeypatch.setenv(name, value)
    return offline_variables


@pytest.fixture(scope="session")
def g4f(offline_variables: dict[str, str]) -> Iterator[Any]:
    """gpt4free 8.x, imported once; what its import does to browser_cookie3 is undone after.

    ``import g4f`` replaces browser_cookie3's keyring look-up process-wide when there is no D-Bus
    session (``_LinuxPasswordManager.get_password = lambda: b"secret"``); the other test modules
    test the real browser_cookie3, so the original is put back afterwards.
    """
    require("g4f", "g4f", major="8.")
    import browser_cookie3

    original = browser_cookie3._LinuxPasswordManager.get_password
    module = import_offline("g4f", offline_variables)
    for name in ("g4f.client", "g4f.Provider", "g4f.errors"):
        import_offline(name, offline_variables)
    before = module.debug.version_check
    module.debug.version_check = False  # it would ask PyPI on the first call
    try:
        yield module
    finally:
        module.debug.version_check = before
        browser_cookie3._LinuxPasswordManager.get_password = original


@pytest.fixture(scope="session")
def legacy_g4f(offline_variables: dict[str, str]) -> Any:
    """gpt4free 0.1.7.2, which asks PyPI for a newer version as it is imported."""
    version = require("g4f", "g4f", major="0.1.")
    if version != LEGACY_G4F:
        unavailable(f"gpt4free {version} is installed; {LEGACY_G4F_HINT}")
    return import_offline("g4f", offline_variables)


@pytest.fixture(scope="session")
def litellm(offline_variables: dict[str, str]) -> Any:
    """LiteLLM, which would download a price list as it is imported."""
    require("litellm", "litellm")
    return import_offline("litellm", offline_variables)


@pytest.fixture(scope="session")
def langchain_core(offline_variables: dict[str, str]) -> Any:
    require("langchain-core", "langchain")
    return import_offline("langchain_core", offline_variables)


@pytest.fixture(scope="session")
def llm(offline_variables: dict[str, str]) -> Any:
    require("llm", "llm")
    return import_offline("llm", offline_variables)
