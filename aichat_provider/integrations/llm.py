"""The ``aichat`` model for Simon Willison's ``llm`` command and library.

Installed with the package (the ``llm`` entry point), so once ``pip install '.[llm]'`` is done::

    llm -m aichat "Say hello in French"
    llm -m aichat -o cookies_file ~/cookies.txt -o temperature 0.2 "Hello"
    llm -m aichat -o browser firefox "Hello"

Options (``-o NAME VALUE``): ``cookies_file``, ``browser`` (a name, or several separated by
commas), ``temperature``, ``top_p``, ``presence_penalty``, ``frequency_penalty``, ``timeout``,
``max_retries``, ``impersonate``, ``user_agent``, ``ca_bundle`` and ``base_url``. There is no
option for a cookie value or a proxy URL on purpose: ``llm`` stores every prompt's options in its
log database, so secrets come from a cookies file, a browser, ``AICHAT_COOKIES_FILE`` or the
usual ``HTTPS_PROXY`` instead. Conversations (``llm -c``, ``llm chat``) send the whole history.

Failures are ``llm.ModelError`` (which ``llm`` shows as ``Error: ...``) and also the provider's
own class from :mod:`aichat_provider.errors`, chained to the original.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import Any

import llm
from pydantic import Field

from .. import errors
from .._aichat import Aichat
from .._messages import Message, Messages
from ._common import also_a, provider_options

__all__ = ["AichatAsyncModel", "AichatModel", "register_models"]

MODEL_ID = "aichat"


class AichatOptions(llm.Options):
    cookies_file: str | None = Field(
        default=None, description="A cookies.txt or JSON cookie export for chat-gpt.org"
    )
    browser: str | None = Field(
        default=None, description="Browsers to read cookies from, e.g. firefox or chrome,firefox"
    )
    temperature: float | None = Field(default=None, description="Sampling temperature, 0 to 2")
    top_p: float | None = Field(default=None, description="Nucleus sampling, 0 to 1")
    presence_penalty: float | None = Field(default=None, description="-2 to 2")
    frequency_penalty: float | None = Field(default=None, description="-2 to 2")
    timeout: float | None = Field(default=None, description="Seconds for one attempt")
    max_retries: int | None = Field(default=None, description="Retries on 429, 5xx, failures")
    impersonate: str | None = Field(default=None, description="curl_cffi browser fingerprint")
    user_agent: str | None = Field(default=None, description="The browser that earned the cookies")
    ca_bundle: str | None = Field(default=None, description="CA bundle to verify the service")
    base_url: str | None = Field(default=None, description="Where the chat-gpt.org API lives")


def _request(prompt: llm.Prompt) -> tuple[Messages, dict[str, Any]]:
    """The conversation so far and the provider's options from one ``llm`` prompt."""
    given = prompt.options.model_dump(exclude_none=True)
    if "browser" in given:
        given["browser"] = [name.strip() for name in given["browser"].split(",") if name.strip()]
    if "ca_bundle" in given:
        given["verify"] = given.pop("ca_bundle")
    return _to_messages(prompt), provider_options(given)


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

    class Options(AichatOptions):
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

    class Options(AichatOptions):
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
