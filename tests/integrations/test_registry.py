"""The provider registry: entry points, look-ups, and the fallback helper."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aichat_provider import Aichat, AsyncProvider, errors
from aichat_provider.registry import ProviderRegistry, registry
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER


class Backup(AsyncProvider):
    working: ClassVar[bool] = True
    models: ClassVar[list[str]] = ["gpt-3.5-turbo"]
    calls: ClassVar[list[dict[str, Any]]] = []

    @classmethod
    async def create_async(
        cls, model: str, messages: Any, proxy: str | None = None, **kwargs: Any
    ) -> str:
        cls.calls.append(kwargs)
        return "from backup"


class Broken(AsyncProvider):
    working: ClassVar[bool] = True
    models: ClassVar[list[str]] = ["gpt-3.5-turbo"]

    @classmethod
    async def create_async(
        cls, model: str, messages: Any, proxy: str | None = None, **kwargs: Any
    ) -> str:
        raise errors.ProviderConnectionError("down")


def test_aichat_is_declared_as_an_entry_point() -> None:
    found = {e.name: e.value for e in entry_points(group="gpt4free.providers")}
    assert found.get("Aichat") == "aichat_provider:Aichat"
    assert registry.get("aichat") is Aichat
    assert registry.get("AICHAT") is Aichat
    assert "aichat" in registry


def test_unknown_name_is_a_key_error_listing_the_known_names() -> None:
    with pytest.raises(errors.ProviderNotFoundError) as caught:
        registry.get("nope")
    assert isinstance(caught.value, KeyError)
    assert "aichat" in str(caught.value)
    assert "aichat" in caught.value.known


def test_lookups_by_model_and_stable_order() -> None:
    local = ProviderRegistry(group=None)
    local.register(Backup)
    local.register(Aichat)
    assert list(local) == [Aichat, Backup]
    assert local.for_model("gpt-3.5-turbo") == [Aichat, Backup]
    assert local.for_model("gpt-4") == []
    assert local.working() == [Aichat, Backup]


def test_broken_plugin_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dist = tmp_path / "broken_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[test.providers]\nGhost = no_such_module_anywhere:Ghost\nAichat = aichat_provider:Aichat\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    local = ProviderRegistry(group="test.providers")
    assert local.get("aichat") is Aichat
    assert "Ghost" in local.broken
    assert "ModuleNotFoundError" in local.broken["Ghost"]
    assert any("Ghost" in r.getMessage() for r in caplog.records)


async def test_fallback_moves_on_when_aichat_fails(service: StandInService) -> None:
    service.set_default(Reply.status(403))
    local = ProviderRegistry(group=None)
    answer = await local.create_async(
        "gpt-3.5-turbo",
        USER,
        providers=[Aichat, Backup],
        cookies=COOKIES,
        base_url=service.base_url,
    )
    assert answer == "from backup"
    assert len(service.requests) == 1


async def test_fallback_raises_every_providers_error(service: StandInService) -> None:
    service.set_default(Reply.status(401))
    local = ProviderRegistry(group=None)
    local.register(Broken)
    with pytest.raises(errors.AllProvidersFailedError) as caught:
        await local.create_async(
            "gpt-3.5-turbo",
            USER,
            providers=[Aichat, "broken"],
            cookies=COOKIES,
            base_url=service.base_url,
        )
    failures = caught.value.errors
    assert isinstance(failures["Aichat"], errors.AuthenticationError)
    assert isinstance(failures["Broken"], errors.ProviderConnectionError)


def test_only_provider_classes_can_be_registered() -> None:
    from aichat_provider.registry import ProviderRegistry

    own = ProviderRegistry(group=None)
    with pytest.raises(TypeError, match="not a BaseProvider subclass"):
        own.register(object)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        own.register("Aichat")  # type: ignore[arg-type]
    own.register(Aichat, name="Chat")
    assert own.names() == ["chat"]
    assert "CHAT" in own
    assert 42 not in own
    assert len(own) == 1


async def test_a_fallback_with_no_provider_for_the_model() -> None:
    from aichat_provider.registry import ProviderRegistry

    own = ProviderRegistry(group=None)
    with pytest.raises(errors.ProviderNotFoundError, match="No working provider serves model"):
        await own.create_async("gpt-9", USER)


async def test_a_fallback_skips_what_is_not_an_async_provider(service: StandInService) -> None:
    from aichat_provider import BaseProvider
    from aichat_provider.registry import ProviderRegistry

    class SyncOnly(BaseProvider):
        working = True

        @classmethod
        def create_completion(
            cls, model: str, messages: Any, stream: bool = False, **kwargs: Any
        ) -> Any:
            yield "never"

    own = ProviderRegistry(group=None)
    answer = await own.create_async(
        "", USER, providers=[SyncOnly, Aichat], cookies=COOKIES, base_url=service.base_url
    )
    assert answer == "echo: Hi"


@pytest.mark.parametrize("provider", ["AICHAT", Aichat], ids=["a name", "a class"])
async def test_a_single_provider_is_one_provider_not_an_iterable(
    provider: Any, service: StandInService
) -> None:
    """``providers="aichat"`` was read letter by letter ("No provider named 'a'"), and a lone
    class failed with a raw TypeError."""
    answer = await registry.create_async(
        "", USER, providers=provider, cookies=COOKIES, base_url=service.base_url
    )
    assert answer == "echo: Hi"


async def test_what_is_neither_a_provider_nor_a_name_is_refused_before_any_call(
    service: StandInService,
) -> None:
    with pytest.raises(errors.InvalidRequestError, match="provider classes or names, not int"):
        await registry.create_async(
            "", USER, providers=[Aichat, 5], cookies=COOKIES, base_url=service.base_url
        )
    assert service.requests == []
    with pytest.raises(errors.InvalidRequestError, match="not class dict"):
        await registry.create_async("", USER, providers=[dict])


@pytest.mark.parametrize("name", [5, None, b"aichat"])
def test_a_look_up_by_something_not_a_string_is_a_provider_not_found_error(name: Any) -> None:
    with pytest.raises(errors.ProviderNotFoundError, match="aichat") as caught:
        registry.get(name)
    assert caught.value.name == name


@pytest.mark.parametrize("model", [["gpt-3.5-turbo"], {"id": "gpt-3.5-turbo"}])
async def test_a_model_that_is_not_a_string_is_refused_when_picking_providers(
    model: Any, service: StandInService
) -> None:
    """Looking it up among the providers' aliases raised a raw TypeError (unhashable)."""
    with pytest.raises(errors.InvalidRequestError, match="model must be a string"):
        await registry.create_async(model, USER, cookies=COOKIES, base_url=service.base_url)
    assert service.requests == []
