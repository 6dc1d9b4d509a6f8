"""Aichat in gpt4free 0.1.7.2, the version the original design was written for.

It cannot share a virtualenv with gpt4free 8.x: ``.ci/run`` makes a second one (Python 3.11) and
runs ``pytest -m g4f_legacy`` there; elsewhere these tests skip with a message saying how.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from aichat_provider import Aichat, AsyncProvider, errors
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER

pytestmark = pytest.mark.g4f_legacy


class Backup(AsyncProvider):
    working: ClassVar[bool] = True
    models: ClassVar[list[str]] = ["gpt-3.5-turbo"]

    @classmethod
    async def create_async(
        cls, model: str, messages: Any, proxy: str | None = None, **kwargs: Any
    ) -> str:
        return "answer from the backup"


@pytest.fixture
def g4f(legacy_g4f: Any, offline: dict[str, str]) -> Any:
    return legacy_g4f


def on(service: StandInService) -> dict[str, Any]:
    return {"cookies": COOKIES, "base_url": service.base_url}


def test_chat_completion_create_needs_no_auth_argument(g4f: Any, service: StandInService) -> None:
    answer = g4f.ChatCompletion.create(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, **on(service)
    )
    assert answer == "echo: Hi"
    assert service.requests[0].cookies == COOKIES


async def test_chat_completion_create_async(g4f: Any, service: StandInService) -> None:
    answer = await g4f.ChatCompletion.create_async(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, **on(service)
    )
    assert answer == "echo: Hi"


def test_retry_provider_sync_and_async(g4f: Any, service: StandInService) -> None:
    retry = g4f.Provider.RetryProvider([Aichat], shuffle=False)
    assert g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider=retry, **on(service)) == (
        "echo: Hi"
    )
    answer = asyncio.run(
        g4f.ChatCompletion.create_async("gpt-3.5-turbo", USER, provider=retry, **on(service))
    )
    assert answer == "echo: Hi"
    assert len(service.requests) == 2


def test_retry_provider_falls_over_to_the_next_provider(g4f: Any, service: StandInService) -> None:
    service.set_default(Reply.status(403))
    retry = g4f.Provider.RetryProvider([Aichat, Backup], shuffle=False)
    answer = g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider=retry, **on(service))
    assert answer == "answer from the backup"
    assert isinstance(retry.exceptions["Aichat"], errors.AuthenticationError)


async def test_sync_call_inside_a_running_loop(g4f: Any, service: StandInService) -> None:
    """Jupyter's case: no ``RunningEventLoopError``, and the caller's loop is not patched."""
    answer = g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider=Aichat, **on(service))
    assert answer == "echo: Hi"
    retry = g4f.Provider.RetryProvider([Aichat], shuffle=False)
    answer = g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider=retry, **on(service))
    assert answer == "echo: Hi"
    assert not hasattr(asyncio.get_running_loop().__class__, "_nest_patched")


def test_typed_errors_reach_the_caller(g4f: Any, service: StandInService) -> None:
    service.set_default(Reply.status(429, retry_after=600))
    with pytest.raises(errors.RateLimitError) as caught:
        g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider=Aichat, **on(service))
    assert caught.value.retry_after == 600


def test_register_replaces_gpt4free_s_own_aichat(g4f: Any, service: StandInService) -> None:
    from aichat_provider.integrations import g4f as integration

    original = g4f.Provider.ProviderUtils.convert["Aichat"]
    assert original is not Aichat  # gpt4free 0.1.x ships its own, long dead
    integration.register()
    try:
        registered = g4f.Provider.ProviderUtils.convert["Aichat"]  # what its GUI looks up
        assert registered is integration.Aichat is g4f.Provider.Aichat
        assert registered.needs_auth is False
        answer = g4f.ChatCompletion.create(
            "gpt-3.5-turbo", USER, provider=registered, **on(service)
        )
        assert answer == "echo: Hi"
        service.set_default(Reply.status(403))
        with pytest.raises(errors.AuthenticationError):  # 0.1.x has no error classes of its own
            g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider=registered, **on(service))
    finally:
        integration.unregister()
    assert g4f.Provider.ProviderUtils.convert["Aichat"] is original
    assert g4f.Provider.Aichat is original
