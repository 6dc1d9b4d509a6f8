"""The server's guard in-process, at its edges: a near miss in one of these comparisons would let
a web page spend the user's account (found by mutation testing: each test here failed on a
mutant that every other test let through)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from aichat_provider.server import ServerConfig, create_app

OWN = "http://127.0.0.1:8000"
ALLOWED = "http://app.example:3000"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ServerConfig(cors_origins=(ALLOWED,)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=OWN) as opened:
        yield opened


def assert_openai_error(reply: httpx.Response, status: int, code: str | None) -> str:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    error = reply.json()["error"]
    assert error["code"] == code
    message = error["message"]
    assert isinstance(message, str)
    return message


async def test_the_servers_own_page_is_same_origin(client: httpx.AsyncClient) -> None:
    reply = await client.get("/v1/models", headers={"origin": OWN})
    assert reply.status_code == 200
    assert "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:1",  # another port is another origin, and sorts before ours
        "http://127.0.0.1:9000",
        "http://0.evil.example",  # sorts before ours
        "https://127.0.0.1:8000",  # another scheme
        "http://localhost:8000",  # another name for the same server is still another origin
        "null",  # a sandboxed frame or a file:// page
    ],
)
async def test_every_other_origin_is_refused(client: httpx.AsyncClient, origin: str) -> None:
    reply = await client.get("/v1/models", headers={"origin": origin})
    message = assert_openai_error(reply, 403, "origin_not_allowed")
    assert "--cors-origin" in message
    assert "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/a", "application/jsonx", "multipart/form-data"],
)
async def test_a_body_not_declared_json_is_refused(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    # A page can POST without a Content-Type (a Blob body) and without a preflight.
    headers = {} if content_type is None else {"content-type": content_type}
    reply = await client.post("/v1/chat/completions", content=b"{}", headers=headers)
    assert_openai_error(reply, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
async def test_json_declared_any_way_is_read(client: httpx.AsyncClient, content_type: str) -> None:
    reply = await client.post(
        "/v1/chat/completions", content=b"{}", headers={"content-type": content_type}
    )
    assert reply.status_code == 400  # read, then refused for what it holds (no model)
    assert "'model'" in reply.json()["error"]["message"]


async def test_a_preflight_of_an_allowed_origin(client: httpx.AsyncClient) -> None:
    reply = await client.options(
        "/v1/chat/completions",
        headers={"origin": ALLOWED, "access-control-request-headers": "content-type, x-api-key"},
    )
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == ALLOWED
    assert reply.headers["access-control-allow-headers"] == "content-type, x-api-key"


@pytest.mark.parametrize("asked", ["content-type, x y", "a\tb", "x:y"])
async def test_a_preflight_asking_for_a_name_that_is_not_a_header(
    client: httpx.AsyncClient, asked: str
) -> None:
    reply = await client.options(
        "/v1/chat/completions",
        headers={"origin": ALLOWED, "access-control-request-headers": asked},
    )
    assert_openai_error(reply, 400, None)


async def test_a_preflight_of_another_origin_is_refused(client: httpx.AsyncClient) -> None:
    reply = await client.options("/v1/chat/completions", headers={"origin": "http://evil.example"})
    assert_openai_error(reply, 403, "origin_not_allowed")


async def test_messages_quote_at_most_100_characters_of_a_header(
    client: httpx.AsyncClient,
) -> None:
    long_host = "h" * 500
    message = assert_openai_error(
        await client.get("/v1/models", headers={"host": long_host}), 403, "host_not_allowed"
    )
    assert repr("h" * 100) in message
    assert "h" * 101 not in message
    long_origin = "http://" + "o" * 500
    message = assert_openai_error(
        await client.get("/v1/models", headers={"origin": long_origin}), 403, "origin_not_allowed"
    )
    assert repr(long_origin[:100]) in message
    assert long_origin[:101] not in message


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8000", 200),
        ("LOCALHOST", 200),
        ("[::1]:8000", 200),
        ("127.0.0.1.evil.example", 403),
        ("evil.example:8000", 403),
        ("[::1].evil.example", 403),
        ("[::1", 403),
        ("127.0.0.1:http", 403),
        ("[::1]:", 403),
        ("[::1]8000", 403),
        ("[::1]a8000", 403),
        ("127.0.0.1:x80", 403),
    ],
)
async def test_host_names(client: httpx.AsyncClient, host: str, status: int) -> None:
    reply = await client.get("/v1/models", headers={"host": host})
    assert reply.status_code == status, reply.text
