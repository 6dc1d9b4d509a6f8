"""The ASGI application in-process (``create_app`` as people mount it in their own server),
with providers of its registry written here: the request shapes, plugin failures, the lifespan
and the drain, and the server's configuration."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx
import pytest

from aichat_provider import Aichat, AsyncProvider, BaseProvider
from aichat_provider._constants import MAX_TIMEOUT
from aichat_provider.registry import ProviderRegistry
from aichat_provider.server import AichatServer, ServerConfig, ServerConfigError, create_app
from aichat_provider.server._access_log import QueryRedactingFilter, redact_query
from aichat_provider.server._settings import is_loopback, normalise_host, normalise_origin
from aichat_provider.testing import StandInService

USER = [{"role": "user", "content": "Hi"}]


class Echo(AsyncProvider):
    """Answers with the last message, or a scripted answer."""

    working = True
    supports_message_history = True
    default_model = "echo-1"
    models: ClassVar[list[str]] = ["echo-1"]
    answers: ClassVar[list[object]] = []
    seen: ClassVar[list[Sequence[Mapping[str, Any]]]] = []

    @classmethod
    async def create_async(  # type: ignore[override]
        cls, model: str, messages: Sequence[Mapping[str, Any]], proxy: str | None = None, **_: Any
    ) -> Any:
        cls.seen.append(messages)
        if cls.answers:
            answer = cls.answers.pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return f"echo: {messages[-1]['content']}"


class SyncOnly(BaseProvider):
    working = True
    models: ClassVar[list[str]] = ["sync-1"]

    @classmethod
    def create_completion(cls, model: str, messages: object, stream: bool = False, **_: Any) -> Any:  # type: ignore[override]
        yield "never"


@pytest.fixture
def app() -> AichatServer:
    registry = ProviderRegistry(group=None)
    registry.register(Echo)
    registry.register(SyncOnly)
    Echo.answers.clear()
    Echo.seen.clear()
    return create_app(ServerConfig(registry=registry, max_choices=4))


@pytest.fixture
async def client(app: AichatServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as opened:
        yield opened


async def chat(client: httpx.AsyncClient, **fields: object) -> httpx.Response:
    return await client.post(
        "/v1/chat/completions", json={"model": "echo-1", "messages": USER, **fields}
    )


async def test_a_plugin_provider_answers(client: httpx.AsyncClient) -> None:
    reply = await chat(client)
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == "echo: Hi"
    again = await chat(client, model="echo/echo-1")  # by provider, then from the cache
    assert again.json()["model"] == "echo/echo-1"
    assert (await chat(client, model="echo/echo-1")).status_code == 200


async def test_a_plugin_failure_is_502_and_a_bad_answer_500(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    Echo.answers.append(RuntimeError("the plugin's own secret detail"))
    reply = await chat(client)
    assert reply.status_code == 502
    assert reply.json()["error"]["message"] == "The provider Echo failed (RuntimeError)."
    assert "secret detail" not in caplog.text
    Echo.answers.append(None)  # not a string: a bug in the plugin
    with caplog.at_level(logging.ERROR):
        reply = await chat(client)
    assert reply.status_code == 500
    assert reply.json()["error"]["code"] == "internal_error"
    assert "the server failed to answer POST /v1/chat/completions" in caplog.text


async def test_a_provider_without_async_calls_cannot_serve(client: httpx.AsyncClient) -> None:
    reply = await chat(client, model="sync-1")
    assert reply.status_code == 400
    assert "cannot serve requests here" in reply.json()["error"]["message"]


async def test_usage_of_a_prompt_the_service_would_not_take(client: httpx.AsyncClient) -> None:
    """A plugin may take an image part; the token estimate still comes out."""
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    Echo.answers.append("a picture")
    reply = await chat(client, messages=messages)
    assert reply.status_code == 200
    assert reply.json()["usage"]["prompt_tokens"] > 0


async def test_n_choices_fail_together(client: httpx.AsyncClient) -> None:
    Echo.answers.extend(["fine", RuntimeError("x")])
    reply = await chat(client, n=2)
    assert reply.status_code == 502


async def test_missing_cookies_are_401_with_what_to_do(service: StandInService) -> None:
    """No cookies anywhere is for the user to fix (log in), not a fault of the service: 401
    with the provider's advice, never a 502 the SDKs would retry."""
    registry = ProviderRegistry(group=None)
    registry.register(Aichat)
    config = ServerConfig(
        registry=registry, provider_kwargs={"base_url": service.base_url, "browser": []}
    )
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        reply = await chat(client, model="gpt-3.5-turbo")
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert (error["type"], error["code"]) == ("authentication_error", "upstream_cookies")
    assert "aichat login" in error["message"]
    # in the words of the server's operator, and for the service's host
    assert "--cookies-file FILE (or AICHAT_COOKIES_FILE)" in error["message"]
    assert "no cookies for 127.0.0.1" in error["message"]
    assert "cookies=" not in error["message"]  # not the library's keyword arguments
    assert reply.headers["x-should-retry"] == "false"
    assert service.requests == []


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"messages": [{"role": "tool", "content": 5}]}, "messages"),
        ({"messages": [{"role": "tool", "content": [{"type": "image_url"}]}]}, "messages"),
        ({"messages": [{"role": "assistant", "content": None, "tool_calls": "x"}]}, "messages"),
        ({"messages": [{"role": "assistant", "tool_calls": [{"function": {}}]}]}, "messages"),
        ({"tools": "x", "tool_choice": "auto"}, "tools"),
        ({"functions": "x"}, "functions"),
        (
            {"tools": [{"function": {"name": "f", "parameters": 3}}], "tool_choice": "required"},
            "tools",
        ),
        (
            {
                "tools": [{"function": {"name": "f", "parameters": {"type": "nope"}}}],
                "tool_choice": "required",
            },
            "tools",
        ),
        (
            {
                "tools": [{"function": {"name": "f"}}],
                "tool_choice": "required",
                "response_format": {"type": "json_object"},
            },
            "response_format",
        ),
        ({"stream": True, "stream_options": "yes"}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": "yes"}}, "stream_options"),
        ({"response_format": {"type": "json_schema", "json_schema": {}}}, "response_format"),
        ({"response_format": "json"}, "response_format"),
        ({"n": 5}, "n"),
        ({"stop": ""}, "stop"),
        ({"max_completion_tokens": -1}, "max_completion_tokens"),
        ({"model": ""}, "model"),
    ],
)
async def test_request_shapes_refused_with_the_field(
    client: httpx.AsyncClient, fields: dict[str, object], param: str
) -> None:
    reply = await chat(client, **fields)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == param
    assert Echo.seen == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "\\ud800", "messages": []}',
        b'{"model": "echo-1", "messages": [], "\\ud800": 1}',
        b'{"model": "echo-1", "messages": [{"role": "\\udc00", "content": "x"}]}',
        b'{"model": "echo-1", "messages": [{"role": "user", "content": "x"}], "stop": "\\ud800"}',
        b'{"model": "echo-1", "messages": [{"role": "user", "content": "x"}], "n": 1e999}',
        b'{"model": "echo-1", "messages": [{"role": "user", "content": "x"}], "n": 1'
        + b"0" * 40
        + b"}",
        b'{"model": "echo-1", "messages": [{"role": "user", "content": "\\u0000\\u001b[2J"}]}',
        b'{"model": "echo-1", "tool_choice": '
        b'{"type": "function", "function": {"name": "\\ud800"}}}',
        b"[" * 100_000,
    ],
)
async def test_hostile_bodies_get_json_answers(client: httpx.AsyncClient, body: bytes) -> None:
    reply = await client.post(
        "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code in (200, 400, 404, 413), reply.text
    assert reply.headers["content-type"] == "application/json"
    assert set(reply.json()).issubset(
        {"error", "id", "object", "created", "model", "choices", "usage"}
    )


async def test_history_shapes_written_into_the_prompt(client: httpx.AsyncClient) -> None:
    messages = [
        {"role": "user", "content": "Go"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Let me look."}],
            "function_call": {"name": "lookup", "arguments": {"q": "x"}},
        },
        {"role": "function", "name": "lookup", "content": [{"type": "text", "text": "found"}]},
    ]
    reply = await chat(client, messages=messages)
    assert reply.status_code == 200
    [sent] = Echo.seen
    assert sent[1] == {
        "role": "assistant",
        "content": 'Let me look.\nCalled tool lookup with {"q": "x"}.',
    }
    assert sent[2] == {"role": "user", "content": "Result of function lookup: found"}


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"prompt": 5}, 400),
        ({"prompt": []}, 400),
        ({"prompt": ["a", "b", "c"], "n": 2}, 400),
        ({"prompt": "x", "suffix": "y"}, 400),
        ({"prompt": "x", "best_of": 2}, 400),
        ({"prompt": "x", "max_tokens": 1}, 200),
    ],
)
async def test_legacy_completion_shapes(
    client: httpx.AsyncClient, fields: dict[str, object], status: int
) -> None:
    reply = await client.post("/v1/completions", json={"model": "echo-1", **fields})
    assert reply.status_code == status, reply.text
    if status == 200:
        assert reply.json()["choices"][0] == {
            "text": "echo",
            "index": 0,
            "logprobs": None,
            "finish_reason": "length",
        }


async def test_streamed_completion_with_usage(client: httpx.AsyncClient) -> None:
    reply = await client.post(
        "/v1/completions",
        json={
            "model": "echo-1",
            "prompt": "Hello",
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    events = [line[6:] for line in reply.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["usage"]["completion_tokens"] == 3


async def test_duplicate_headers_that_matter_are_refused(app: AichatServer) -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/models",
        "query_string": b"",
        "scheme": "http",
        "headers": [(b"host", b"127.0.0.1"), (b"host", b"evil.example")],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 400


async def test_a_client_gone_while_sending_its_body(app: AichatServer) -> None:
    sent: list[dict[str, Any]] = []
    messages = iter(
        [
            {"type": "http.request", "body": b'{"model"', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "query_string": b"",
        "scheme": "http",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
    }
    await app(scope, receive, send)
    assert sent == []  # nobody is left to answer
    assert Echo.seen == []


async def test_lifespan_drains_on_sigterm_and_gives_the_handler_back(app: AichatServer) -> None:
    """Started under a server that stops on SIGTERM, the app begins draining first."""
    called: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda number, frame: called.append(number))
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        lifespan = asyncio.ensure_future(app({"type": "lifespan"}, queue.get, send))
        await queue.put({"type": "lifespan.startup"})
        while not sent:
            await asyncio.sleep(0)
        signal.raise_signal(signal.SIGTERM)
        await asyncio.sleep(0)  # the drain is scheduled on the loop
        assert called == [signal.SIGTERM]  # the server's own handler still ran
        assert app.draining
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            assert (await client.get("/health")).status_code == 503
            reply = await chat(client)
            assert reply.status_code == 503
            assert reply.json()["error"]["code"] == "server_shutting_down"
        app.begin_drain()  # a second signal changes nothing
        await queue.put({"type": "lifespan.shutdown"})
        await lifespan
        assert [m["type"] for m in sent] == [
            "lifespan.startup.complete",
            "lifespan.shutdown.complete",
        ]
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        handler(signal.SIGTERM, None)
        assert called == [signal.SIGTERM, signal.SIGTERM]  # the previous handler is back
    finally:
        signal.signal(signal.SIGTERM, before)


@pytest.mark.slow
def test_metrics_need_prometheus_client() -> None:
    """Without the package, /metrics says which extra to install."""
    code = (
        "import sys, asyncio, httpx; sys.modules['prometheus_client'] = None\n"
        "from aichat_provider.server import create_app\n"
        "async def main():\n"
        "    t = httpx.ASGITransport(app=create_app())\n"
        "    async with httpx.AsyncClient(transport=t, base_url='http://localhost') as c:\n"
        "        r = await c.get('/metrics')\n"
        "        print(r.status_code, r.json()['error']['message'])\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.startswith("404 Metrics need prometheus-client")


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"api_key": "a\nb"},
        {"api_key": ""},
        {"max_choices": 0},
        {"max_choices": 129},
        {"graceful_timeout": -1.0},
        {"graceful_timeout": MAX_TIMEOUT + 1},
        {"max_body_bytes": 10},
        {"max_body_bytes": 1023},
        {"cors_origins": ("",)},
        {"cors_origins": ("http://",)},
        {"cors_origins": ("https://x.example/app",)},
        {"cors_origins": ("https://x.example?q=1",)},
        {"cors_origins": ("https://user@x.example",)},
        {"cors_origins": ("ftp://x.example",)},
        {"allowed_hosts": ("",)},
    ],
)
def test_bad_server_configurations(options: dict[str, Any]) -> None:
    with pytest.raises(ServerConfigError):
        ServerConfig(**options)


@pytest.mark.parametrize(
    "options",
    [
        {"max_choices": 1},
        {"max_choices": 128},
        {"graceful_timeout": 0.0},
        {"graceful_timeout": MAX_TIMEOUT},
        {"max_body_bytes": 1024},
    ],
)
def test_server_configurations_at_their_limits(options: dict[str, Any]) -> None:
    config = ServerConfig(**options)
    assert all(getattr(config, name) == value for name, value in options.items())


def test_configuration_forms() -> None:
    assert normalise_origin("HTTPS://App.Example:8443/") == "https://app.example:8443"
    assert normalise_origin("*") == "*"
    assert normalise_host("[::1]") == "::1"
    assert normalise_host(" Example.COM ") == "example.com"
    assert normalise_host("*") == "*"
    hosts = ("localhost", "LOCALHOST", "127.0.0.2", "[::1]", "0.0.0.0", "a.b", "myhost.example")  # noqa: S104
    assert [is_loopback(h) for h in hosts] == [True, True, True, True, False, False, False]
    assert "api_key=None" in repr(ServerConfig())
    config = ServerConfig(
        api_key="sk-secret-1",
        provider_kwargs={"proxy": "http://u:pr0xy-pw@h:1", "browser": ["firefox"]},
        cors_origins=("http://a.example",),
    )
    assert "sk-secret-1" not in repr(config)
    assert "api_key=set" in repr(config)
    assert "pr0xy-pw" not in repr(config)
    again = ServerConfig.from_json(config.to_json())
    assert again.provider_kwargs == config.provider_kwargs
    assert again.cors_origins == config.cors_origins
    assert again.api_key == "sk-secret-1"
    with pytest.raises(ServerConfigError, match="worker processes"):
        ServerConfig(provider_kwargs={"verify": object()}).to_json()


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICHAT_API_KEY", "sk-env")
    monkeypatch.setenv("AICHAT_CORS_ORIGINS", "http://a.example, http://b.example:3000,")
    monkeypatch.setenv("AICHAT_ALLOWED_HOSTS", "box.lan")
    config = ServerConfig.from_environment()
    assert config.api_key == "sk-env"
    assert config.cors_origins == ("http://a.example", "http://b.example:3000")
    assert config.allowed_hosts == ("box.lan",)
    handed = ServerConfig(api_key="sk-worker", max_choices=2).to_json()
    monkeypatch.setenv("_AICHAT_SERVE_CONFIG", handed)
    assert ServerConfig.from_environment().api_key == "sk-worker"  # a worker's own


def test_the_access_log_never_shows_query_values() -> None:
    assert redact_query("/v1/models") == "/v1/models"
    assert redact_query("/x?api_key=sk-1&&flag") == "/x?api_key=[redacted]&flag=[redacted]"
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s"', ("c", "GET", "/x?key=sk-2"), None
    )
    assert QueryRedactingFilter().filter(record)
    assert "sk-2" not in record.getMessage()
    plain = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, "no args", None, None)
    assert QueryRedactingFilter().filter(plain)
    assert plain.getMessage() == "no args"
