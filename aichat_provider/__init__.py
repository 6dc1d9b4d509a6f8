"""aichat-provider: a gpt4free-style provider for the chat-gpt.org web chat service.

    from aichat_provider import Aichat
    answer = await Aichat.create_async("gpt-3.5-turbo", [{"role": "user", "content": "Hi"}],
                                       cookies={"session": "..."})

Importing this package reads no browser profile and touches no network.
"""

from __future__ import annotations

from . import errors
from ._aichat import Aichat
from ._base import AsyncProvider, BaseProvider
from ._cookies import get_cookies
from ._messages import Message, Messages, format_prompt
from ._pool import aclose, connection_pool
from ._session import StreamSession
from .errors import ProviderError

__version__ = "0.1.0"

__all__ = [
    "Aichat",
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
]
