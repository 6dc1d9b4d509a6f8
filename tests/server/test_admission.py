"""The API key is part of admission: every route in the table needs it unless the table marks the
route public, so a route added later is closed until someone opens it on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request

from aichat_provider.server import AichatServer, ServerConfig, create_app

OWN = "http://127.0.0.1:8000"
KEY = "sk-admission-7c3d"
#: What may be reached without the key: the health check and the chat page's own files.
PUBLIC = {
    "/health",
    "/",
    "/favicon.ico",
    "/static/favicon.svg",
    "/static/app.css",
    "/static/app.js",
    "/static/vendor/markdown-it.min.js",
    "/static/vendor/purify.min.js",
    "/static/vendor/highlight.min.js",
    "/static/vendor/highlight-a11y-light.min.css",
    "/static/vendor/highlight-a11y-dark.min.css",
}


MODEL = "/v1/models/gpt-3.5-turbo"
APP = create_app(ServerConfig(api_key=KEY))


@pytest.fixture
def app() -> AichatServer:
    return create_app(ServerConfig(api_key=KEY))


@pytest.fixture
async def client(app: AichatServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=OWN) as opened:
        yield opened


def every_route() -> list[tuple[str, str]]:
    """Each route of the table, templates filled in (each of the page's files)."""
    paths: list[str] = []
    for template in APP.table:
        if template == "/v1/models/{id}":
            paths.append(MODEL)
        elif template == "/static/{name}":
            paths += [path for path in APP.files if path.startswith("/static/")]
        else:
            paths.append(template)
    return [(path, method) for path in paths for method in APP.lookup(path).methods]  # type: ignore[union-attr]


def test_the_public_routes_are_the_ones_meant_to_be() -> None:
    assert {path for path, _ in every_route() if APP.lookup(path).public} == PUBLIC  # type: ignore[union-attr]
    assert not APP.lookup("/v1/models/x").public  # type: ignore[union-attr]


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
    if method != "HEAD":  # a HEAD answer has no body to read the code from
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
    app: AichatServer, client: httpx.AsyncClient
) -> None:
    async def secret(request: Request) -> object:
        return {"cookies": "everything"}

    app.add("/v1/new", ("GET",), secret)
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


async def test_a_path_parameter_that_does_not_convert_is_openais_404(
    app: AichatServer, client: httpx.AsyncClient
) -> None:
    async def thing(request: Request) -> object:
        return {"n": request.path_params["n"]}

    app.add("/v1/things/{n:int}", ("GET",), thing)
    auth = {"authorization": f"Bearer {KEY}"}
    assert (await client.get("/v1/things/5", headers=auth)).json() == {"n": 5}
    reply = await client.get("/v1/things/x", headers=auth)
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"
