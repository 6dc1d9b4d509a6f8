"""The API key is part of admission: every route in the table needs it unless the table marks the
route public, so a route added later is closed until someone opens it on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from aichat_provider.server import ServerConfig, create_app
from aichat_provider.server._app import MODEL_PREFIX, ROUTES, AichatServer, Route, find_route
from aichat_provider.server._http import Headers, Receive, Request, Send, send_json

OWN = "http://127.0.0.1:8000"
KEY = "sk-admission-7c3d"
#: What may be reached without the key: the health check and the chat page's own files.
PUBLIC = {"/health", "/", "/static/app.css", "/static/app.js"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ServerConfig(api_key=KEY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=OWN) as opened:
        yield opened


def every_route() -> list[tuple[str, str]]:
    paths = [*ROUTES, MODEL_PREFIX + "gpt-3.5-turbo"]
    return [(path, method) for path in paths for method in find_route(path).methods]  # type: ignore[union-attr]


def test_the_public_routes_are_the_ones_meant_to_be() -> None:
    assert {path for path, route in ROUTES.items() if route.public} == PUBLIC
    assert not find_route(MODEL_PREFIX + "x").public  # type: ignore[union-attr]


@pytest.mark.parametrize(("path", "method"), every_route())
async def test_every_route_needs_the_key_unless_marked_public(
    client: httpx.AsyncClient, path: str, method: str
) -> None:
    headers = {"content-type": "application/json"}
    without = await client.request(method, path, headers=headers, content=b"{}")
    if path in PUBLIC:
        assert without.status_code == 200, without.text
        return
    assert without.status_code == 401, without.text
    assert without.json()["error"]["code"] == "invalid_api_key"
    wrong = await client.request(
        method, path, headers={**headers, "authorization": "Bearer sk-wrong"}, content=b"{}"
    )
    assert wrong.status_code == 401
    right = await client.request(
        method, path, headers={**headers, "authorization": f"Bearer {KEY}"}, content=b"{}"
    )
    assert right.status_code != 401, right.text


async def test_a_route_added_without_a_word_is_closed(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def secret(
        server: AichatServer, request: Request, receive: Receive, send: Send, cors: Headers
    ) -> int:
        await send_json(send, 200, {"cookies": "everything"}, cors)
        return 200

    monkeypatch.setitem(ROUTES, "/v1/new", Route({"GET": secret}))
    assert (await client.get("/v1/new")).status_code == 401
    opened = await client.get("/v1/new", headers={"authorization": f"Bearer {KEY}"})
    assert opened.json() == {"cookies": "everything"}


async def test_paths_that_are_no_route_say_nothing_without_the_key(
    client: httpx.AsyncClient,
) -> None:
    reply = await client.get("/v1/assistants")
    assert reply.status_code == 401
    assert "/v1/assistants" not in reply.text
    found = await client.get("/v1/assistants", headers={"authorization": f"Bearer {KEY}"})
    assert found.status_code == 404


async def test_a_preflight_needs_no_key(client: httpx.AsyncClient) -> None:
    """Browsers send no credentials with a preflight; the request that follows carries them."""
    reply = await client.options("/v1/chat/completions")
    assert reply.status_code == 204
    assert "POST" in reply.headers["allow"]
