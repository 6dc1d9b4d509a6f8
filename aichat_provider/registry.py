"""A registry of providers: registered explicitly or found through the ``gpt4free.providers``
entry-point group, looked up by name or model, with a fallback helper.

    from aichat_provider.registry import registry
    provider = registry.get("aichat")
    answer = await registry.create_async("gpt-3.5-turbo", messages, cookies=...)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from importlib.metadata import entry_points
from typing import Any

from ._base import AsyncProvider, BaseProvider
from ._messages import Messages
from .errors import (
    AllProvidersFailedError,
    InvalidRequestError,
    ProviderError,
    ProviderNotFoundError,
)

__all__ = ["ENTRY_POINT_GROUP", "ProviderRegistry", "registry"]

logger = logging.getLogger("aichat_provider")

ENTRY_POINT_GROUP = "gpt4free.providers"

ProviderClass = type[BaseProvider]


class ProviderRegistry:
    """Providers by name. Entry points are read on the first look-up, not at import.

    A plugin that fails to load is logged and listed in ``broken`` instead of breaking the others.
    """

    def __init__(self, *, group: str | None = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self.broken: dict[str, str] = {}
        self._providers: dict[str, ProviderClass] = {}
        self._loaded = group is None
        self._lock = threading.Lock()

    def register(self, provider: ProviderClass, *, name: str | None = None) -> ProviderClass:
        """Add ``provider`` (usable as a class decorator). Re-registering a name replaces it."""
        if not (isinstance(provider, type) and issubclass(provider, BaseProvider)):
            raise TypeError(f"{provider!r} is not a BaseProvider subclass.")
        with self._lock:
            self._providers[(name or provider.__name__).lower()] = provider
        return provider

    def _load_entry_points(self) -> None:
        if self._loaded or self.group is None:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            found = list(entry_points(group=self.group))
        for entry in found:
            try:
                provider = entry.load()
                self.register(provider, name=entry.name)
            except Exception as exc:  # a broken plugin must not break the registry
                self.broken[entry.name] = f"{type(exc).__name__}: {exc}"
                logger.warning("provider plugin %r could not be loaded: %s", entry.name, exc)

    def names(self) -> list[str]:
        self._load_entry_points()
        with self._lock:
            return sorted(self._providers)

    def __iter__(self) -> Iterator[ProviderClass]:
        self._load_entry_points()
        with self._lock:
            return iter([self._providers[name] for name in sorted(self._providers)])

    def __len__(self) -> int:
        return len(self.names())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.names()

    def get(self, name: str) -> ProviderClass:
        """The provider registered as ``name`` (any case), or ProviderNotFoundError."""
        self._load_entry_points()
        with self._lock:
            # Not only str: a dict's look-up of any other key is a KeyError too.
            provider = self._providers.get(name.lower()) if isinstance(name, str) else None
            known = sorted(self._providers)
        if provider is None:
            raise ProviderNotFoundError(
                f"No provider named {name!r}; known: {', '.join(known) or 'none'}.",
                name=name,
                known=known,
            )
        return provider

    def working(self) -> list[ProviderClass]:
        return [provider for provider in self if provider.working]

    def for_model(self, model: str) -> list[ProviderClass]:
        """Working providers that serve ``model`` (by id, alias, or as their default)."""
        if not isinstance(model, str):  # an alias table would refuse an unhashable one raw
            raise InvalidRequestError(
                f"model must be a string such as 'gpt-3.5-turbo', not {type(model).__name__}."
            )
        return [
            provider
            for provider in self.working()
            if model in provider.models
            or model in provider.model_aliases
            or model == provider.default_model
        ]

    async def create_async(
        self,
        model: str,
        messages: Messages,
        providers: Iterable[ProviderClass | str] | ProviderClass | str | None = None,
        **kwargs: Any,
    ) -> str:
        """Ask each provider in turn (``providers``: classes or names, or one of either; by
        default those serving ``model``) until one answers.

        Raises AllProvidersFailedError carrying every provider's exception when all fail.
        """
        if isinstance(providers, (str, type)):  # one name or class, not letters or a class
            providers = [providers]
        chosen: Sequence[ProviderClass] = (
            [self._provider(p) for p in providers]
            if providers is not None
            else self.for_model(model)
        )
        if not chosen:
            raise ProviderNotFoundError(
                f"No working provider serves model {model!r}.", name=model, known=self.names()
            )
        failures: dict[str, BaseException] = {}
        for provider in chosen:
            if not issubclass(provider, AsyncProvider):
                failures[provider.__name__] = TypeError("not an AsyncProvider")
                continue
            try:
                return await provider.create_async(model, messages, **kwargs)
            except ProviderError as exc:
                logger.info("provider %s failed (%s); trying the next", provider.__name__, exc)
                failures[provider.__name__] = exc
        summary = "; ".join(f"{name}: {type(exc).__name__}" for name, exc in failures.items())
        raise AllProvidersFailedError(f"Every provider failed ({summary}).", errors=failures)

    def _provider(self, given: object) -> ProviderClass:
        """A provider of ``providers=``: a class as it is, a name looked up."""
        if isinstance(given, str):
            return self.get(given)
        if isinstance(given, type) and issubclass(given, BaseProvider):
            return given
        shown = f"class {given.__name__}" if isinstance(given, type) else type(given).__name__
        raise InvalidRequestError(
            f"providers must hold provider classes or names, not {shown}; "
            f"known names: {', '.join(self.names()) or 'none'}."
        )


registry = ProviderRegistry()
