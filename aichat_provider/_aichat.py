"""``Aichat``: the provider for the chat-gpt.org web chat service."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from . import _constants
from ._base import AsyncProvider
from ._messages import Messages, format_prompt, repair_text
from ._options import (
    OPTIONS,
    PARAMETERS,
    PAYLOAD_FIELDS,
    AichatOptions,
    RequestOptions,
    parse_model,
    parse_options,
)
from ._pool import SessionKey, aclose, lease
from ._redact import Scrubber
from ._responses import HttpReply, body_excerpt
from ._retry import RetryPolicy, pause_before_retry, retry_policy
from ._urls import Endpoints
from .cookies._sources import ResolvedCookies, resolve_cookies
from .cookies._values import cookie_header
from .errors import AuthenticationError, CloudflareError, ProviderError, ResponseError

if sys.version_info >= (3, 11):
    from typing import Unpack
elif TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack

logger = logging.getLogger("aichat_provider")

_CLIENT_HINTS = ("sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform")
#: Headers curl_cffi's Chrome profile sends for a page navigation, which a fetch() never sends.
_NAVIGATION_ONLY = ("upgrade-insecure-requests", "sec-fetch-user", "cache-control")


@dataclass(frozen=True)
class Answer:
    """A provider call's answer and the facts of the call.

    ``cookie_source`` says where the cookies came from: ``"argument"``, ``"cookies_file"`` or
    ``"browser:<name>"``; ``attempts`` counts the requests sent (1 plus the retries).
    """

    text: str
    model: str
    attempts: int
    elapsed: float
    cookie_source: str


class Aichat(AsyncProvider):
    """chat-gpt.org: one non-streamed answer per call, authenticated by the site's cookies."""

    url: ClassVar[str | None] = "https://chat-gpt.org/chat"
    label: ClassVar[str | None] = "Aichat (chat-gpt.org)"
    working: ClassVar[bool] = True
    #: False so that every gpt4free calls it without ``auth=`` (0.1.x refuses a provider with
    #: ``needs_auth = True`` unless given one). The cookies it needs are found on their own;
    #: the class ``integrations.g4f.register()`` gives gpt4free 8.x says True
    #: (docs/integrations.md).
    needs_auth: ClassVar[bool] = False
    supports_stream: ClassVar[bool] = False
    supports_message_history: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    supports_gpt_35_turbo: ClassVar[bool] = True
    default_model: ClassVar[str] = _constants.DEFAULT_MODEL
    models: ClassVar[list[str]] = list(_constants.SUPPORTED_MODELS)
    parameters: ClassVar[dict[str, tuple[str, object]]] = PARAMETERS

    @classmethod
    async def aclose(cls) -> None:
        """Close the connections this loop keeps open for later calls (they reopen on demand)."""
        await aclose()

    @classmethod
    async def create_async(  # type: ignore[override]  # narrower, typed keywords
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        **kwargs: Unpack[AichatOptions],
    ) -> str:
        """Send ``messages`` to chat-gpt.org and return the answer.

        Keyword arguments are listed in docs/python.md and ``Aichat.params``; unknown ones are
        ignored.
        Raises the exceptions of :mod:`aichat_provider.errors`.
        """
        # Not a call of ask_async: each object alive while a call waits (a coroutine, the
        # keywords dict) is traversed by the collector, which 200 waiting calls make run often.
        plan, _, prompt = cls._prepare(model, messages, proxy, kwargs)
        del kwargs
        return (await cls._ask(plan, prompt))[0]

    @classmethod
    async def ask_async(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        **kwargs: Unpack[AichatOptions],
    ) -> Answer:
        """``create_async``, returning the answer with the facts of the call (:class:`Answer`).

        Every :class:`~aichat_provider.errors.ProviderError` it raises carries ``.provider`` and
        ``.url``.
        """
        started = time.monotonic()
        plan, model, prompt = cls._prepare(model, messages, proxy, kwargs)
        del kwargs  # not kept alive while the call waits
        text, attempts, source = await cls._ask(plan, prompt)
        return Answer(text, model, attempts, time.monotonic() - started, source)

    @classmethod
    def _prepare(
        cls, model: str, messages: Messages, proxy: str | None, kwargs: Mapping[str, Any]
    ) -> tuple[_Plan, str, str]:
        """The call's plan (an earlier call's when arguments and environment are the same), its
        model and its prompt. Raises InvalidRequestError before any network I/O."""
        try:
            key = _plan_key(proxy, kwargs)
            plan = _plan(key)
            if plan is None:
                options = parse_options(
                    model,
                    messages,
                    proxy,
                    kwargs,
                    models=cls.models,
                    default_model=cls.default_model,
                )
                plan = _Plan(options)
                _remember(key, plan)
                return plan, options.model, options.prompt
            return plan, parse_model(model, cls.models, cls.default_model), format_prompt(messages)
        except ProviderError as error:
            error.add_context(provider=cls.__name__, url=None)
            raise

    @classmethod
    async def _ask(cls, plan: _Plan, prompt: str) -> tuple[str, int, str]:
        """The answer's text, the attempts it took and where its cookies came from."""
        options = plan.options
        try:
            # Cookies: the argument, a cookies file, the store of `aichat login`, the browsers.
            if plan.cookies is not None:
                resolved = plan.cookies
            else:
                resolved = await resolve_cookies(
                    url=options.api_url,
                    host=options.host,
                    cookies_file=options.cookies_file,
                    browsers=options.browser,
                )
            # Headers, session, payload, the request with retries.
            try:
                reply, scrub, attempts = await _send(plan, prompt, resolved)
            except (AuthenticationError, CloudflareError) as error:
                resolved.rejected(options.api_url)
                if not options.refresh_cookies:
                    raise
                # The wall: renew the cookies with one headless visit, then try once more.
                first = error.attempts
                resolved = await _renewed_cookies(options, error)
                try:
                    reply, scrub, attempts = await _send(plan, prompt, resolved)
                except ProviderError as again:
                    again.attempts += first  # the attempts before the refresh count too
                    raise
                attempts += first
            logger.debug("answer after %d attempt(s), cookies from %s", attempts, resolved.source)
            # The response, or the error it holds.
            text = parse_answer(reply, scrub)
        except ProviderError as error:
            error.add_context(provider=cls.__name__, url=options.api_url)
            raise
        return text, attempts, resolved.source


class _Plan:
    """What every call of one configuration shares, worked out on the first of them.

    The checked options (their ``model`` and ``prompt`` are the first call's: each call brings
    its own), the pooled session's key, the retry policy, the body without its prompt and, when
    the cookies are the call's argument, the cookies, headers and scrubber too.
    """

    __slots__ = ("body", "cookies", "headers", "options", "policy", "scrub", "session_key")

    def __init__(self, options: RequestOptions) -> None:
        self.options = options
        self.session_key = SessionKey(
            options.base_url.origin, options.impersonate, options.proxy, options.verify
        )
        self.policy: RetryPolicy = retry_policy(options.max_retries)
        # The JSON body before and after its prompt, which comes first as in build_payload.
        rest = build_payload(options)
        del rest["message"]
        self.body = ('{"message":', "," + _JSON.encode(rest)[1:] if rest else "}")
        self.cookies: ResolvedCookies | None = None
        self.headers: dict[str, str | None] | None = None
        self.scrub: Scrubber | None = None
        if options.cookies:
            self.cookies = ResolvedCookies(options.cookies, "argument")
            self.headers, self.scrub = _headers_and_scrubber(options, self.cookies)


#: Plans by :func:`_plan_key`; cleared when full (an app uses a few configurations).
_plans: dict[Hashable, _Plan] = {}
_MAX_PLANS = 64
#: The options read from an environment variable when a call does not give them.
_ENVIRONMENT = tuple(
    (option.name, option.env, getattr(os.environ, "encodekey", str)(option.env))
    for option in OPTIONS
    if option.env
)
_ENVIRONMENT_FOLLOWS = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plan(key: Hashable | None) -> _Plan | None:
    """The plan of an earlier call with the same arguments and environment, or None."""
    plan = None if key is None else _plans.get(key)
    if plan is None:
        return None
    verify = plan.options.verify
    if type(verify) is str and not os.path.isfile(verify):
        return None  # checked again, so its removal is reported as parse_verify reports it
    return plan


def _remember(key: Hashable | None, plan: _Plan) -> None:
    if key is not None:
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()
        _plans[key] = plan


def _plan_key(proxy: object, kwargs: Mapping[str, Any]) -> Hashable | None:
    """A hashable picture of what decides a call's options: the arguments (with their exact
    types, so ``True`` is not ``1``) and the environment variables the options fall back to.

    None for a call a plan must not stand in for: an argument of another kind (a CookieJar is
    read anew on every call), certificate checks turned off (warned about on every call), or
    keywords that are ignored while debug logging is on (logged on every call). The key is one
    flat tuple
    (it is built on every call): each argument is its name, type and value, a dict's or list's
    length before its items, and a marker before the environment.
    """
    if type(proxy) not in _SCALARS:
        return None  # parse_options says what is wrong with it
    parts: list[object] = [type(proxy), proxy]
    for name, value in kwargs.items():
        kind = type(value)
        if kind in _SCALARS:
            parts += (name, kind, value)
            if kind is float and value == 0:
                parts.append(math.copysign(1.0, value))  # 0.0 == -0.0, but is sent as written
        elif kind is dict:
            parts += (name, kind, len(value))
            for item in value.items():
                if type(item[0]) is not str or type(item[1]) is not str:
                    return None
                parts += item
        elif kind is list or kind is tuple:
            parts += (name, kind, len(value))
            for item in value:
                if type(item) is not str:
                    return None
                parts.append(item)
        elif isinstance(value, PurePath):
            parts += (name, kind, value)
        else:
            return None
        if name not in PARAMETERS and logger.isEnabledFor(logging.DEBUG):
            return None
    if kwargs.get("verify", True) is False:
        return None
    parts.append(_ENVIRONMENT_FOLLOWS)
    environ = os.environ
    # os.environ.get raises and catches two KeyErrors for each absent variable (about 2 us, three
    # times a call); the dict under os.environ answers at once. Its values (bytes on POSIX) are
    # only compared here.
    data = getattr(environ, "_data", None)
    home = False
    for name, variable, raw_variable in _ENVIRONMENT:  # read, like the options, only when absent
        value = kwargs.get(name)
        if value is None:
            value = environ.get(variable) if data is None else data.get(raw_variable)
            parts.append(value)
            if name == "cookies_file" and value is not None:  # "~" is expanded with $HOME
                home = True
        else:
            parts.append(None)
            if name == "cookies_file" and "~" in str(value):
                home = True
    if home:
        parts.append(environ.get("HOME"))
    return tuple(parts)


async def _send(
    plan: _Plan, prompt: str, cookies: ResolvedCookies
) -> tuple[HttpReply, Scrubber, int]:
    """The request with retries: the reply, the scrubber and how many attempts it took (a
    failure carries its count in ``attempts``)."""
    options = plan.options
    if cookies is plan.cookies and plan.headers is not None and plan.scrub is not None:
        headers, scrub = plan.headers, plan.scrub
    else:
        headers, scrub = _headers_and_scrubber(options, cookies)
    head, tail = plan.body
    body = (head + _JSON.encode(prompt) + tail).encode()
    # The retry loop is written out here rather than a helper awaiting a callable: each
    # coroutine and partial in the chain is one more object alive while the call waits.
    retries_done = 0
    while True:
        try:
            # Session: shared with other calls of the same configuration on this loop, leased
            # per attempt, so a retry after a pause never uses a session retired meanwhile.
            async with lease(plan.session_key) as session:
                reply = await session.post_json(
                    options.api_url, body, headers=headers, scrub=scrub, timeout=options.timeout
                )
            return reply, scrub, retries_done + 1
        except ProviderError as error:
            delay = pause_before_retry(error, plan.policy, retries_done)
        retries_done += 1
        await asyncio.sleep(delay)


def _headers_and_scrubber(
    options: RequestOptions, cookies: ResolvedCookies
) -> tuple[dict[str, str | None], Scrubber]:
    scrub = Scrubber((*cookies.cookies.values(), *options.secrets))
    # A user agent given in the call wins; else the one the cookie store saved with its cookies
    # (cf_clearance is only valid with it); else the environment's; else the impersonated one.
    agent = options.user_agent
    if cookies.user_agent and (agent is None or options.user_agent_from_environment):
        agent = cookies.user_agent
    return build_headers(options, cookie_header(cookies.cookies), agent), scrub


async def _renewed_cookies(options: RequestOptions, error: ProviderError) -> ResolvedCookies:
    """The store's cookies after a refresh, or ``error`` (with what to do) when there is none."""
    from ._login import LoginError, renew  # the refresh path only

    try:
        stored = await renew(options.base_url, timeout=_constants.REFRESH_TIMEOUT)
    except LoginError as failure:
        error.message += (
            f" The automatic refresh did not help ({failure}); run 'aichat login' to get new "
            "cookies with your browser."
        )
        raise error from None
    return ResolvedCookies(stored.select(options.api_url).values, "store", stored.user_agent)


def build_headers(
    options: RequestOptions, cookies: str, user_agent: str | None = None
) -> dict[str, str | None]:
    """Browser-like headers for a same-origin fetch from the chat page.

    The user agent and client hints come from curl_cffi's impersonation, so they match the TLS
    fingerprint. A ``user_agent`` override (the browser that earned ``cf_clearance``) replaces
    the user agent and drops the client hints, which would otherwise name another browser.
    """
    extra = tuple(options.headers.items()) if options.headers else ()
    agent = user_agent if user_agent is not None else options.user_agent
    headers = _base_headers(options.base_url, agent, extra).copy()
    headers["cookie"] = cookies
    return headers


@lru_cache(maxsize=64)  # the same few configurations on every call
def _base_headers(
    endpoints: Endpoints, user_agent: str | None, extra: tuple[tuple[str, str], ...]
) -> dict[str, str | None]:
    headers: dict[str, str | None] = {
        "accept": "*/*",
        "accept-language": "en-US,en;q=0.9",
        "content-type": "application/json",
        "origin": endpoints.origin,
        "referer": endpoints.referer,
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
        "priority": "u=1, i",
    }
    headers.update(dict.fromkeys(_NAVIGATION_ONLY))
    if user_agent:
        headers["user-agent"] = user_agent
        for hint in _CLIENT_HINTS:
            headers[hint] = None
    headers.update({name.lower(): value for name, value in extra})
    return headers


def build_payload(options: RequestOptions) -> dict[str, Any]:
    payload: dict[str, Any] = {"message": options.prompt}
    for name, key in PAYLOAD_FIELDS:
        payload[key] = getattr(options, name)
    return payload


def parse_answer(reply: HttpReply, scrub: Scrubber) -> str:
    """The ``message`` of a ``{"response": true, "message": "..."}`` reply, or ResponseError.

    Lone surrogates in the answer (JSON may escape half an emoji) become U+FFFD.
    """
    fast_loads = _fast_loads()
    if fast_loads is not None:
        # orjson reads an answer (a true and a string) as the standard library does, or refuses
        # it (a lone surrogate, another encoding than UTF-8); anything else, and every refusal,
        # is read again below.
        try:
            data = fast_loads(reply.body)
        except ValueError:  # orjson's JSONDecodeError
            pass
        else:
            if type(data) is dict and data.get("response") is True:
                message = data.get("message")
                if type(message) is str:
                    return message
    try:
        data = json.loads(reply.body)
        if isinstance(data, dict) and data.get("response") is True:
            message = data.get("message")
            if isinstance(message, str):
                return repair_text(message)
    except (ValueError, RecursionError):
        data = _NOT_JSON
    raise _answer_error(reply, data, scrub)


@lru_cache(maxsize=1)
def _fast_loads() -> Callable[[bytes], object] | None:
    """orjson's ``loads`` when it is installed (the server extra has it; curl_cffi's own
    ``Response.json`` uses it too), imported on the first answer: about 2 us less per answer."""
    try:
        from orjson import loads
    except ImportError:
        return None
    return loads


_NOT_JSON = object()
#: How CurlSession.post_json encodes a body.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _answer_error(reply: HttpReply, data: object, scrub: Scrubber) -> ResponseError:
    """Why a 2xx reply holds no answer, as the ResponseError to raise."""
    facts: dict[str, Any] = {
        "status_code": reply.status_code,
        "body_excerpt": body_excerpt(reply.body, scrub),
    }
    if data is _NOT_JSON:
        kind = "an empty body" if not reply.body.strip() else "a body that is not JSON"
        content_type = reply.header("content-type").split(";")[0] or "no content type"
        return ResponseError(
            f"The service answered HTTP {reply.status_code} with {kind} ({content_type}) instead "
            "of its JSON reply; the API may have changed or base_url points elsewhere.",
            **facts,
        )
    if not isinstance(data, dict):
        return ResponseError(
            f"The service answered with JSON {type(data).__name__} instead of an object.", **facts
        )
    message = data.get("message")
    if data.get("response") is not True:
        said = repair_text(scrub(message))[:300] if isinstance(message, str) else "no message"
        return ResponseError(f"The service reported a failure: {said}", **facts)
    return ResponseError(
        "The service's reply has no answer text ('message' is missing or not a string).", **facts
    )
