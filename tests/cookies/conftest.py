from __future__ import annotations

from collections.abc import Iterator

import pytest

from aichat_provider.testing import StandInService


@pytest.fixture
def local_service() -> Iterator[StandInService]:
    """A stand-in addressed as ``localhost`` in these tests, the host the built browser profiles
    store their cookies for."""
    with StandInService() as stand_in:
        yield stand_in
