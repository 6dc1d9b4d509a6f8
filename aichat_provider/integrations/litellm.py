"""LiteLLM: models named ``aichat/<model>`` answered by Aichat.

::

    import litellm
    from aichat_provider.integrations import litellm as aichat_litellm

    aichat_litellm.register()
    answer = litellm.completion(model="aichat/gpt-3.5-turbo", messages=messages, cookies=cookies)

``completion``, ``acompletion`` and ``stream=True`` (the answer arrives as one chunk) work. The
provider's keyword arguments (``cookies``, ``cookies_file``, ``browser``, ``temperature``,
``top_p``, ``proxy``, ``user_agent``, ``impersonate``, ``verify``, ...) are passed as they are;
``api_base``/``base_url`` is the service address, LiteLLM's ``timeout`` (600 s unless set) the
per-attempt timeout, ``headers`` extra request headers, and ``stop`` sequences cut the answer.
Failures are LiteLLM's own exception classes (``litellm.RateLimitError``,
``litellm.AuthenticationError``, ...), which its router's retries and fallbacks read, chained to
the provider's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import litellm
from litellm import exceptions as litellm_errors
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import GenericStreamingChunk, ModelResponse

from .. import errors
from .._aichat import Aichat
from .._messages import Messages
from ._common import cut_at_stop, provider_options

__all__ = ["PROVIDER", "AichatLLM", "register", "to_litellm_error"]

#: The model prefix: ``aichat/gpt-3.5-turbo``.
PROVIDER = "aichat"


def to_litellm_error(error: errors.ProviderError, model: str) -> Exception:
    """LiteLLM's exception for ``error`` (same message); raise it ``from error``."""
    message = str(error)
    names: dict[str, Any] = {"message": message, "llm_provider": PROVIDER, "model": model}
    if isinstance(error, errors.ModelNotSupportedError):
        return litellm_errors.NotFoundError(**names)
    if isinstance(error, errors.InvalidRequestError):
        return litellm_errors.BadRequestError(**names)
    if isinstance(error, (errors.MissingCookiesError, errors.AuthenticationError)):
        return litellm_errors.AuthenticationError(**names)
    if isinstance(error, errors.RateLimitError):
        wait = error.retry_after
        headers = {"retry-after": f"{wait:g}"} if wait is not None else None
        return litellm_errors.RateLimitError(**names, headers=headers)
    if isinstance(error, errors.CloudflareError):
        return litellm_errors.ServiceUnavailableError(**names)
    if isinstance(error, errors.ReplyError):
        return litellm_errors.BadGatewayError(**names)
    if isinstance(error, errors.ProviderTimeoutError):
        return litellm_errors.Timeout(**names)
    if isinstance(error, errors.ProviderConnectionError):
        return litellm_errors.APIConnectionError(**names)
    return litellm_errors.APIError(status_code=500, **names)


class AichatLLM(CustomLLM):
    """LiteLLM's handler for ``aichat/<model>``; :func:`register` installs one."""

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        model, messages, options = _request(kwargs)
        try:
            answer = "".join(Aichat.create_completion(model, messages, **options))
        except errors.ProviderError as error:
            raise to_litellm_error(error, model) from error
        return _response(kwargs, model, answer)

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        model, messages, options = _request(kwargs)
        answer = await _ask(model, messages, options)
        return _response(kwargs, model, answer)

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        # Not a generator: the answer is asked for now, so a failure is raised by completion()
        # as LiteLLM's own class (one raised while LiteLLM iterates becomes its
        # MidStreamFallbackError).
        return iter([_chunk(self.completion(*args, **kwargs))])

    # LiteLLM iterates what astreaming returns, an async generator as in its own examples (its
    # declaration says a coroutine that returns the iterator), so a failure arrives while it
    # iterates, as LiteLLM's MidStreamFallbackError with ours as ``original_exception``.
    async def astreaming(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        yield _chunk(await self.acompletion(*args, **kwargs))


def register() -> AichatLLM:
    """Add the ``aichat/`` model prefix to LiteLLM (``litellm.custom_provider_map``). Safe to
    call again: an earlier registration is replaced."""
    handler = AichatLLM()
    others = [entry for entry in litellm.custom_provider_map if entry["provider"] != PROVIDER]
    litellm.custom_provider_map = [*others, {"provider": PROVIDER, "custom_handler": handler}]
    return handler


async def _ask(model: str, messages: Messages, options: dict[str, Any]) -> str:
    try:
        return await Aichat.create_async(model, messages, **options)
    except errors.ProviderError as error:
        raise to_litellm_error(error, model) from error


def _request(call: Mapping[str, Any]) -> tuple[str, Messages, dict[str, Any]]:
    """Model, messages and the provider's options from LiteLLM's call to a custom handler."""
    timeout = call.get("timeout")
    options = provider_options(
        call.get("optional_params"),
        {
            "base_url": call.get("api_base"),
            "headers": call.get("headers") or None,
            "timeout": timeout if isinstance(timeout, (int, float)) else None,
        },
    )
    return str(call["model"]), call["messages"], options


def _response(call: Mapping[str, Any], model: str, answer: str) -> ModelResponse:
    """LiteLLM's response to ``call``, holding the answer cut at its ``stop`` sequences."""
    response: ModelResponse = call["model_response"]
    stop = (call.get("optional_params") or {}).get("stop")
    response.choices[0].message.content = cut_at_stop(answer, stop)
    response.choices[0].finish_reason = "stop"
    response.model = model
    return response


def _chunk(response: ModelResponse) -> GenericStreamingChunk:
    text = response.choices[0].message.content
    return {
        "text": str(text),
        "is_finished": True,
        "finish_reason": "stop",
        "usage": None,
        "index": 0,
        "tool_use": None,
    }
