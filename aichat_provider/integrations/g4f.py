"""gpt4free (``g4f``): Aichat by name, and gpt4free's own error classes.

::

    from aichat_provider.integrations import g4f as aichat_g4f
    aichat_g4f.register()   # now provider="Aichat" works in ChatCompletion, Client, AsyncClient

gpt4free reads no entry points, so a provider outside its source tree is only found by name
once it is put in gpt4free's provider table; :func:`register` does that (gpt4free 8.x:
``ProviderLoader``; 0.1.x: ``ProviderUtils.convert``, replacing gpt4free's own long-dead
``Aichat``). ``g4f api`` and the GUI run in their own process: start them with
``python -m aichat_provider.integrations.g4f api ...``, which is gpt4free's own command line
with Aichat registered.

The class registered is this module's :class:`Aichat`: the package's provider, except that its
failures are raised as gpt4free 8.x's error classes, chained to the original, so gpt4free's
retry providers, its API server (401, 404, 429) and code written for gpt4free react to them.
The launcher registers :class:`AichatForServers` instead, which takes only the sampling options
from a call: gpt4free's GUI passes on every field of a request's JSON body, so a remote client
could otherwise choose the server's cookies file, TLS verification, headers or login browser.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import g4f
import g4f.Provider

from .. import _aichat, errors
from .._messages import Messages
from .._options import OPTIONS, PARAMETERS

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

if TYPE_CHECKING:
    from .._options import AichatOptions

__all__ = ["Aichat", "AichatForServers", "main", "register", "to_g4f_error", "unregister"]

NAME = "Aichat"

logger = logging.getLogger("aichat_provider")

#: What a request to a gpt4free server may choose: how the answer is sampled. Everything else
#: (cookies, files, address, TLS, headers, browsers, timeouts, retries) is the server's to set.
REQUEST_OPTIONS = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})

#: gpt4free 8.x has ``ProviderLoader`` and ``g4f.errors``; 0.1.x has neither.
MODERN = hasattr(g4f.Provider, "ProviderLoader")

#: Our class -> the gpt4free 8.x class gpt4free's machinery reacts to; the first match wins.
#: Its API server answers 404 for ModelNotFoundError, 401 for MissingAuthError and 429 for
#: RateLimitError (everything else is a 500); its RotatedProvider does not count a
#: MissingAuthError against a provider's health; every retry provider moves on after any error.
ERROR_CLASSES: tuple[tuple[type[errors.ProviderError], str], ...] = (
    (errors.ModelNotSupportedError, "ModelNotFoundError"),
    (errors.InvalidRequestError, "BadRequestError"),
    (errors.MissingCookiesError, "MissingAuthError"),
    (errors.AuthenticationError, "MissingAuthError"),
    (errors.CloudflareError, "CloudflareError"),
    (errors.RateLimitError, "RateLimitError"),
    (errors.ResponseStatusError, "ResponseStatusError"),
    (errors.ResponseError, "ResponseError"),
    (errors.ProviderTimeoutError, "TimeoutError"),
    (errors.ProviderConnectionError, "ProviderNotWorkingError"),
    (errors.ProviderError, "ProviderException"),
)


def to_g4f_error(error: errors.ProviderError) -> Exception | None:
    """The gpt4free exception for ``error`` (same message), or None where gpt4free has no error
    classes (0.1.x). Raise it ``from error``."""
    if not MODERN:
        return None
    g4f_errors = importlib.import_module("g4f.errors")
    for ours, theirs in ERROR_CLASSES:
        if isinstance(error, ours):
            exception_class: type[Exception] = getattr(g4f_errors, theirs)
            return exception_class(str(error))
    raise TypeError(f"{type(error).__name__} is not a ProviderError")  # pragma: no cover


class Aichat(_aichat.Aichat):
    """The Aichat provider as gpt4free sees it after :func:`register`.

    ``needs_auth``: gpt4free 0.1.x refuses a provider with ``needs_auth = True`` unless the
    caller passes ``auth=``, so it is False there (as on the package's own ``Aichat``).
    gpt4free 8.x never refuses a call for it: it shows "Auth: Required" and a login link
    (``login_url``) in its GUI and ranks such providers after the others when it picks one
    itself, which is what a provider that needs the site's cookies should say.
    """

    needs_auth: ClassVar[bool] = MODERN
    login_url: ClassVar[str] = "https://chat-gpt.org/chat"

    @classmethod
    async def create_async(  # type: ignore[override]  # narrower, typed keywords
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        **kwargs: Unpack[AichatOptions],
    ) -> str:
        """:meth:`aichat_provider.Aichat.create_async`, raising gpt4free's error classes."""
        try:
            return await super().create_async(model, messages, proxy, **kwargs)
        except errors.ProviderError as error:
            translated = to_g4f_error(error)
            if translated is None:
                raise
            raise translated from error


_DROPPED_NOTED = (
    frozenset(option.name for option in OPTIONS) - REQUEST_OPTIONS - {"proxy", "timeout"}
)


class AichatForServers(Aichat):
    """:class:`Aichat` for a process that serves others (``g4f api``, the GUI): keyword
    arguments other than :data:`REQUEST_OPTIONS` are dropped, so cookies, the service address
    and every other connection setting come from the environment (``AICHAT_COOKIES_FILE``,
    ``AICHAT_BASE_URL``, ...), never from a request. ``proxy`` is kept: gpt4free's servers set
    it from their own ``--proxy``/``G4F_PROXY`` and drop a request's."""

    #: gpt4free names, lists and looks up a provider by ``__name__`` and ``parent``.
    parent: ClassVar[str] = NAME
    #: What the GUI offers to set: only what a request may set.
    parameters: ClassVar[dict[str, tuple[str, object]]] = {
        name: value for name, value in PARAMETERS.items() if name in REQUEST_OPTIONS
    }

    @classmethod
    async def create_async(  # type: ignore[override]  # narrower, typed keywords
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        **kwargs: Unpack[AichatOptions],
    ) -> str:
        """:meth:`Aichat.create_async` with only the request's sampling options."""
        given: dict[str, Any] = dict(kwargs)
        # gpt4free's servers pass their own timeout with every call: no news, not worth a warning
        dropped = sorted(name for name in given if name in _DROPPED_NOTED)
        if dropped:
            logger.warning(
                "ignoring %s from a request to gpt4free's server: a server takes them from "
                "its environment (AICHAT_COOKIES_FILE, AICHAT_BASE_URL, ...), not from callers.",
                ", ".join(dropped),
            )
        kept: Any = {name: given[name] for name in REQUEST_OPTIONS if name in given}
        return await super().create_async(model, messages, proxy, **kept)


AichatForServers.__name__ = NAME


#: What :func:`register` replaced, so :func:`unregister` can put it back.
_replaced: dict[str, Any] = {}


def register(*, server: bool = False) -> type[Aichat]:
    """Make gpt4free resolve ``"Aichat"`` (any case) to :class:`Aichat`, or with ``server=True``
    (a process whose calls come from remote clients: ``g4f api``, the GUI) to
    :class:`AichatForServers`. Safe to call again.

    In gpt4free 8.x this covers ``ChatCompletion``, ``Client``, ``AsyncClient``, provider lists
    given by name, ``g4f.Provider.Aichat``, the API server's ``/v1/providers`` and, when the GUI
    is already imported (the launcher imports it first), the GUI's provider list.
    """
    provider = AichatForServers if server else Aichat
    if MODERN:
        loader = g4f.Provider.ProviderLoader
        loader.loaded[NAME] = loader.loaded[NAME.lower()] = provider
        if NAME not in loader.names:
            loader.names.append(NAME)
        _list_in_gui()
    else:
        convert = g4f.Provider.ProviderUtils.convert
        if NAME not in _replaced:
            _replaced[NAME] = convert.get(NAME)
        convert[NAME] = provider
        setattr(g4f.Provider, NAME, provider)
    return provider


def unregister() -> None:
    """Undo :func:`register` (for tests, and for code that registers for a while)."""
    if MODERN:
        loader = g4f.Provider.ProviderLoader
        for key in (NAME, NAME.lower()):
            if loader.loaded.get(key) in (Aichat, AichatForServers):
                del loader.loaded[key]
        if NAME in loader.names:
            loader.names.remove(NAME)
    elif NAME in _replaced:
        original = _replaced.pop(NAME)
        g4f.Provider.ProviderUtils.convert[NAME] = original
        setattr(g4f.Provider, NAME, original)


def _gui_entry(provider: type[Aichat]) -> dict[str, Any]:
    """The GUI's description of a provider, with the keys its own list uses."""
    return {
        "name": provider.__name__,
        "label": provider.label or provider.__name__,
        "parent": provider.get_parent(),
        "image": 0,
        "audio": 0,
        "video": 0,
        "vision": False,
        "nodriver": False,
        "hf_space": False,
        "active_by_default": bool(provider.active_by_default),
        "auth": provider.needs_auth,
        "login_url": provider.login_url,
        "live": provider.live,
        "login": False,
    }


def _list_in_gui() -> None:
    """Add Aichat to the GUI's provider list, which gpt4free 8.x reads from a file it ships
    (``providers.json``) instead of its provider table; only once the GUI is imported, since
    importing it fetches gpt4free's list of online providers."""
    module = sys.modules.get("g4f.gui.server.api")
    if module is None:
        return
    api = module.Api
    original: Callable[..., list[dict[str, Any]]] = api.get_providers
    if getattr(original, "lists_aichat", False):
        return

    def get_providers(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        listed = original(*args, **kwargs)
        registered = g4f.Provider.ProviderLoader.loaded.get(NAME)
        if registered is None or any(entry.get("name") == NAME for entry in listed):
            return listed
        return [*listed, _gui_entry(registered)]

    get_providers.lists_aichat = True  # type: ignore[attr-defined]
    api.get_providers = staticmethod(get_providers)


#: Options that make gpt4free start other processes, which would not have Aichat registered.
_NEW_PROCESSES = ("--reload", "dev")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m aichat_provider.integrations.g4f [ARGS]``: ``g4f [ARGS]`` with
    :class:`AichatForServers` registered (``api``, ``gui``, ``client``...). One process:
    ``--reload``, ``--workers`` above 1 and ``dev`` are refused, since their new processes would
    not know Aichat."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(arg in _NEW_PROCESSES for arg in args) or _workers(args) > 1:
        sys.exit(
            "aichat_provider.integrations.g4f: --reload, --workers above 1 and 'dev' start "
            "new processes that would not have Aichat registered; run a single process."
        )
    if MODERN:
        importlib.import_module("g4f.gui")  # so register() can add Aichat to its list
    register(server=True)
    sys.argv = ["g4f", *args]
    importlib.import_module("g4f.cli").main()


def _workers(args: list[str]) -> int:
    for index, arg in enumerate(args):
        value = None
        if arg == "--workers" and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--workers="):
            value = arg.partition("=")[2]
        if value is not None:
            return int(value) if value.isdigit() else 2
    return 1


if __name__ == "__main__":
    main()
