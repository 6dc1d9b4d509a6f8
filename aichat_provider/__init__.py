"""aichat-provider: a gpt4free-style provider for the chat-gpt.org web chat service.

    from aichat_provider import Aichat
    answer = await Aichat.create_async("gpt-3.5-turbo", [{"role": "user", "content": "Hi"}],
                                       cookies={"session": "..."})

Importing this package reads no browser profile and touches no network. What is named in
``__all__`` is the public surface; modules whose names start with an underscore are private.
"""

from __future__ import annotations

import importlib

from ._constants import VERSION as __version__

TYPE_CHECKING = False  # without importing typing: `aichat --version` stays fast

if TYPE_CHECKING:
    from . import errors
    from ._aichat import Aichat, Answer
    from ._base import AsyncProvider, BaseProvider
    from ._login import login
    from ._messages import Message, Messages, format_prompt
    from ._options import AichatOptions
    from ._pool import aclose, connection_pool
    from ._session import StreamSession
    from .cookies import get_cookies
    from .errors import ProviderError

#: Where each public name lives. They are imported on first use, so that ``import
#: aichat_provider`` (and the ``aichat`` command's ``--version`` and ``--help``) stay fast;
#: ``login`` drives a browser and is never imported before it is asked for.
_HOMES = {
    "Aichat": "._aichat",
    "Answer": "._aichat",
    "AsyncProvider": "._base",
    "BaseProvider": "._base",
    "Message": "._messages",
    "Messages": "._messages",
    "format_prompt": "._messages",
    "AichatOptions": "._options",
    "aclose": "._pool",
    "connection_pool": "._pool",
    "StreamSession": "._session",
    "get_cookies": ".cookies",
    "ProviderError": ".errors",
    "login": "._login",
}


def __getattr__(name: str) -> object:
    if name == "errors":
        return importlib.import_module(".errors", __name__)
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    if name != "login":  # keep it: the next look-up is a plain attribute
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
