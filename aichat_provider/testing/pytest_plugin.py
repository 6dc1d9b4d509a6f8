"""pytest fixtures for the local stand-in service (registered through the ``pytest11`` entry
point, so they are available wherever aichat-provider is installed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._standin import StandInService

__all__ = ["aichat_service", "aichat_service_tls"]


@pytest.fixture
def aichat_service() -> Iterator[StandInService]:
    """A started HTTP stand-in for chat-gpt.org; pass ``base_url=aichat_service.base_url``."""
    with StandInService() as service:
        yield service


@pytest.fixture
def aichat_service_tls() -> Iterator[StandInService]:
    """The HTTPS stand-in; pass ``base_url=...base_url`` and ``verify=...ca_path``."""
    with StandInService(tls=True) as service:
        yield service
