"""The ASGI application: routes, admission, the provider calls and their answers."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import FrameType
from typing import Any

from .. import errors
from .._base import AsyncProvider, BaseProvider
from .._messages import format_prompt
from . import _access_log, _messages_api, _responses_api, _sse
from ._chat import Choice, Plan, estimate_tokens, read_chat, read_completion, usage
from ._errors import APIError, error_for, invalid
from ._guard import Guard, check_json_body, preflight_headers
from ._http import (
    ClientGone,
    Headers,
    Receive,
    Request,
    Scope,
    Send,
    loads,
    read_body,
    send_bytes,
    send_error,
    send_events,
    send_json,
    wait_for_disconnect,
)
from ._metrics import create_metrics
from ._schema import runner
from ._settings import ServerConfig

logger = logging.getLogger("aichat_provider.server")

Handler = Callable[["AichatServer", Request, Receive, Send, Headers], Awaitable[int]]

PAGE_FILES = {
    "/": ("index.html", b"text/html; charset=utf-8"),
    "/static/app.css": ("app.css", b"text/css; charset=utf-8"),
    "/static/app.js": ("app.js", b"text/javascript; charset=utf-8"),
}
PAGE_HEADERS: Headers = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        b"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-cache"),
]


class AichatServer:
    """The OpenAI-compatible API (see the package docstring). Build it with ``create_app``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.guard = Guard.create(config.cors_origins, config.allowed_hosts)
        self.metrics = create_metrics()
        self.draining = False
        self._drain_expired: asyncio.Future[None] | None = None
        self._providers: dict[str, tuple[type[AsyncProvider], str]] = {}
        self.responses = _responses_api.ResponseStore()
        self._page = {
            path: ((resources.files(__package__) / "static" / name).read_bytes(), kind)
            for path, (name, kind) in PAGE_FILES.items()
        }
        config.registry.names()  # read the entry points now, not inside the first request

    def __repr__(self) -> str:
        return f"AichatServer({self.config!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def begin_drain(self) -> None:
        """Stop taking requests; give those in flight ``graceful_timeout`` seconds, then 503."""
        if self.draining:
            return
        self.draining = True
        expired = self._expiry()

        def expire() -> None:
            if not expired.done():
                expired.set_result(None)

        asyncio.get_running_loop().call_later(self.config.graceful_timeout, expire)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """On startup, drain on SIGTERM/SIGINT before the server's own handler stops taking
        connections; on shutdown, put the previous handlers back."""
        previous: dict[signal.Signals, Any] = {}
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if threading.current_thread() is threading.main_thread():
                    previous = self._chain_signals(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _chain_signals(self, loop: asyncio.AbstractEventLoop) -> dict[signal.Signals, Any]:
        previous: dict[signal.Signals, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            before = signal.getsignal(sig)
            if not callable(before):
                continue  # nobody stops the server on it: nothing to drain for

            def handler(number: int, frame: FrameType | None, before: Any = before) -> None:
                loop.call_soon_threadsafe(self.begin_drain)
                before(number, frame)

            previous[sig] = before
            signal.signal(sig, handler)
        return previous

    def _expiry(self) -> asyncio.Future[None]:
        if self._drain_expired is None:
            self._drain_expired = asyncio.get_running_loop().create_future()
        return self._drain_expired

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = self.metrics
        route = route_name(scope["path"])
        if metrics is not None:
            metrics.in_flight.inc()
        status = 500
        cors: Headers = []
        try:
            request = Request.from_scope(scope)
            cors = self.guard.admit(request)
            status = await self._dispatch(request, receive, send, cors)
        except APIError as error:
            status = error.status
            route_found = find_route(scope["path"])
            if route_found is not None and route_found.error_body is not None:
                body = route_found.error_body(error)
                await send_json(send, status, body, [*error.headers(), *cors])
            else:
                await send_error(send, error, cors)
        except ClientGone:
            status = 499  # nginx's name for it: nobody is left to answer
        except Exception:
            logger.exception("the server failed to answer %s %s", scope["method"], route)
            failed = APIError(
                500, "The server failed; its log says why.", "server_error", "internal_error"
            )
            await send_error(send, failed, cors)
        finally:
            if metrics is not None:
                metrics.in_flight.dec()
                metrics.request_done(route, status)

    async def _dispatch(self, request: Request, receive: Receive, send: Send, cors: Headers) -> int:
        path, method = request.path, request.method
        route = find_route(path)
        if method != "OPTIONS" and (route is None or not route.public):
            # Admission, before any handler runs: a route is open only if the table says so.
            self._check_key(request)
        if route is None:
            raise APIError(
                404,
                f"No route {path[:100]!r}. The API is under /v1: POST /v1/chat/completions, "
                "GET /v1/models.",
                "invalid_request_error",
                "not_found",
            )
        methods = route.methods
        if method == "OPTIONS":
            headers = preflight_headers(request, cors) if cors else []
            await send_bytes(send, 204, b"", [*headers, (b"allow", _allow(methods))])
            return 204
        handler = methods.get(method)
        if handler is None:
            await send_error(
                send,
                APIError(405, f"{path} does not take {method[:10]}.", code="method_not_allowed"),
                [*cors, (b"allow", _allow(methods))],
            )
            return 405
        return await handler(self, request, receive, send, cors)

    # --- routes -------------------------------------------------------------------------------

    async def _chat_completions(
        self, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        data = await self._read_request(request, receive)
        plan, choices, counted = await self._complete_chat(data, receive)
        head = {
            "id": f"chatcmpl-{os.urandom(12).hex()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": data["model"],
        }
        if not plan.stream:
            body = {
                **head,
                "choices": [
                    {
                        "index": index,
                        "message": _message(choice),
                        "logprobs": None,
                        "finish_reason": choice.reason,
                    }
                    for index, choice in enumerate(choices)
                ],
                "usage": counted,
            }
            await send_json(send, 200, body, cors)
            return 200
        head["object"] = "chat.completion.chunk"
        if plan.include_usage:
            head["usage"] = None
        events: list[object] = [
            {**head, "choices": [_delta(index, _message(choice, streamed=True), None)]}
            for index, choice in enumerate(choices)
        ]
        events += [
            {**head, "choices": [_delta(index, {}, choice.reason)]}
            for index, choice in enumerate(choices)
        ]
        if plan.include_usage:
            events.append({**head, "choices": [], "usage": counted})
        await send_events(send, events, cors)
        return 200

    async def _responses(
        self, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        """OpenAI's Responses API: translated to a chat completion, run, and rendered back."""
        data = await self._read_request(request, receive)
        wanted = _responses_api.to_chat(data, self.responses)
        _, choices, counted = await self._complete_chat(wanted.chat, receive)
        response = _responses_api.render(wanted, choices[0], counted)
        _responses_api.remember(wanted, response, self.responses)
        if not wanted.stream:
            await send_json(send, 200, response, cors)
            return 200
        body = _sse.encode(_responses_api.events(response))
        await send_bytes(send, 200, body, [*_sse.HEADERS, *cors])
        return 200

    async def _messages(self, request: Request, receive: Receive, send: Send, cors: Headers) -> int:
        """Anthropic's Messages API: translated to a chat completion, run, and rendered back."""
        data = await self._read_request(request, receive)
        wanted = _messages_api.to_chat(data)
        plan, choices, _ = await self._complete_chat(wanted.chat, receive)
        message = _messages_api.render(wanted, choices[0], _prompt_tokens(plan.messages))
        if not wanted.stream:
            await send_json(send, 200, message, cors)
            return 200
        body = _sse.encode(_messages_api.events(message))
        await send_bytes(send, 200, body, [*_sse.HEADERS, *cors])
        return 200

    async def _count_tokens(
        self, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        """Anthropic's token count: the prompt the request would send, estimated as usage is."""
        data = await self._read_request(request, receive)
        wanted = _messages_api.to_chat(data, counting=True)
        self._choose(wanted.chat.get("model"))
        plan = read_chat(wanted.chat, self.config.max_choices)
        await send_json(send, 200, {"input_tokens": _prompt_tokens(plan.messages)}, cors)
        return 200

    async def _completions(
        self, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        data = await self._read_request(request, receive)
        provider, model = self._choose(data.get("model"))
        plan = read_completion(data, self.config.max_choices)
        choices = await self._run(provider, model, plan, receive)
        counted = usage(sum(estimate_tokens(prompt) for prompt in plan.prompts), choices)
        head = {
            "id": f"cmpl-{os.urandom(12).hex()}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": data["model"],
        }
        items = [
            {"text": choice.text, "index": index, "logprobs": None, "finish_reason": choice.reason}
            for index, choice in enumerate(choices)
        ]
        if not plan.stream:
            await send_json(send, 200, {**head, "choices": items, "usage": counted}, cors)
            return 200
        events: list[object] = []
        for item in items:
            events.append({**head, "choices": [{**item, "finish_reason": None}]})
            events.append({**head, "choices": [{**item, "text": ""}]})
        if plan.include_usage:
            events.append({**head, "choices": [], "usage": counted})
        await send_events(send, events, cors)
        return 200

    async def _list_models(
        self, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        entries = model_entries(self.config.registry.working())
        if "anthropic-version" in request.headers:  # Anthropic's SDKs page through another shape
            await send_json(send, 200, _messages_api.model_list(entries), cors)
            return 200
        await send_json(send, 200, {"object": "list", "data": entries}, cors)
        return 200

    async def _get_model(
        self, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        wanted = request.path[len(MODEL_PREFIX) :]
        for entry in model_entries(self.config.registry.working()):
            if entry["id"] == wanted:
                if "anthropic-version" in request.headers:
                    entry = _messages_api.model_list([entry])["data"][0]
                await send_json(send, 200, entry, cors)
                return 200
        raise APIError(
            404,
            f"No model {wanted[:100]!r}; GET /v1/models lists them.",
            "invalid_request_error",
            "model_not_found",
            param="model",
        )

    async def _health(self, request: Request, receive: Receive, send: Send, cors: Headers) -> int:
        status = 503 if self.draining else 200
        await send_json(send, status, {"status": "draining" if self.draining else "ok"}, cors)
        return status

    async def _metrics(self, request: Request, receive: Receive, send: Send, cors: Headers) -> int:
        if self.metrics is None:
            raise APIError(
                404,
                "Metrics need prometheus-client: pip install 'aichat-provider[server]'.",
                code="not_found",
            )
        body, kind = self.metrics.render()
        await send_bytes(send, 200, body, [(b"content-type", kind), *cors])
        return 200

    async def _page_file(
        self, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        body, kind = self._page[request.path]
        await send_bytes(send, 200, body, [(b"content-type", kind), *PAGE_HEADERS])
        return 200

    # --- the steps of a call ------------------------------------------------------------------

    async def _complete_chat(
        self, data: Mapping[str, Any], receive: Receive
    ) -> tuple[Plan, list[Choice], dict[str, int]]:
        """A chat completion request run: its plan, its choices and their estimated usage."""
        provider, model = self._choose(data.get("model"))
        plan = read_chat(data, self.config.max_choices)
        await runner().compile(plan.schemas)
        choices = await self._run(provider, model, plan, receive)
        return plan, choices, usage(_prompt_tokens(plan.messages), choices)

    def _check_key(self, request: Request) -> None:
        key = self.config.api_key
        if not key:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode("latin-1"), key.encode()
        ):
            return
        # Anthropic's SDKs and the tools built on them send the key this way.
        given = request.headers.get("x-api-key")
        if given is not None and hmac.compare_digest(given.strip().encode("latin-1"), key.encode()):
            return
        in_url = b"key=" in request.query.lower()
        raise APIError(
            401,
            "Invalid or missing API key; send 'Authorization: Bearer <key>' (or 'x-api-key: <key>')"
            + (" (a key in the URL is not accepted: URLs end up in logs)." if in_url else "."),
            "invalid_request_error",
            "invalid_api_key",
        )

    async def _read_request(self, request: Request, receive: Receive) -> dict[str, Any]:
        if self.draining:
            raise _shutting_down()
        check_json_body(request)
        body = await read_body(
            receive, self.config.max_body_bytes, request.headers.get("content-length")
        )
        try:
            data = loads(body)
        except (ValueError, RecursionError):
            raise invalid("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON object.")
        return data

    def _choose(self, model: object) -> tuple[type[AsyncProvider], str]:
        """The provider for ``model`` (``"gpt-3.5-turbo"`` or ``"aichat/gpt-3.5-turbo"``)."""
        if not isinstance(model, str) or not model:
            raise invalid("'model' must be a non-empty string.", "model")
        chosen = self._providers.get(model)
        if chosen is not None:
            return chosen
        provider_name, slash, model_id = model.partition("/")
        if slash:
            try:
                provider = self.config.registry.get(provider_name)
            except errors.ProviderNotFoundError as exc:
                raise APIError(404, str(exc), code="model_not_found", param="model") from None
        else:
            candidates = self.config.registry.for_model(model)
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

    async def _run(
        self, provider: type[AsyncProvider], model: str, plan: Plan, receive: Receive
    ) -> list[Choice]:
        """Every upstream call the plan needs, at once; cancelled if the client leaves or the
        drain's grace period ends first."""
        kwargs = {**self.config.provider_kwargs, **plan.sampling}
        conversations = (
            [plan.messages]
            if not plan.prompts
            else [[{"role": "user", "content": prompt}] for prompt in plan.prompts]
        )
        calls = [
            asyncio.ensure_future(self._call(provider, model, messages, kwargs))
            for messages in conversations
            for _ in range(plan.n)
        ]
        together = calls[0] if len(calls) == 1 else asyncio.gather(*calls)
        watcher = asyncio.ensure_future(wait_for_disconnect(receive))
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
        raise _shutting_down()

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


def model_entries(providers: Sequence[type[BaseProvider]]) -> list[dict[str, Any]]:
    """Each model once by its own id (first provider wins), and as ``provider/model``."""
    entries: dict[str, dict[str, Any]] = {}
    for provider in providers:
        owner = provider.__name__.lower()
        for model in provider.get_models():
            for model_id in (model, f"{owner}/{model}"):
                entries.setdefault(
                    model_id, {"id": model_id, "object": "model", "created": 0, "owned_by": owner}
                )
    return list(entries.values())


def _prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    try:
        return estimate_tokens(format_prompt(messages))
    except errors.InvalidRequestError:  # a plugin provider took messages the service would not
        return estimate_tokens(json.dumps(messages, ensure_ascii=False, default=str))


def _message(choice: Choice, *, streamed: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.text}
    if choice.reason == "function_call" and choice.tool_calls:
        message["function_call"] = choice.tool_calls[0]["function"]  # the deprecated form
    elif choice.tool_calls is not None:
        calls = choice.tool_calls
        message["tool_calls"] = (
            [{"index": i, **call} for i, call in enumerate(calls)] if streamed else calls
        )
    if not streamed:
        message["refusal"] = None
    return message


def _delta(index: int, delta: Mapping[str, Any], reason: str | None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": reason}


def _allow(methods: Mapping[str, object]) -> bytes:
    return ", ".join([*methods, "OPTIONS"]).encode()


def _shutting_down() -> APIError:
    return APIError(
        503,
        "The server is shutting down; send the request again in a moment.",
        "server_error",
        "server_shutting_down",
        retry_after=1,
        should_retry=True,
    )


@dataclass(frozen=True)
class Route:
    """A path's handlers by method. Every route needs the API key (when the server has one)
    unless it is marked public here: a route added later is closed until someone opens it."""

    methods: Mapping[str, Handler]
    public: bool = False
    #: The body of an error answer, when the route's clients expect another shape than OpenAI's.
    error_body: Callable[[APIError], dict[str, Any]] | None = None


ROUTES: dict[str, Route] = {
    "/v1/chat/completions": Route({"POST": AichatServer._chat_completions}),
    "/v1/completions": Route({"POST": AichatServer._completions}),
    "/v1/responses": Route({"POST": AichatServer._responses}),
    "/v1/messages": Route({"POST": AichatServer._messages}, error_body=_messages_api.error_body),
    "/v1/messages/count_tokens": Route(
        {"POST": AichatServer._count_tokens}, error_body=_messages_api.error_body
    ),
    "/v1/models": Route({"GET": AichatServer._list_models}),
    "/health": Route({"GET": AichatServer._health}, public=True),
    "/metrics": Route({"GET": AichatServer._metrics}),
    # The page asks for the key itself, in the browser; its files hold no secret.
    **{path: Route({"GET": AichatServer._page_file}, public=True) for path in PAGE_FILES},
}
#: Paths under this prefix name a model: ``GET /v1/models/{id}``.
MODEL_PREFIX = "/v1/models/"
MODEL_ROUTE = Route({"GET": AichatServer._get_model})


def find_route(path: str) -> Route | None:
    route = ROUTES.get(path)
    if route is None and path.startswith(MODEL_PREFIX):
        return MODEL_ROUTE
    return route


def route_name(path: str) -> str:
    """The route a path belongs to, as metrics and logs name it (never a client's own text)."""
    if path in ROUTES:
        return path
    return MODEL_PREFIX + "{id}" if path.startswith(MODEL_PREFIX) else "other"


def create_app(config: ServerConfig | None = None) -> AichatServer:
    """The ASGI application. Without ``config``, it is read from the environment."""
    _access_log.install()
    return AichatServer(config or ServerConfig.from_environment())
