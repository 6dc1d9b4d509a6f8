"""Base classes with the surface gpt4free-style frameworks read from a provider.

They are local on purpose: a provider must not need gpt4free installed to be imported, registered
or tested. The class attributes mirror what gpt4free's own ``BaseProvider`` declares.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

from ._messages import Messages
from .errors import RunningEventLoopError

T = TypeVar("T")


class classproperty(Generic[T]):
    """A read-only property on the class (``@classmethod @property`` is gone in Python 3.13)."""

    def __init__(self, fget: Callable[[Any], T]) -> None:
        self.fget = fget
        self.__doc__ = fget.__doc__

    def __get__(self, instance: object, owner: type | None = None) -> T:
        return self.fget(owner if owner is not None else type(instance))


class BaseProvider(ABC):
    """What every provider declares, read by registries and by gpt4free's client."""

    url: ClassVar[str | None] = None
    label: ClassVar[str | None] = None
    working: ClassVar[bool] = False
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = False
    supports_system_message: ClassVar[bool] = False
    supports_gpt_35_turbo: ClassVar[bool] = False
    supports_gpt_4: ClassVar[bool] = False
    default_model: ClassVar[str] = ""
    models: ClassVar[list[str]] = []
    model_aliases: ClassVar[dict[str, str]] = {}
    #: Keyword arguments the provider understands, name -> annotation, for ``params``.
    parameters: ClassVar[dict[str, str]] = {}

    @classmethod
    @abstractmethod
    def create_completion(
        cls, model: str, messages: Messages, stream: bool = False, **kwargs: Any
    ) -> Iterator[str]:
        """Yield the answer (in one piece or in chunks)."""

    @classproperty
    def params(cls) -> str:
        """A human-readable signature, as gpt4free prints it for every provider."""
        lines = [
            "    model: str",
            "    messages: Messages",
            *(f"    {name}: {kind}" for name, kind in cls.parameters.items()),
        ]
        name = getattr(cls, "__name__", "Provider")
        return f"{cls.__module__}.{name} supports: (\n" + ",\n".join(lines) + "\n)"

    @classmethod
    def get_models(cls, **_: Any) -> list[str]:
        return list(cls.models)

    @classmethod
    def get_dict(cls) -> dict[str, Any]:
        return {"name": cls.__name__, "url": cls.url, "label": cls.label or cls.__name__}


class AsyncProvider(BaseProvider):
    """A provider whose work is one ``create_async`` coroutine returning the whole answer."""

    @classmethod
    @abstractmethod
    async def create_async(
        cls, model: str, messages: Messages, proxy: str | None = None, **kwargs: Any
    ) -> str:
        """Return the answer to ``messages``."""

    @classmethod
    def create_completion(
        cls, model: str, messages: Messages, stream: bool = False, **kwargs: Any
    ) -> Iterator[str]:
        """Run ``create_async`` to completion and yield its answer once.

        For synchronous code only: inside a running event loop, ``await create_async`` instead.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RunningEventLoopError(
                f"{cls.__name__}.create_completion() was called inside a running event loop; "
                f"use 'await {cls.__name__}.create_async(...)' there instead."
            )
        return _run_once(cls.create_async(model, messages, **kwargs))


def _run_once(coroutine: Any) -> Iterator[str]:
    try:
        yield asyncio.run(coroutine)
    finally:
        coroutine.close()  # never started if the generator is dropped unused
