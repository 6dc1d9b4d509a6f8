"""What the docs examples did, said at the end of the run: how many ran, which did not and why."""

from __future__ import annotations

import pytest

from support.docs import EXAMPLE_LOG, ExampleLog


@pytest.fixture(scope="session")
def example_log(request: pytest.FixtureRequest) -> ExampleLog:
    return request.config.stash.setdefault(EXAMPLE_LOG, ExampleLog())


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    log = config.stash.get(EXAMPLE_LOG, None)
    if log is None:
        return
    terminalreporter.section("docs examples")
    terminalreporter.write_line(f"{len(log.ran)} examples of the README and docs/ ran as written")
    for where, reason in log.not_run:
        terminalreporter.write_line(f"not run: {where}: {reason}")
