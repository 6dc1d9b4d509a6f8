"""``aichat serve``: the real server (uvicorn, a subprocess) in front of the stand-in service,
driven by the real ``openai`` SDK and by raw HTTP."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider.testing import Reply, StandInService
from support.docs import readme_text
from support.secrets import SECRET_COOKIE, subprocess_env
from support.server import API_KEY, Server, cookies_file, free_port, start_server

openai = pytest.importorskip("openai", reason="the openai SDK is in the test extra")

PROMPT_SECRET = "prompt-text-that-must-not-be-logged"


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    home = root / "home"
    home.mkdir()
    cookies = cookies_file(root)
    running = start_server(
        home,
        "--base-url",
        upstream.base_url,
        "--cookies-file",
        str(cookies),
        "--api-key",
        API_KEY,
        "--timeout",
        "1",
        "--max-retries",
        "0",
        "--max-body-bytes",
        "4096",
        log=root / "server.log",
    )
    yield running
    running.stop()
    logged = running.log_text()
    assert "POST /v1/chat/completions" in logged  # the access log is on...
    for secret in (PROMPT_SECRET, SECRET_COOKIE, API_KEY, "echo: "):  # ...without contents
        assert secret not in logged


def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)


USER = [{"role": "user", "content": PROMPT_SECRET}]


def test_chat_completion_with_the_openai_sdk(server: Server, upstream: StandInService) -> None:
    completion = client(server).chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, temperature=0.3, top_p=0.8, user="someone"
    )
    assert completion.choices[0].message.content == f"echo: {PROMPT_SECRET}"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-3.5-turbo"
    assert completion.id.startswith("chatcmpl-")
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    [request] = upstream.requests
    assert request.cookies == {"session": SECRET_COOKIE}  # from the server's configuration
    assert request.json["temperature"] == 0.3
    assert request.json["top_p"] == 0.8


def test_conversation_and_provider_prefixed_model(server: Server, upstream: StandInService) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"},
    ]
    completion = client(server).chat.completions.create(
        model="aichat/gpt-3.5-turbo", messages=messages
    )
    assert completion.model == "aichat/gpt-3.5-turbo"
    assert upstream.requests[0].prompt == (
        "System: Be brief.\nUser: Hi\nAssistant: Hello\nUser: Bye\nAssistant:"
    )


def test_streaming_with_the_openai_sdk(server: Server) -> None:
    chunks = list(
        client(server).chat.completions.create(model="gpt-3.5-turbo", messages=USER, stream=True)
    )
    contents = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert contents == [f"echo: {PROMPT_SECRET}"]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" for c in chunks)


async def test_async_client_stream_and_not(server: Server) -> None:
    async_client = openai.AsyncOpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
    completion = await async_client.chat.completions.create(model="gpt-3.5-turbo", messages=USER)
    assert completion.choices[0].message.content == f"echo: {PROMPT_SECRET}"
    stream = await async_client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, stream=True
    )
    contents = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    assert contents == [f"echo: {PROMPT_SECRET}"]
    await async_client.close()


def test_models_list(server: Server) -> None:
    ids = [model.id for model in client(server).models.list()]
    assert ids == ["gpt-3.5-turbo", "aichat/gpt-3.5-turbo"]


def test_raw_stream_ends_with_done(server: Server) -> None:
    status, headers, body = server.raw(
        "POST",
        "/v1/chat/completions",
        json.dumps({"model": "gpt-3.5-turbo", "messages": USER, "stream": True}).encode(),
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = [line for line in body.decode().split("\n") if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert len(events) == 3


@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (json.dumps({"model": "gpt-3.5-turbo", "messages": []}).encode(), 400, "empty"),
        (json.dumps({"model": "gpt-3.5-turbo", "messages": "hi"}).encode(), 400, "list"),
        (
            json.dumps({"model": "gpt-3.5-turbo", "messages": USER, "temperature": 9}).encode(),
            400,
            "temperature",
        ),
        (
            json.dumps({"model": "gpt-3.5-turbo", "messages": USER, "stream": "yes"}).encode(),
            400,
            "stream",
        ),
        (json.dumps({"messages": USER}).encode(), 400, "model"),
        (json.dumps({"model": "aichat/gpt-4", "messages": USER}).encode(), 404, "not supported"),
        (
            json.dumps({"model": "nobody/gpt-3.5-turbo", "messages": USER}).encode(),
            404,
            "No provider named",
        ),
        (json.dumps({"model": "gpt-4", "messages": USER}).encode(), 404, "No provider serves"),
    ],
    ids=[
        "malformed",
        "not-object",
        "no-messages",
        "messages-string",
        "bad-temperature",
        "bad-stream",
        "no-model",
        "unsupported-model",
        "unknown-provider",
        "unknown-model",
    ],
)
def test_bad_requests(
    body: bytes, status: int, phrase: str, server: Server, upstream: StandInService
) -> None:
    got, _, raw = server.raw("POST", "/v1/chat/completions", body)
    assert got == status
    error = json.loads(raw)["error"]
    assert phrase in error["message"]
    assert error["type"] == "invalid_request_error"
    assert upstream.requests == []


def test_oversize_bodies_are_refused(server: Server, upstream: StandInService) -> None:
    big = json.dumps(
        {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "x" * 10_000}]}
    ).encode()
    status, _, raw = server.raw("POST", "/v1/chat/completions", big)
    assert status == 413
    assert json.loads(raw)["error"]["code"] == "request_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(
        "POST",
        "/v1/chat/completions",
        body=chunks(),
        encode_chunked=True,
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
    )
    assert connection.getresponse().status == 413
    connection.close()
    assert upstream.requests == []


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {API_KEY}", "Bearer"])
def test_api_key_is_required(
    authorization: str | None, server: Server, upstream: StandInService
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    connection.request(
        "POST",
        "/v1/chat/completions",
        headers=headers,
        body=json.dumps({"model": "gpt-3.5-turbo", "messages": USER}),
    )
    response = connection.getresponse()
    assert response.status == 401
    assert json.loads(response.read())["error"]["code"] == "invalid_api_key"
    connection.close()
    assert upstream.requests == []
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0).models.list()


@pytest.mark.parametrize(
    ("reply", "status", "kind", "retry_after"),
    [
        (Reply.status(403), 401, "authentication_error", None),
        (Reply.status(429, retry_after=120), 429, "rate_limit_error", "60"),  # capped
        (Reply.cloudflare(503), 503, "upstream_challenge", None),
        (Reply.status(500), 502, "upstream_error", None),
        (Reply.html(), 502, "upstream_error", None),
        (Reply.reset(), 502, "upstream_error", None),
        (Reply.hang(), 504, "timeout", None),
    ],
    ids=[
        "rejected-cookies",
        "rate-limit",
        "cloudflare",
        "upstream-500",
        "not-json",
        "reset",
        "timeout",
    ],
)
def test_upstream_faults_map_to_statuses(
    reply: Reply,
    status: int,
    kind: str,
    retry_after: str | None,
    server: Server,
    upstream: StandInService,
) -> None:
    upstream.set_default(reply)
    got, headers, raw = server.raw(
        "POST",
        "/v1/chat/completions",
        json.dumps({"model": "gpt-3.5-turbo", "messages": USER}).encode(),
    )
    assert got == status
    error = json.loads(raw)["error"]
    assert error["type"] == kind
    assert headers.get("retry-after") == retry_after
    assert SECRET_COOKIE not in raw.decode()


def test_sdk_sees_typed_errors(server: Server, upstream: StandInService) -> None:
    upstream.set_default(Reply.status(429, retry_after=30))
    with pytest.raises(openai.RateLimitError):
        client(server).chat.completions.create(model="gpt-3.5-turbo", messages=USER)


def test_binding_beyond_loopback_without_a_key_warns(tmp_path: Path, home: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aichat_provider",
            "serve",
            "--host",
            "0.0.0.0",  # noqa: S104
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=subprocess_env(home),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "without an API key" in first
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_readme_openai_example(server: Server) -> None:
    """The README's three-line client, with the server's address and key."""
    readme = readme_text()
    code = re.search(r"```python\n(from openai import OpenAI\n.*?)```", readme, re.S)
    assert code is not None
    source = code.group(1).replace("http://127.0.0.1:8000/v1", server.base_url)
    source = source.replace('api_key="unused"', f'api_key="{API_KEY}"')
    namespace: dict[str, object] = {}
    exec(compile(source, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["answer"] == "echo: Hello"
