"""LangChain: ``ChatAichat``, a chat model answered by Aichat.

::

    from aichat_provider.integrations.langchain import ChatAichat

    chat = ChatAichat(cookies_file="cookies.txt", temperature=0.2)
    print(chat.invoke("Say hello in French").content)

``invoke``, ``ainvoke``, ``stream``/``astream`` (the answer arrives as one chunk), ``batch`` and
``abatch`` work, as does everything built on them (chains, ``with_retry``, ``with_fallbacks``).
The provider's keyword arguments are the model's fields, and may also be given per call
(``chat.invoke(text, cookies=jar)``). ``stop`` sequences are applied to the answer, since the
service has none.

Failures follow LangChain's convention for provider errors: each is an instance of LangChain's
error kind (``ModelRateLimitError``, ``ModelAuthenticationError``, ...) *and* of the provider's own
class (:mod:`aichat_provider.errors`), with every field kept, and chained to the original.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, get_type_hints

from langchain_core import exceptions as langchain_errors
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ChatMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, create_model

from .. import _constants, errors
from .._aichat import Aichat
from .._messages import Message, Messages
from .._options import OPTIONS, PAYLOAD_FIELDS, AichatOptions
from ._common import also_a, cut_at_stop, provider_options

__all__ = ["ChatAichat", "to_langchain_error"]

#: Our class -> LangChain's error kind; the first match wins.
ERROR_KINDS: tuple[tuple[type[errors.ProviderError], type[langchain_errors.ModelError]], ...] = (
    (errors.ModelNotSupportedError, langchain_errors.ModelNotFoundError),
    (errors.InvalidRequestError, langchain_errors.ModelInvalidRequestError),
    (errors.MissingCookiesError, langchain_errors.ModelAuthenticationError),
    (errors.AuthenticationError, langchain_errors.ModelAuthenticationError),
    (errors.CloudflareError, langchain_errors.ModelPermissionDeniedError),
    (errors.RateLimitError, langchain_errors.ModelRateLimitError),
    (errors.ReplyError, langchain_errors.ModelAPIError),
    (errors.ProviderTimeoutError, langchain_errors.ModelTimeoutError),
    (errors.ProviderConnectionError, langchain_errors.ModelConnectionError),
    (errors.ProviderError, langchain_errors.ModelError),
)

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}
#: Options whose values may hold secrets.
SECRET_OPTIONS = frozenset(option.name for option in OPTIONS if option.secret)
#: What tells two configurations apart (LangChain's cache key): the model, the service and what
#: the request body carries; no secrets.
_IDENTIFYING = ("base_url", *(name for name, _ in PAYLOAD_FIELDS))


def to_langchain_error(error: errors.ProviderError) -> errors.ProviderError:
    """``error`` as an instance of LangChain's error kind as well, same message and fields;
    raise it ``from error``."""
    kind = next(theirs for ours, theirs in ERROR_KINDS if isinstance(error, ours))
    return also_a(error, kind)


def _option_fields() -> dict[str, Any]:
    """A field per provider option (:data:`~aichat_provider._options.OPTIONS`): the types a call
    takes (``AichatOptions``), None for the provider's default, the table's description; secrets
    (a proxy password, cookie values, an Authorization header) stay out of ``repr()``."""
    types: dict[str, Any] = {**get_type_hints(AichatOptions), "proxy": str}
    return {
        option.name: (
            types[option.name] | None,
            Field(default=None, description=option.description, repr=not option.secret),
        )
        for option in OPTIONS
    }


if TYPE_CHECKING:
    _WithOptions = BaseChatModel
else:
    _WithOptions = create_model(
        "ChatAichatOptions", __base__=BaseChatModel, __module__=__name__, **_option_fields()
    )


class ChatAichat(_WithOptions):
    """A LangChain chat model for chat-gpt.org, through ``Aichat``. Its fields are the provider's
    options; left at None they use the provider's defaults (and its environment variables, such
    as ``AICHAT_COOKIES_FILE``)."""

    #: A refusal does not quote the value refused: it may be a cookie or a proxy password.
    model_config = ConfigDict(hide_input_in_errors=True)

    model: str = _constants.DEFAULT_MODEL

    @property
    def _llm_type(self) -> str:
        return "aichat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, **{name: self.__dict__[name] for name in _IDENTIFYING}}

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """What callbacks and tracers are told about a call, secrets given per call hidden."""
        return _redacted(super()._get_invocation_params(stop=stop, **kwargs))

    def _get_llm_string(self, stop: list[str] | None = None, **kwargs: Any) -> str:
        """LangChain's cache key, which it builds from the call's keyword arguments as they
        are: secrets given per call are only named in it, so no cache stores them."""
        return super()._get_llm_string(stop=stop, **_redacted(kwargs))

    def _request(
        self, messages: list[BaseMessage], call: dict[str, Any]
    ) -> tuple[Messages, dict[str, Any]]:
        return _to_messages(messages), provider_options(self.__dict__, call)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        try:
            converted, options = self._request(messages, kwargs)
            answer = "".join(Aichat.create_completion(self.model, converted, **options))
        except errors.ProviderError as error:
            raise to_langchain_error(error) from error
        return _result(cut_at_stop(answer, stop))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        try:
            converted, options = self._request(messages, kwargs)
            answer = await Aichat.create_async(self.model, converted, **options)
        except errors.ProviderError as error:
            raise to_langchain_error(error) from error
        return _result(cut_at_stop(answer, stop))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text = self._generate(messages, stop, **kwargs).generations[0].text
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text, chunk_position="last"))
        if run_manager is not None:
            run_manager.on_llm_new_token(text, chunk=chunk)
        yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        result = await self._agenerate(messages, stop, **kwargs)
        text = result.generations[0].text
        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text, chunk_position="last"))
        if run_manager is not None:
            await run_manager.on_llm_new_token(text, chunk=chunk)
        yield chunk


def _redacted(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the value of each secret option given replaced by a marker."""
    return {
        name: "[redacted]" if name in SECRET_OPTIONS and value is not None else value
        for name, value in params.items()
    }


def _to_messages(messages: Sequence[BaseMessage]) -> Messages:
    converted: list[Message] = []
    for message in messages:
        role = message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type)
        if role is None:
            raise errors.InvalidRequestError(
                f"Aichat takes system, human and AI messages, not {message.type!r} messages."
            )
        item: Message = {"role": role, "content": message.content}  # type: ignore[typeddict-item]
        converted.append(item)
    return converted


def _result(answer: str) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])
