"""Request bodies an attacker shapes: every field of a full request to each API replaced by a
value of the wrong shape is refused in that API's error format, never answered 500. Against
``aichat serve`` in a child process."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from aichat_provider.testing import StandInService
from support.server import Server, serve_stand_in

MODEL = "gpt-3.5-turbo"
OBJECT = {"type": "object"}
#: A request to each route using most of what it reads, nested fields included.
FULL: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {
        "model": "gpt-3.5-turbo",
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "Hi"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": OBJECT}}],
        "tool_choice": "auto",
        "stop": ["x"],
        "n": 1,
        "metadata": {"a": "b"},
    },
    "/v1/completions": {"model": "gpt-3.5-turbo", "prompt": ["Hi"], "stop": "x", "max_tokens": 5},
    "/v1/responses": {
        "model": "gpt-3.5-turbo",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}],
        "instructions": "Be brief.",
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "max_output_tokens": 20,
    },
    "/v1/messages": {
        "model": "gpt-3.5-turbo",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "system": [{"type": "text", "text": "Be brief."}],
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "auto"},
        "stop_sequences": ["x"],
    },
    "/v1/messages/count_tokens": {
        "model": "gpt-3.5-turbo",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "system": [{"type": "text", "text": "Be brief."}],
    },
}
#: Values of each JSON type, the unhashable ones (a list or an object where a name is read)
#: first among them.
ODD: list[Any] = [[], {}, [{}], None, 1.5, "x"]


def places(value: object, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where ``value`` holds a value: each key and index path, nested ones too."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from places(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from places(inner, (*prefix, index))


def replaced(data: dict[str, Any], place: tuple[str | int, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    holder: Any = changed
    for step in place[:-1]:
        holder = holder[step]
    holder[place[-1]] = value
    return changed


def error_of(route: str, body: bytes) -> dict[str, Any]:
    """The error in ``body``, in the shape the route's clients expect."""
    data = json.loads(body)
    if route.startswith("/v1/messages"):
        assert data["type"] == "error", body
    error = data["error"]
    assert isinstance(error, dict), body
    assert isinstance(error["message"], str), body
    return error


@pytest.mark.parametrize(
    ("route", "place"),
    [
        ("/v1/chat/completions", ("messages", 0, "content", 0, "type")),
        ("/v1/responses", ("input", 0, "content", 0, "type")),
        ("/v1/messages", ("messages", 0, "content", 0, "type")),
        ("/v1/messages", ("system", 0, "type")),
        ("/v1/messages/count_tokens", ("system", 0, "type")),
    ],
)
@pytest.mark.parametrize("kind", [[], {"type": "text"}], ids=["list", "object"])
def test_a_part_whose_type_is_not_a_name_is_refused(
    server: Server, route: str, place: tuple[str | int, ...], kind: object
) -> None:
    status, _, body = server.raw("POST", route, json.dumps(replaced(FULL[route], place, kind)))
    assert status == 400, body
    error = error_of(route, body)
    assert str(place[0]) in error["message"], error


def test_no_field_of_the_wrong_shape_makes_the_server_fail(server: Server) -> None:
    failures = []
    for route, full in FULL.items():
        status, _, body = server.raw("POST", route, json.dumps(full).encode())
        assert status == 200, (route, body)
        for place in places(full):
            for value in ODD:
                status, _, body = server.raw(
                    "POST", route, json.dumps(replaced(full, place, value)).encode()
                )
                error_of(route, body) if status != 200 else json.loads(body)
                if status >= 500:
                    failures.append((route, place, value, status))
    assert not failures, failures[:20]
    assert "Traceback" not in server.log_text()


SMALL_BODY = 4096


@pytest.fixture(scope="module")
def small(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("hostile-bodies-small")
    running = serve_stand_in(
        upstream, root, "--max-retries", "0", "--max-body-bytes", str(SMALL_BODY)
    )
    yield running
    running.stop()


def test_a_stored_conversation_over_the_body_limit_is_not_continued(
    small: Server, upstream: StandInService
) -> None:
    """previous_response_id stands for the conversation it ends, so it is bounded as a body is:
    otherwise a few bytes naming a stored conversation (which each answer grows) made the
    server build and send a prompt of any size the store holds (up to 64 MiB), once per
    concurrent request. Refused before any call to the service, naming the field."""
    _, _, first = small.post_json("/v1/responses", {"model": MODEL, "input": "a" * 3000})
    assert first["status"] == "completed", first  # its input and the echo: over 4096 bytes
    upstream.reset()
    status, _, body = small.raw(
        "POST",
        "/v1/responses",
        json.dumps({"model": MODEL, "input": "Hi", "previous_response_id": first["id"]}).encode(),
    )
    assert status == 400, body
    error = error_of("/v1/responses", body)
    assert error["param"] == "previous_response_id"
    assert error["code"] == "conversation_too_large"
    assert str(SMALL_BODY) in error["message"]
    assert upstream.requests == []


def test_a_stored_conversation_within_the_body_limit_is_continued(small: Server) -> None:
    _, _, first = small.post_json("/v1/responses", {"model": MODEL, "input": "a" * 1000})
    status, _, second = small.post_json(
        "/v1/responses", {"model": MODEL, "input": "Hi", "previous_response_id": first["id"]}
    )
    assert status == 200, second
    assert second["output"][0]["content"][0]["text"].startswith("echo: ")


@pytest.mark.parametrize("model", ["p" * 5000 + "/gpt-3.5-turbo", "m" * 5000])
def test_an_unknown_model_is_named_in_the_error_in_part(server: Server, model: str) -> None:
    """A made-up model name is quoted in the 404 shortened, as every other value a request
    brings: not echoed whole (it may be as large as the body limit)."""
    status, _, body = server.raw(
        "POST",
        "/v1/chat/completions",
        json.dumps({"model": model, "messages": [{"role": "user", "content": "Hi"}]}).encode(),
    )
    assert status == 404, body
    error = error_of("/v1/chat/completions", body)
    assert error["code"] == "model_not_found"
    assert len(error["message"]) < 500, error["message"][:200]
