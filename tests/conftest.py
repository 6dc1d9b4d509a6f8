from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from aichat_provider.cookies._browsers import BrowserCookies
from aichat_provider.cookies._jar import Selected
from aichat_provider.cookies._sources import browser_cookie_cache, cookies_file_cache
from aichat_provider.testing import StandInService
from support.browsers import require_executable
from support.calls import Counted
from support.secrets import DEVELOPER_VARIABLES


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads the developer's browser profiles, proxies or AICHAT_* settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in DEVELOPER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    browser_cookie_cache.clear()
    cookies_file_cache.clear()
    yield home
    browser_cookie_cache.clear()
    cookies_file_cache.clear()


@pytest.fixture
def home(isolated_environment: Path) -> Path:
    return isolated_environment


@pytest.fixture
def browser_reads(monkeypatch: pytest.MonkeyPatch) -> Counted[[str, Sequence[str]], BrowserCookies]:
    """Counts the browser profile reads the provider's cache starts."""
    reads = Counted(browser_cookie_cache.loader)
    monkeypatch.setattr(browser_cookie_cache, "loader", reads)
    return reads


@pytest.fixture
def file_parses(monkeypatch: pytest.MonkeyPatch) -> Counted[[Path, str], Selected]:
    """Counts the times the provider's cache parses a cookies file."""
    parses = Counted(cookies_file_cache.reader)
    monkeypatch.setattr(cookies_file_cache, "reader", parses)
    return parses


@pytest.fixture
def service(aichat_service: StandInService) -> StandInService:
    """The plugin's ``aichat_service``, under a shorter name."""
    return aichat_service


@pytest.fixture
def tls_service(aichat_service_tls: StandInService) -> StandInService:
    return aichat_service_tls


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


#: A session bus with no service directories: ``dbus-daemon --session`` reads the system's
#: session.conf, whose standard service directories let a name like org.freedesktop.secrets
#: start gnome-keyring on demand wherever it is installed (a desktop), taking the name the fake
#: keyring asks for.
PRIVATE_BUS_CONFIG = """<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@pytest.fixture(scope="session")
def dbus_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private D-Bus session bus with no keyring on it, and none that can be started on it,
    as on a desktop without one (whether or not this machine has gnome-keyring)."""
    daemon = require_executable("dbus-daemon")
    config = tmp_path_factory.mktemp("dbus") / "session.conf"
    config.write_text(PRIVATE_BUS_CONFIG)
    process = subprocess.Popen(
        [daemon, f"--config-file={config}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    address = process.stdout.readline().strip()
    if not address:
        process.kill()
        pytest.fail("dbus-daemon did not start")
    try:
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def with_dbus(dbus_session: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", dbus_session)
    return dbus_session


@pytest.fixture
def without_dbus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)


# --- the fast set: pyproject.toml's addopts hold this -m -------------------------------------

DEFAULT_SELECTION = "not slow and not g4f_legacy"
_slow_deselected: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # A test named by its node id is run whatever its marks: a developer who names a slow test
    # means to run it, and would otherwise see "1 deselected" and nothing else.
    if config.option.markexpr == DEFAULT_SELECTION and any("::" in arg for arg in config.args):
        config.option.markexpr = ""


_legacy_deselected: list[str] = []
#: Skips for a framework whose extra is not installed (``support.frameworks.require``).
_extra_skips: list[str] = []


def pytest_deselected(items: Sequence[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow"):
            _slow_deselected.append(item.nodeid)
        elif item.get_closest_marker("g4f_legacy"):
            _legacy_deselected.append(item.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What a plain ``pytest`` left out, and how to run it: the deselected and skipped counts
    of its last line, explained."""
    if terminalreporter.config.option.markexpr != DEFAULT_SELECTION:
        return
    if _slow_deselected:
        terminalreporter.write_line(
            f"{len(_slow_deselected)} slow tests not run (real browsers, subprocess servers, "
            "long runs): `pytest -m slow` runs them, `pytest -m ''` runs everything."
        )
    if _legacy_deselected:
        terminalreporter.write_line(
            f"{len(_legacy_deselected)} tests of gpt4free 0.1.7.2 not run: they need a "
            "virtualenv of their own (docs/development-tests.md)."
        )
    if _extra_skips:
        terminalreporter.write_line(
            f"{len(_extra_skips)} tests skipped: a framework's extra is not installed "
            "(pip install '.[g4f,litellm,langchain,llm]' runs them; `pytest -rs` says which)."
        )


# --- CI: a skip it does not expect fails the run ---------------------------------------------

#: Skips CI expects: the reason contains this marker (tests that run in another CI venv).
EXPECTED_SKIP = "[runs in its own CI venv]"
_skips: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if EXPECTED_SKIP not in reason:
            _skips.append(f"{report.nodeid}: {reason}")
        if "is not installed: pip install '.[" in reason:
            _extra_skips.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skips and os.environ.get("AICHAT_NO_SKIPS") == "1":
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"{len(_skips)} unexpected skips (AICHAT_NO_SKIPS=1):", red=True)
            for skip in _skips:
                reporter.write_line(f"  {skip}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
