"""What the server tests share: one stand-in service per module, forgotten between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aichat_provider.testing import StandInService


@pytest.fixture(scope="module")
def upstream() -> Iterator[StandInService]:
    with StandInService() as service:
        yield service


@pytest.fixture(autouse=True)
def fresh_upstream(upstream: StandInService) -> None:
    upstream.reset()
