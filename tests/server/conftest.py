"""What the server tests share: one stand-in service per module, forgotten between tests, and
the ``aichat serve`` in front of it with an OpenAI client (a module that needs other options
defines its own ``server``; ``client`` then talks to that one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from aichat_provider.testing import StandInService
from support.server import Server, serve_stand_in

if TYPE_CHECKING:
    import openai


@pytest.fixture(scope="module")
def upstream() -> Iterator[StandInService]:
    with StandInService() as service:
        yield service


@pytest.fixture(autouse=True)
def fresh_upstream(upstream: StandInService) -> None:
    upstream.reset()


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``aichat serve`` with the tests' API key and no retries, one per module."""
    running = serve_stand_in(upstream, tmp_path_factory.mktemp("serve"), "--max-retries", "0")
    yield running
    running.stop()


@pytest.fixture
def client(server: Server) -> openai.OpenAI:
    import openai

    return openai.OpenAI(base_url=server.base_url, api_key=str(server.api_key), max_retries=0)
