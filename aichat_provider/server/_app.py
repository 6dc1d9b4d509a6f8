"""The application (Starlette): its routes, whose handlers return values, and its lifespan (the
drain on SIGTERM). Admission, errors, CORS and metrics are the gateway's (``_gateway``)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .._base import BaseProvider
from . import (
    _access_log,
    _messages_api,
    _messages_render,
    _openapi,
    _render,
    _responses_api,
    _responses_render,
)
from ._errors import APIError
from ._gateway import Gateway, RouteInfo
from ._guard import Guard
from ._http import JSON_HEADERS, dumps, wait_for_disconnect
from ._metrics import create_metrics
from ._page import static_files
from ._pipeline import Pipeline
from ._requests import parse_body, read_chat
from ._responses_store import ResponseStore
from ._settings import ServerConfig

EVENT_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]


@dataclass
class Reply:
    """A handler's answer with a status other than 200."""

    status: int
    data: object


@dataclass
class Events:
    """A handler's answer as server-sent events: ``data:`` lines then ``[DONE]`` (OpenAI's
    chat and completions), or ``(name, data)`` pairs when ``named`` (Responses, Messages)."""

    events: Sequence[Any]
    named: bool = False


Handler = Callable[[Request], Awaitable[object]]
ErrorBody = Callable[[APIError], dict[str, Any]]


class AichatServer(Starlette):
    """The OpenAI-compatible API (see the package docstring). Build it with ``create_app``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.api_key = config.api_key
        self.max_body_bytes = config.max_body_bytes
        self.guard = Guard.create(config.cors_origins, config.allowed_hosts)
        self.metrics = create_metrics()
        self.draining = False
        self._drain_expired: asyncio.Future[None] | None = None
        self.pipeline = Pipeline(config, self.metrics, self._expiry)
        self.response_store = ResponseStore(max_conversation_bytes=config.max_body_bytes)
        #: Each route's template (``/v1/models/{id}``) and what admission knows of it.
        self.table: dict[str, RouteInfo] = {}
        self._prefixes: list[tuple[str, RouteInfo]] = []
        self.files = static_files()
        super().__init__(lifespan=_lifespan)
        self.add("/v1/chat/completions", ("POST",), self.chat_completions)
        self.add("/v1/completions", ("POST",), self.completions)
        self.add("/v1/responses", ("POST",), self.responses)
        anthropic = _messages_render.error_body
        self.add("/v1/messages", ("POST",), self.messages, error_body=anthropic)
        self.add("/v1/messages/count_tokens", ("POST",), self.count_tokens, error_body=anthropic)
        self.add("/v1/models", ("GET",), self.list_models)
        self.add("/v1/models/{id:path}", ("GET",), self.get_model)
        self.add("/health", ("GET",), self.health, public=True)
        self.add("/metrics", ("GET",), self.render_metrics)
        self.add("/openapi.json", ("GET",), self.openapi)
        # The page asks for the key itself, in the browser; its files hold no secret.
        self.add("/", ("GET",), self.page_file, public=True)
        self.add("/static/{name:path}", ("GET",), self.page_file, public=True)
        if "/favicon.ico" in self.files:
            self.add("/favicon.ico", ("GET",), self.page_file, public=True)
        config.registry.names()  # read the entry points now, not inside the first request

    def __repr__(self) -> str:
        return f"AichatServer({self.config!r})"

    def add(
        self,
        path: str,
        methods: Sequence[str],
        handler: Handler,
        *,
        public: bool = False,
        error_body: ErrorBody | None = None,
    ) -> None:
        """Route ``path`` to ``handler``, which returns a JSON value, a Reply, Events or a
        Response. The route needs the API key unless it is ``public``; its errors are in
        OpenAI's shape unless ``error_body`` gives another."""
        name = re.sub(r":\w+}", "}", path)
        # HEAD wherever GET is (Starlette's route takes it; Uvicorn leaves the body out).
        allowed = (*methods, "HEAD") if "GET" in methods else tuple(methods)
        info = RouteInfo(name, allowed, public, error_body)
        self.table[name] = info
        if "{" in path:
            self._prefixes.append((path.partition("{")[0], info))
        self.router.routes.append(Route(path, _Endpoint(handler), methods=list(methods)))

    def lookup(self, path: str) -> RouteInfo | None:
        info = self.table.get(path)
        if info is None and "{" not in path:
            for prefix, candidate in self._prefixes:
                if path.startswith(prefix) and len(path) > len(prefix):
                    return candidate
        return info

    def build_middleware_stack(self) -> ASGIApp:
        # The gateway answers every error itself: Starlette's error middlewares have none left.
        return Gateway(self.router, self)

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

    def _expiry(self) -> asyncio.Future[None]:
        if self._drain_expired is None:
            self._drain_expired = asyncio.get_running_loop().create_future()
        return self._drain_expired

    # --- routes -------------------------------------------------------------------------------

    async def chat_completions(self, request: Request) -> object:
        data = parse_body(await request.body())
        outcome = await self.pipeline.chat(data, _disconnected(request))
        if outcome.plan.stream:
            return Events(_render.chat_chunks(outcome))
        return _render.chat_completion(outcome)

    async def completions(self, request: Request) -> object:
        data = parse_body(await request.body())
        outcome = await self.pipeline.completion(data, _disconnected(request))
        if outcome.plan.stream:
            return Events(_render.completion_chunks(outcome))
        return _render.completion(outcome)

    async def responses(self, request: Request) -> object:
        """OpenAI's Responses API: translated to a chat completion, run, and rendered back."""
        wanted = _responses_api.to_chat(parse_body(await request.body()), self.response_store)
        outcome = await self.pipeline.chat(wanted.chat, _disconnected(request))
        response = _responses_render.render(wanted, outcome.choices[0], outcome.usage)
        _responses_render.remember(wanted, response, self.response_store)
        if wanted.stream:
            return Events(_responses_render.events(response), named=True)
        return response

    async def messages(self, request: Request) -> object:
        """Anthropic's Messages API: translated to a chat completion, run, and rendered back."""
        wanted = _messages_api.to_chat(parse_body(await request.body()))
        outcome = await self.pipeline.chat(wanted.chat, _disconnected(request))
        prompt_tokens = outcome.usage["prompt_tokens"]
        message = _messages_render.render(wanted, outcome.choices[0], prompt_tokens)
        if wanted.stream:
            return Events(_messages_render.events(message), named=True)
        return message

    async def count_tokens(self, request: Request) -> object:
        """Anthropic's token count: the prompt the request would send, estimated as usage is."""
        wanted = _messages_api.to_chat(parse_body(await request.body()), counting=True)
        self.pipeline.choose(wanted.chat.get("model"))
        plan = read_chat(wanted.chat, self.config.max_choices)
        return {"input_tokens": plan.prompt_tokens()}

    async def list_models(self, request: Request) -> object:
        entries = model_entries(self.config.registry.working())
        if "anthropic-version" in request.headers:  # Anthropic's SDKs page through another shape
            return _messages_render.model_list(entries, request.query_params)
        return {"object": "list", "data": entries}

    async def get_model(self, request: Request) -> object:
        wanted = request.path_params["id"]
        for entry in model_entries(self.config.registry.working()):
            if entry["id"] == wanted:
                if "anthropic-version" in request.headers:
                    return _messages_render.model_list([entry])["data"][0]
                return entry
        raise APIError(
            404,
            f"No model {wanted[:100]!r}; GET /v1/models lists them.",
            "invalid_request_error",
            "model_not_found",
            param="model",
        )

    async def health(self, request: Request) -> object:
        return Reply(503, {"status": "draining"}) if self.draining else {"status": "ok"}

    async def render_metrics(self, request: Request) -> object:
        if self.metrics is None:
            raise APIError(
                404,
                "Metrics need prometheus-client, in the server's environment: pip install "
                "prometheus-client.",
                code="not_found",
            )
        body, kind = self.metrics.render()
        return Response(body, headers={"content-type": kind.decode()})

    async def openapi(self, request: Request) -> object:
        return _openapi.describe(self.table)

    async def page_file(self, request: Request) -> object:
        found = self.files.get(request.scope["path"])
        if found is None:
            raise APIError(404, f"No file {request.scope['path'][:100]!r} here.", code="not_found")
        return found.response(request.headers.get("accept-encoding", ""))


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


class _Endpoint:
    """A handler as the route's ASGI app: its value becomes the response, status and body in
    one place (without a Response object for JSON, the common case)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value = await self.handler(Request(scope, receive, send))
        if isinstance(value, Response):
            await value(scope, receive, send)
            return
        status, kind = 200, JSON_HEADERS
        if isinstance(value, Events):
            stream = _render.named_event_stream if value.named else _render.event_stream
            body, kind = stream(value.events), EVENT_HEADERS
        elif isinstance(value, Reply):
            status, body = value.status, dumps(value.data)
        else:
            body = dumps(value)
        headers = [*kind, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _disconnected(request: Request) -> Callable[[], Awaitable[None]]:
    return lambda: wait_for_disconnect(request.receive)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """On startup, drain on SIGTERM/SIGINT before the server's own handler stops taking
    connections; on shutdown, put the previous handlers back."""
    assert isinstance(app, AichatServer)
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous = _chain_signals(app, asyncio.get_running_loop())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _chain_signals(app: AichatServer, loop: asyncio.AbstractEventLoop) -> dict[signal.Signals, Any]:
    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        before = signal.getsignal(sig)
        if not callable(before):
            continue  # nobody stops the server on it: nothing to drain for

        def handler(number: int, frame: FrameType | None, before: Any = before) -> None:
            loop.call_soon_threadsafe(app.begin_drain)
            before(number, frame)

        previous[sig] = before
        signal.signal(sig, handler)
    return previous


def create_app(config: ServerConfig | None = None) -> AichatServer:
    """The ASGI application. Without ``config``, it is read from the environment."""
    _access_log.install()
    return AichatServer(config or ServerConfig.from_environment())
