"""The ``aichat`` model for Simon Willison's ``llm`` command and library.

Installed with the package (the ``llm`` entry point), so once ``pip install '.[llm]'`` is done::

    llm -m aichat "Say hello in French"
    llm -m aichat -o cookies_file ~/cookies.txt -o temperature 0.2 "Hello"
    llm -m aichat -o browser firefox "Hello"

Options (``-o NAME VALUE``) are the ``aichat`` command's flags, named as ``llm`` spells them
(``--top-p`` is ``-o top_p``, ``--ca-bundle`` ``-o ca_bundle``; a repeatable flag takes its values
separated by commas: ``-o browser chrome,firefox``), with the same descriptions
(``llm models --options``). There is no option for a cookie value, a proxy URL or a header on
purpose: ``llm`` stores every prompt's options in its log database, so secrets come from a cookies
file, a browser, ``AICHAT_COOKIES_FILE`` or the usual ``HTTPS_PROXY`` instead. Conversations
(``llm -c``, ``llm chat``) send the whole history.

Failures are ``llm.ModelError`` (which ``llm`` shows as ``Error: ...``) and also the provider's
own class from :mod:`aichat_provider.errors`, chained to the original.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Any

import llm
from pydantic import ConfigDict, Field, create_model

from .. import errors
from .._aichat import Aichat
from .._messages import Message, Messages
from .._options import OPTIONS, Option
from ._common import also_a

__all__ = ["AichatAsyncModel", "AichatModel", "register_models"]

MODEL_ID = "aichat"


#: The value type of an ``-o`` option, from its flag's (a switch is a bool).
_TEXT_TYPES: dict[object, type] = {str: str, float: float, int: int, None: bool}
#: The options ``llm -o`` offers, by their ``-o`` names: every flag but the secret ones.
LLM_OPTIONS: dict[str, Option[Any]] = {
    option.text_name: option for option in OPTIONS if option.text_name and not option.secret
}


def _option_fields() -> dict[str, Any]:
    return {
        name: (
            _TEXT_TYPES[option.flag_type] | None,
            Field(default=None, description=option.text_help("several separated by commas")),
        )
        for name, option in LLM_OPTIONS.items()
    }


class _Options(llm.Options):
    """``llm``'s options, whose refusals do not quote the value refused: it may be a cookie or
    a proxy password given where there is no option for one."""

    model_config = ConfigDict(hide_input_in_errors=True)


if TYPE_CHECKING:
    LlmOptions = llm.Options
else:
    LlmOptions = create_model(
        "LlmOptions", __base__=_Options, __module__=__name__, **_option_fields()
    )


def _request(prompt: llm.Prompt) -> tuple[Messages, dict[str, Any]]:
    """The conversation so far and the provider's keyword arguments from one ``llm`` prompt."""
    kwargs: dict[str, Any] = {}
    for name, value in prompt.options.model_dump(exclude_none=True).items():
        option = LLM_OPTIONS[name]
        if option.repeatable:
            value = [part.strip() for part in value.split(",") if part.strip()]
        kwargs[option.name] = value
    return _to_messages(prompt), kwargs


def _to_messages(prompt: llm.Prompt) -> Messages:
    converted: list[Message] = []
    for message in prompt.messages:
        texts = []
        for part in message.parts:
            if not isinstance(part, llm.parts.TextPart):
                raise errors.InvalidRequestError(
                    f"Aichat takes text only, not {type(part).__name__} parts."
                )
            texts.append(part.text)
        item: Message = {"role": message.role, "content": "".join(texts)}  # type: ignore[typeddict-item]
        converted.append(item)
    return converted


def to_llm_error(error: errors.ProviderError) -> errors.ProviderError:
    """``error`` as an ``llm.ModelError`` as well; raise it ``from error``."""
    return also_a(error, llm.ModelError)


class AichatModel(llm.Model):
    """``llm -m aichat``: the answer in one piece."""

    model_id = MODEL_ID
    can_stream = True

    class Options(LlmOptions):
        """The ``-o`` options."""

    def execute(
        self,
        prompt: llm.Prompt,
        stream: bool,
        response: llm.Response,
        conversation: llm.Conversation | None,
    ) -> Iterator[str]:
        try:
            messages, options = _request(prompt)
            yield "".join(Aichat.create_completion("", messages, **options))
        except errors.ProviderError as error:
            raise to_llm_error(error) from error


class AichatAsyncModel(llm.AsyncModel):
    """The same model for ``llm``'s async API (``llm.get_async_model("aichat")``)."""

    model_id = MODEL_ID
    can_stream = True

    class Options(LlmOptions):
        """The ``-o`` options."""

    async def execute(
        self,
        prompt: llm.Prompt,
        stream: bool,
        response: llm.AsyncResponse,
        conversation: llm.AsyncConversation | None,
    ) -> AsyncGenerator[str, None]:
        try:
            messages, options = _request(prompt)
            yield await Aichat.create_async("", messages, **options)
        except errors.ProviderError as error:
            raise to_llm_error(error) from error


@llm.hookimpl
def register_models(register: Any) -> None:
    register(AichatModel(), AichatAsyncModel())
