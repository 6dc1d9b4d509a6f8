"""Choosing and calling the provider: one pipeline for chat and legacy completions.

A read request (``_requests``: a Plan) becomes every upstream call it needs, made at once and
cancelled together when the client leaves or the drain's grace period ends; the provider's own
retries are counted in the metrics. What comes out (an Outcome) is rendered by ``_render``, or by
an adapter for another API that turned its request into a chat completion request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from .. import errors
from .._base import AsyncProvider
from ._emulation import Choice, Outcome, Plan, usage
from ._errors import APIError, error_for, invalid, shutting_down
from ._http import ClientGone
from ._metrics import Metrics
from ._requests import read_chat, read_completion
from ._schema import runner
from ._settings import ServerConfig

logger = logging.getLogger("aichat_provider.server")

#: Returns when the client has gone (``_http.wait_for_disconnect`` on the request's receive).
Disconnected = Callable[[], Awaitable[None]]


class Pipeline:
    """Read, emulate, call, finish: what every completion route runs."""

    def __init__(
        self,
        config: ServerConfig,
        metrics: Metrics | None,
        expiry: Callable[[], asyncio.Future[None]],
    ) -> None:
        self.config = config
        self.metrics = metrics
        self._expiry = expiry
        self._providers: dict[str, tuple[type[AsyncProvider], str]] = {}

    async def chat(self, data: Mapping[str, Any], disconnected: Disconnected) -> Outcome:
        """A chat completion request (OpenAI's JSON object, as parsed) run to its answer."""
        plan = read_chat(data, self.config.max_choices)
        return await self.run(str(data["model"]), plan, disconnected)

    async def completion(self, data: Mapping[str, Any], disconnected: Disconnected) -> Outcome:
        """A legacy completion request run to its answer."""
        plan = read_completion(data, self.config.max_choices)
        return await self.run(str(data["model"]), plan, disconnected)

    async def run(self, model: str, plan: Plan, disconnected: Disconnected) -> Outcome:
        provider, model_id = self.choose(model)
        await runner().compile(plan.schemas)
        choices = await self._calls(provider, model_id, plan, disconnected)
        return Outcome(model, plan, choices, usage(plan.prompt_tokens(), choices))

    def choose(self, model: object) -> tuple[type[AsyncProvider], str]:
        """The provider for ``model`` (``"gpt-3.5-turbo"`` or ``"aichat/gpt-3.5-turbo"``)."""
        if not isinstance(model, str) or not model:
            raise invalid("'model' must be a non-empty string.", "model")
        chosen = self._providers.get(model)
        if chosen is not None:
            return chosen
        registry = self.config.registry
        provider_name, slash, model_id = model.partition("/")
        if slash:
            try:
                provider = registry.get(provider_name)
            except errors.ProviderNotFoundError as exc:
                message = (
                    f"No provider named {provider_name[:100]!r}; known: {', '.join(exc.known)}."
                )
                raise APIError(404, message, code="model_not_found", param="model") from None
        else:
            candidates = registry.for_model(model)
            if not candidates:
                raise APIError(
                    404,
                    f"No provider serves model {model[:100]!r}; GET /v1/models lists them.",
                    code="model_not_found",
                    param="model",
                )
            provider, model_id = candidates[0], model
        if not issubclass(provider, AsyncProvider):
            raise invalid(f"{provider.__name__} cannot serve requests here.", "model")
        if len(self._providers) < 1024:  # names clients made up are not kept
            self._providers[model] = (provider, model_id)
        return provider, model_id

    async def _calls(
        self, provider: type[AsyncProvider], model: str, plan: Plan, disconnected: Disconnected
    ) -> list[Choice]:
        """Every upstream call the plan needs, at once; cancelled if the client leaves or the
        drain's grace period ends first."""
        kwargs = {**self.config.provider_kwargs, **plan.sampling}
        calls = [
            asyncio.ensure_future(self._call(provider, model, messages, kwargs))
            for messages in plan.conversations()
            for _ in range(plan.n)
        ]
        together = calls[0] if len(calls) == 1 else asyncio.gather(*calls)
        watcher = asyncio.ensure_future(disconnected())
        expiry = self._expiry()
        try:
            await asyncio.wait((together, watcher, expiry), return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            for call in calls:
                call.cancel()  # a no-op for the finished ones
        if together.done():
            result = together.result()
            answers: list[str] = [result] if isinstance(result, str) else result
            schemas = runner()
            return list(await asyncio.gather(*(plan.finish(text, schemas) for text in answers)))
        together.cancel()
        if watcher.done() and not watcher.cancelled():
            raise ClientGone
        raise shutting_down()

    async def _call(
        self,
        provider: type[AsyncProvider],
        model: str,
        messages: Sequence[Mapping[str, Any]],
        kwargs: Mapping[str, Any],
    ) -> str:
        started = time.monotonic()
        outcome = "ok"
        attempts = 1
        try:
            ask = getattr(provider, "ask_async", None)
            if ask is not None:
                answer = await ask(model, messages, **kwargs)
                attempts = answer.attempts
                return str(answer.text)
            return await provider.create_async(model, messages, **kwargs)
        except errors.ProviderError as exc:
            outcome, attempts = type(exc).__name__, exc.attempts
            raise error_for(exc) from None
        except (asyncio.CancelledError, APIError):
            outcome = "cancelled"
            raise
        except Exception as exc:  # a plugin provider's own failure
            outcome = type(exc).__name__
            logger.warning("provider %s failed: %s", provider.__name__, outcome)
            raise APIError(
                502,
                f"The provider {provider.__name__} failed ({outcome}).",
                "upstream_error",
                "upstream_failed",
            ) from None
        finally:
            metrics = self.metrics
            if metrics is not None:
                seconds = time.monotonic() - started
                metrics.upstream_done(provider.__name__, outcome, seconds, attempts)
