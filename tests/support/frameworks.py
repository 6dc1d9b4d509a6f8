"""Running the real frameworks the adapters are for, offline.

Tests of a framework that is not installed skip, with a message saying how to install it, on a
developer's machine; in CI (``AICHAT_REQUIRE_FRAMEWORKS=1``, set by ``.ci/run``) they fail, so a
missing framework can never hide a test. Checks run in fixtures, not at import, so a module whose
tests are deselected (``-m``) is never failed by them.

Several frameworks go online on import or first use (gpt4free asks PyPI for a newer version and
fetches its list of online providers; LiteLLM fetches a price list): :func:`offline_environment`
points every proxy variable at a local port where nothing listens and tells them to stay local.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.metadata
import json
import os
import socket
from pathlib import Path
from types import ModuleType

import pytest

REQUIRE_VARIABLE = "AICHAT_REQUIRE_FRAMEWORKS"

LEGACY_G4F = "0.1.7.2"
LEGACY_G4F_HINT = (
    f"gpt4free {LEGACY_G4F} cannot share a virtualenv with gpt4free 8.x; `bash .ci/run` runs "
    "these tests in a second one, or: python3.11 -m venv /tmp/g4f-legacy && "
    f"/tmp/g4f-legacy/bin/pip install . 'g4f=={LEGACY_G4F}' pytest pytest-asyncio "
    "pytest-timeout && /tmp/g4f-legacy/bin/pytest -m g4f_legacy "
    "tests/integrations/test_g4f_legacy.py"
)

_dead_socket: socket.socket | None = None


def installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def unavailable(message: str) -> None:
    """Skip, or fail in CI, with ``message``."""
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message} ({REQUIRE_VARIABLE}=1: these tests must run here)")
    pytest.skip(message)


def require(distribution: str, extra: str, *, major: str | None = None) -> str:
    """The installed version of ``distribution``; skip (or fail in CI) when it is missing or
    its version does not start with ``major``."""
    version = installed_version(distribution)
    if version is None:
        unavailable(f"{distribution} is not installed: pip install '.[{extra}]'")
    assert version is not None
    if major is not None and not version.startswith(major):
        hint = LEGACY_G4F_HINT if major.startswith("0.1") else f"pip install '.[{extra}]'"
        unavailable(f"{distribution} {version} is installed, these tests need {major}x; {hint}")
    return version


def dead_proxy_url() -> str:
    """``http://127.0.0.1:PORT`` where a socket is bound but never listens: every connection
    is refused at once, and no other program can take the port while the tests run."""
    global _dead_socket
    if _dead_socket is None:
        _dead_socket = socket.socket()
        _dead_socket.bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{_dead_socket.getsockname()[1]}"


def offline_environment(cache_dir: Path) -> dict[str, str]:
    """Environment variables under which the frameworks reach nothing beyond 127.0.0.1.

    ``cache_dir`` becomes gpt4free's cache, holding today's copy of its list of online
    providers (which ``import g4f.api`` would otherwise download), naming one dead local URL.
    """
    proxy = dead_proxy_url()
    models = cache_dir / ".models" / datetime.date.today().strftime("%Y-%m-%d")
    models.mkdir(parents=True, exist_ok=True)
    (models / "providers.json").write_text(
        json.dumps({"providers": {"default": {"baseUrl": f"{proxy}/v1"}}, "defaultModels": {}})
    )
    env = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    env.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "ALL_PROXY": proxy,
            "G4F_CACHE_DIR": str(cache_dir),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
    )
    return env


def import_offline(name: str, variables: dict[str, str]) -> ModuleType:
    """Import ``name`` with the offline variables set (several frameworks go online on import)."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        return importlib.import_module(name)
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value
