"""Base classes with the surface gpt4free-style frameworks read from a provider.

They are local on purpose: a provider must not need gpt4free installed to be imported, registered
or tested. The class attributes mirror what gpt4free's own ``BaseProvider`` declares.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, ClassVar, Generic, TypeVar

from ._messages import Messages

T = TypeVar("T")


class classproperty(Generic[T]):
    """A read-only property on the class (``@classmethod @property`` is gone in Python 3.13)."""

    def __init__(self, fget: Callable[[Any], T]) -> None:
        self.fget = fget
        self.__doc__ = fget.__doc__

    def __get__(self, instance: object, owner: type | None = None) -> T:
        return self.fget(owner if owner is not None else type(instance))


class BaseProvider(ABC):
    """What every provider declares, read by registries and by gpt4free's client.

    gpt4free's ``Client``/``AsyncClient`` read ``get_parent()``, ``live``, ``use_stream_timeout``,
    ``get_dict()``, ``working``, ``model_aliases``, ``default_model`` and ``label`` from the
    provider, and fail with AttributeError on the first one missing.
    """

    url: ClassVar[str | None] = None
    label: ClassVar[str | None] = None
    #: The provider family, for per-family settings such as API keys (``get_parent()``).
    #: Defaults to the class name of each subclass.
    parent: ClassVar[str] = "BaseProvider"
    working: ClassVar[bool] = False
    #: gpt4free's flag for providers its default routing may pick; None leaves it to gpt4free.
    active_by_default: ClassVar[bool | None] = None
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = False
    supports_system_message: ClassVar[bool] = False
    supports_gpt_35_turbo: ClassVar[bool] = False
    supports_gpt_4: ClassVar[bool] = False
    #: Whether gpt4free should bound a stream by ``stream_timeout`` instead of ``timeout``.
    use_stream_timeout: ClassVar[bool] = False
    #: How many requests gpt4free currently has in flight on this provider (it counts them).
    live: ClassVar[int] = 0
    default_model: ClassVar[str] = ""
    models: ClassVar[list[str]] = []
    model_aliases: ClassVar[dict[str, str]] = {}
    #: Keyword arguments the provider understands: name -> (annotation, default).
    parameters: ClassVar[dict[str, tuple[str, object]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "parent" not in cls.__dict__:
            cls.parent = cls.__name__

    @classmethod
    @abstractmethod
    def create_completion(
        cls, model: str, messages: Messages, stream: bool = False, **kwargs: Any
    ) -> Iterator[str]:
        """Yield the answer (in one piece or in chunks)."""

    @classproperty
    def params(cls) -> str:
        """A human-readable signature, as gpt4free prints it for every provider."""
        lines = ["    model: str", "    messages: Messages"]
        lines += [
            f"    {name}: {annotation} = {default!r}"
            for name, (annotation, default) in cls.parameters.items()
        ]
        name = getattr(cls, "__name__", "Provider")
        return f"{cls.__module__}.{name} supports: (\n" + ",\n".join(lines) + "\n)"

    @classmethod
    def get_parameters(cls, as_json: bool = False) -> dict[str, Any]:
        """The call's parameters as ``inspect.Parameter`` objects, or (``as_json``) as example
        values, the way gpt4free's GUI and API describe a provider."""
        if as_json:
            return {
                "model": cls.default_model,
                "messages": [{"role": "user", "content": "Hello"}],
                **{name: default for name, (_, default) in cls.parameters.items()},
                "provider": getattr(cls, "__name__", "Provider"),
                "stream": cls.supports_stream,
            }
        positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
        found = {
            "model": inspect.Parameter("model", positional, annotation="str"),
            "messages": inspect.Parameter("messages", positional, annotation="Messages"),
        }
        for name, (annotation, default) in cls.parameters.items():
            kind = positional if name == "proxy" else inspect.Parameter.KEYWORD_ONLY
            found[name] = inspect.Parameter(name, kind, default=default, annotation=annotation)
        return found

    @classmethod
    def get_parent(cls) -> str:
        return cls.parent

    @classmethod
    def get_models(cls, **_: Any) -> list[str]:
        return list(cls.models)

    @classmethod
    def get_model(cls, model: str = "", **_: Any) -> str:
        """The model id to use for ``model``: the default for "", aliases resolved."""
        if not model:
            return cls.default_model
        return cls.model_aliases.get(model, model)

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

        Inside a running event loop (Jupyter, an async web handler) the call runs on a private
        thread with its own event loop, and this blocks the caller until the answer is there,
        as any synchronous call does; ``await create_async(...)`` is the better way there. The
        private loop's connections are closed when its call ends.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _run_once(cls.create_async(model, messages, **kwargs))
        return _run_on_private_loop(lambda: cls.create_async(model, messages, **kwargs))


def _run_once(coroutine: Any) -> Iterator[str]:
    try:
        yield asyncio.run(coroutine)
    finally:
        coroutine.close()  # never started if the generator is dropped unused


def _run_on_private_loop(make_call: Callable[[], Coroutine[Any, Any, str]]) -> Iterator[str]:
    """Yield the answer of ``make_call()``, run by ``asyncio.run`` on a new thread.

    The caller's loop is blocked, not re-entered: nothing is patched, so the caller's tasks
    simply wait, and the call itself never touches the caller's loop or its pooled sessions.
    If the waiting caller is interrupted (Ctrl-C), the private call is cancelled.
    """
    outcome: concurrent.futures.Future[str] = concurrent.futures.Future()
    started: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = (
        concurrent.futures.Future()
    )

    async def call() -> str:
        task = asyncio.current_task()
        assert task is not None
        started.set_result((asyncio.get_running_loop(), task))
        return await make_call()

    def run() -> None:
        try:
            outcome.set_result(asyncio.run(call()))
        except BaseException as exc:  # handed to the waiting caller, who re-raises it
            outcome.set_exception(exc)

    context = contextvars.copy_context()  # as asyncio.to_thread does
    thread = threading.Thread(
        target=context.run, args=(run,), name="aichat-create-completion", daemon=True
    )
    thread.start()
    try:
        answer = outcome.result()
    except BaseException:
        if not outcome.done() and started.done():  # the caller was interrupted while waiting
            loop, task = started.result()
            loop.call_soon_threadsafe(task.cancel)
        raise
    finally:
        if outcome.done():
            thread.join()
    yield answer
