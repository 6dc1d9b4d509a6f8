"""An OpenAI-compatible HTTP API in front of the registry's providers (``aichat serve``).

``POST /v1/chat/completions`` and ``GET /v1/models``, in OpenAI's request, response, streaming and
error formats, so any OpenAI client can use Aichat. Cookies come from the server's own
configuration (cookies file, browsers), never from the request. Needs the ``server`` extra
(Starlette and Uvicorn)::

    aichat serve --port 8000
    uvicorn --factory aichat_provider.server:create_app     # configured from AICHAT_* variables

``usage`` token counts are estimates (characters / 4, rounded up): the service reports none.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import os
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import _config, errors
from .._base import AsyncProvider, BaseProvider
from .._messages import format_prompt
from ..registry import ProviderRegistry, registry

logger = logging.getLogger("aichat_provider.server")

ENV_API_KEY = _config.ENV_API_KEY
DEFAULT_MAX_BODY_BYTES = _config.SERVER_MAX_BODY_BYTES
#: Request fields passed on to the provider; others (n=1, max_tokens, user, ...) are accepted
#: and not used.
SAMPLING_FIELDS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")


@dataclass
class ServerConfig:
    """How the server calls its providers. ``provider_kwargs`` holds the ``create_async`` keyword
    arguments every call gets (``cookies_file``, ``browser``, ``proxy``, ``base_url``, ...)."""

    api_key: str | None = None
    provider_kwargs: dict[str, Any] = field(default_factory=dict)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    registry: ProviderRegistry = registry

    def __repr__(self) -> str:  # no key, no proxy password
        return f"ServerConfig(api_key={'set' if self.api_key else None}, ...)"

    @classmethod
    def from_environment(cls) -> ServerConfig:
        return cls(api_key=os.environ.get(ENV_API_KEY) or None)


class APIError(Exception):
    """An error answered in OpenAI's format."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(self.retry_after))
        body = {
            "error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}
        }
        return JSONResponse(body, status_code=self.status, headers=headers)


def error_for(exc: errors.ProviderError) -> APIError:
    """The HTTP status and OpenAI error type for a provider's exception."""
    if isinstance(exc, errors.InvalidRequestError):
        code = "model_not_found" if isinstance(exc, errors.ModelNotSupportedError) else None
        return APIError(400, str(exc), "invalid_request_error", code)
    if isinstance(exc, (errors.MissingCookiesError, errors.AuthenticationError)):
        return APIError(401, str(exc), "authentication_error", "upstream_cookies")
    if isinstance(exc, errors.RateLimitError):
        return APIError(429, str(exc), "rate_limit_error", "rate_limited", exc.retry_after)
    if isinstance(exc, errors.CloudflareError):
        return APIError(503, str(exc), "upstream_challenge", "cloudflare", exc.retry_after)
    if isinstance(exc, errors.ProviderTimeoutError):
        return APIError(504, str(exc), "timeout", "upstream_timeout")
    if isinstance(exc, errors.AllProvidersFailedError):
        return APIError(502, str(exc), "upstream_error", "all_providers_failed")
    return APIError(502, str(exc), "upstream_error", "upstream_failed")


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def create_app(config: ServerConfig | None = None) -> Starlette:
    """The ASGI application. Without ``config``, it is read from the environment."""
    config = config or ServerConfig.from_environment()
    config.registry.names()  # read the entry points now, not inside the first request

    def check_key(request: Request) -> None:
        if not config.api_key:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), config.api_key.encode()
        ):
            raise APIError(
                401,
                "Invalid or missing API key; send 'Authorization: Bearer <key>'.",
                "invalid_request_error",
                "invalid_api_key",
            )

    async def read_json(request: Request) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > config.max_body_bytes:
            raise APIError(
                413,
                f"Request body over {config.max_body_bytes} bytes.",
                "invalid_request_error",
                "request_too_large",
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.max_body_bytes:
                raise APIError(
                    413,
                    f"Request body over {config.max_body_bytes} bytes.",
                    "invalid_request_error",
                    "request_too_large",
                )
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise APIError(
                400, "The request body is not valid JSON.", "invalid_request_error"
            ) from None
        if not isinstance(data, dict):
            raise APIError(400, "The request body must be a JSON object.", "invalid_request_error")
        return data

    def choose(model: object) -> tuple[type[AsyncProvider], str]:
        if not isinstance(model, str) or not model:
            raise APIError(400, "'model' must be a non-empty string.", "invalid_request_error")
        provider_name, slash, model_id = model.partition("/")
        if slash:
            try:
                provider = config.registry.get(provider_name)
            except errors.ProviderNotFoundError as exc:
                raise APIError(404, str(exc), "invalid_request_error", "model_not_found") from None
        else:
            candidates = config.registry.for_model(model)
            if not candidates:
                raise APIError(
                    404,
                    f"No provider serves model {model!r}; GET /v1/models lists them.",
                    "invalid_request_error",
                    "model_not_found",
                )
            provider, model_id = candidates[0], model
        if not issubclass(provider, AsyncProvider):
            raise APIError(
                400, f"{provider.__name__} cannot serve requests here.", "invalid_request_error"
            )
        return provider, model_id

    async def chat_completions(request: Request) -> Response:
        try:
            check_key(request)
            data = await read_json(request)
            provider, model = choose(data.get("model"))
            messages = data.get("messages")
            stream = data.get("stream", False)
            if not isinstance(stream, bool):
                raise APIError(400, "'stream' must be true or false.", "invalid_request_error")
            sampling = {k: data[k] for k in SAMPLING_FIELDS if data.get(k) is not None}
            kwargs = {**config.provider_kwargs, **sampling}
            try:
                answer = await provider.create_async(model, messages, **kwargs)  # type: ignore[arg-type]
                prompt_tokens = estimate_tokens(format_prompt(messages))  # type: ignore[arg-type]
            except errors.ProviderError as exc:
                raise error_for(exc) from None
        except APIError as exc:
            return exc.response()
        public_model = data["model"]
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if stream:
            return StreamingResponse(
                sse_chunks(completion_id, created, public_model, answer),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache"},
            )
        completion_tokens = estimate_tokens(answer)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": public_model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def list_models(request: Request) -> Response:
        try:
            check_key(request)
        except APIError as exc:
            return exc.response()
        return JSONResponse({"object": "list", "data": model_entries(config.registry.working())})

    routes = [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def model_entries(providers: Sequence[type[BaseProvider]]) -> list[Mapping[str, Any]]:
    """Each model once by its own id (first provider wins), and as ``provider/model``."""
    entries: dict[str, Mapping[str, Any]] = {}
    for provider in providers:
        owner = provider.__name__.lower()
        for model in provider.get_models():
            for model_id in (model, f"{owner}/{model}"):
                entries.setdefault(
                    model_id, {"id": model_id, "object": "model", "created": 0, "owned_by": owner}
                )
    return list(entries.values())


async def sse_chunks(
    completion_id: str, created: int, model: str, answer: str
) -> AsyncIterator[bytes]:
    """The answer as OpenAI's streamed chunks: role and content, then the finish, then DONE."""
    base = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
    }
    first = {
        **base,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": answer},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    }
    last = {
        **base,
        "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
    }
    for chunk in (first, last):
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
    yield b"data: [DONE]\n\n"
