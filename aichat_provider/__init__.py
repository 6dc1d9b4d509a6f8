"""aichat-provider: a gpt4free-style provider for the chat-gpt.org web chat service.

    from aichat_provider import Aichat
    answer = await Aichat.create_async("gpt-3.5-turbo", [{"role": "user", "content": "Hi"}],
                                       cookies={"session": "..."})

Importing this package reads no browser profile and touches no network. What is named in
``__all__`` is the public surface; modules whose names start with an underscore are private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from ._aichat import Aichat, Answer
from ._base import AsyncProvider, BaseProvider
from ._constants import VERSION as __version__
from ._messages import Message, Messages, format_prompt
from ._options import AichatOptions
from ._pool import aclose, connection_pool
from ._session import StreamSession
from .cookies import get_cookies
from .errors import ProviderError

if TYPE_CHECKING:
    from ._login import login


def __getattr__(name: str) -> object:
    # ``login`` drives a browser: its module is imported on first use, not with the package.
    if name == "login":
        from ._login import login

        return login
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Aichat",
    "AichatOptions",
    "Answer",
    "AsyncProvider",
    "BaseProvider",
    "Message",
    "Messages",
    "ProviderError",
    "StreamSession",
    "__version__",
    "aclose",
    "connection_pool",
    "errors",
    "format_prompt",
    "get_cookies",
    "login",
]
