"""JSON Schemas in requests are data: nothing they name is fetched or opened, and no schema or
answer, however hostile, stalls the server, grows its memory, or ends in a 500.

Driven over HTTP against the real ``aichat serve`` in a child process and the stand-in service;
the server's memory is read from /proc, a "remote" reference points at a listening socket on
this machine that records whether anyone connected."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aichat_provider import _constants
from aichat_provider.testing import Reply, StandInService
from support.server import Server

USER = [{"role": "user", "content": "Hi"}]
#: What a correct server cannot miss: /health answers within this while anything else runs.
HEALTH_BOUND = 0.5


class Listener:
    """A port on 127.0.0.1 that counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.setblocking(False)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/schema.json"

    def connections(self) -> int:
        count = 0
        while True:
            try:
                accepted, _ = self.socket.accept()
            except BlockingIOError:
                return count
            accepted.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    probe = Listener()
    yield probe
    probe.socket.close()


def structured(schema: dict[str, Any], name: str = "Answer") -> dict[str, Any]:
    return {
        "model": "gpt-3.5-turbo",
        "messages": USER,
        "response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema}},
    }


def forced_tools(*parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "gpt-3.5-turbo",
        "messages": USER,
        "tools": [
            {"type": "function", "function": {"name": f"tool_{i}", "parameters": p}}
            for i, p in enumerate(parameters)
        ],
        "tool_choice": "required",
    }


def peak_memory_kib(server: Server) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


# --- nothing a request names is fetched ---------------------------------------------------------


def remote_places(url: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("$ref", structured({"$ref": url})),
        ("nested $ref", structured({"type": "object", "properties": {"a": {"$ref": url}}})),
        ("$ref after $id", structured({"$id": url, "properties": {"a": {"$ref": "other.json"}}})),
        ("$dynamicRef", structured({"items": {"$dynamicRef": url}})),
        ("tool parameters", forced_tools({"type": "object", "$defs": {"x": {"$ref": url}}})),
    ]


@pytest.mark.parametrize("place", [name for name, _ in remote_places("x")])
def test_a_reference_outside_the_schema_is_a_400_and_never_fetched(
    server: Server, upstream: StandInService, listener: Listener, place: str
) -> None:
    request = dict(remote_places(listener.url))[place]
    status, _, body = server.post_json("/v1/chat/completions", request)
    assert status == 400, body
    assert body["error"]["code"] == "schema_reference_refused"
    assert body["error"]["param"] in ("response_format", "tools")
    assert "nothing is fetched" in body["error"]["message"]
    assert listener.connections() == 0
    assert upstream.requests == []  # refused before the service was asked


def test_a_file_reference_is_refused_without_reading_the_file(
    server: Server, upstream: StandInService
) -> None:
    hostname = Path("/etc/hostname")
    status, _, body = server.post_json(
        "/v1/chat/completions", structured({"$ref": hostname.as_uri()})
    )
    assert status == 400
    assert "'file:///etc/hostname'" in body["error"]["message"]
    if hostname.exists() and hostname.read_text().strip():
        assert hostname.read_text().strip() not in json.dumps(body)
    assert upstream.requests == []


def test_a_remote_meta_schema_is_never_fetched(
    server: Server, upstream: StandInService, listener: Listener
) -> None:
    status, _, body = server.post_json(
        "/v1/chat/completions", structured({"$schema": listener.url, "type": "object"})
    )
    assert status == 400, body
    assert "not a valid JSON Schema" in body["error"]["message"]
    assert listener.connections() == 0
    assert upstream.requests == []


def test_a_reference_inside_the_schema_still_works(
    server: Server, upstream: StandInService
) -> None:
    schema = {
        "$defs": {"City": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "type": "object",
        "properties": {"city": {"$ref": "#/$defs/City"}},
        "required": ["city"],
    }
    upstream.push(Reply.answer('{"city": {"name": "Oslo"}}'))
    status, _, body = server.post_json("/v1/chat/completions", structured(schema))
    assert status == 200, body
    upstream.push(Reply.answer('{"city": {"name": 3}}'))
    status, _, body = server.post_json("/v1/chat/completions", structured(schema))
    assert status == 502
    assert "at city/name" in body["error"]["message"]


def test_each_tools_references_resolve_in_its_own_schema(
    server: Server, upstream: StandInService
) -> None:
    """Pydantic writes nested models as ``$defs`` with ``#/$defs/...``: when several tools are
    offered, each call is checked against its own function's parameters."""
    with_defs = {
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "type": "object",
        "properties": {"at": {"$ref": "#/$defs/Point"}},
        "required": ["at"],
    }
    request = forced_tools({"type": "object"}, with_defs)
    upstream.push(Reply.answer('{"name": "tool_1", "arguments": {"at": {"x": 3}}}'))
    status, _, body = server.post_json("/v1/chat/completions", request)
    assert status == 200, body
    call = body["choices"][0]["message"]["tool_calls"][0]["function"]
    assert (call["name"], json.loads(call["arguments"])) == ("tool_1", {"at": {"x": 3}})

    upstream.push(Reply.answer('{"name": "tool_1", "arguments": {"at": {"x": "three"}}}'))
    status, _, body = server.post_json("/v1/chat/completions", request)
    assert status == 502
    assert body["error"]["code"] == "invalid_model_output"
    assert "'tool_1'" in body["error"]["message"]
    assert "at at/x" in body["error"]["message"]


# --- bounded work --------------------------------------------------------------------------------


def fan_out(levels: int) -> dict[str, Any]:
    """References that double at each level: 2**levels checks of one value."""
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(levels)
    }
    defs[f"d{levels}"] = {"type": "integer"}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


def while_health_is_watched(server: Server, request: dict[str, Any]) -> tuple[Any, list[float]]:
    """Send ``request``; meanwhile time /health until it has answered. Returns its answer and
    the /health times."""
    outcome: list[Any] = []
    sender = threading.Thread(
        target=lambda: outcome.append(server.post_json("/v1/chat/completions", request))
    )
    sender.start()
    times = []
    while sender.is_alive() or not times:
        started = time.monotonic()
        status, _, _ = server.raw("GET", "/health", timeout=10)
        times.append(time.monotonic() - started)
        assert status == 200
        time.sleep(0.05)
    sender.join()
    return outcome[0], times


@pytest.mark.slow
def test_references_that_fan_out_are_cut_off_and_the_server_keeps_answering(
    server: Server, upstream: StandInService
) -> None:
    upstream.push(Reply.answer("1"))
    started = time.monotonic()
    (status, _, body), health = while_health_is_watched(server, structured(fan_out(48)))
    took = time.monotonic() - started
    assert status == 502, body
    assert body["error"]["code"] == "schema_check_failed"
    assert "simplify the schema" in body["error"]["message"]
    assert took < _constants.SERVER_SCHEMA_TIMEOUT + 10  # the deadline, plus a worker's start
    assert max(health) < HEALTH_BOUND, health
    log = server.log_text()
    assert log.count("a JSON Schema check gave up") == 1
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_pattern_that_backtracks_costs_nothing(server: Server, upstream: StandInService) -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}
    upstream.push(Reply.answer(json.dumps({"code": "a" * 5000 + "!"})))
    (status, _, body), health = while_health_is_watched(server, structured(schema))
    assert status == 502
    assert body["error"]["code"] == "invalid_model_output"
    assert "at code" in body["error"]["message"]
    assert max(health) < HEALTH_BOUND, health


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "string"}},
        {"anyOf": [{"items": {"type": "string"}}, {"items": {"type": "boolean"}}]},
    ],
    ids=["items", "anyOf"],
)
@pytest.mark.slow
def test_an_answer_that_fails_everywhere_does_not_grow_the_servers_memory(
    server: Server, upstream: StandInService, schema: dict[str, Any]
) -> None:
    upstream.push(Reply.answer('["warm up"]'))
    status, _, _ = server.post_json("/v1/chat/completions", structured(schema))
    assert status == 200
    before = peak_memory_kib(server)
    upstream.push(Reply.answer(json.dumps([0] * 600_000)))  # 1.2 MB of wrong items
    (status, _, body), health = while_health_is_watched(server, structured(schema))
    assert status == 502, body
    assert body["error"]["code"] in ("invalid_model_output", "schema_check_failed")
    assert len(body["error"]["message"]) < 1000  # the first problem, not every one
    assert (peak_memory_kib(server) - before) < 20 * 1024
    assert max(health) < HEALTH_BOUND, health


def test_more_tools_than_openai_allows_are_refused(
    server: Server, upstream: StandInService
) -> None:
    request = forced_tools(*({"type": "object"} for _ in range(_constants.SERVER_MAX_TOOLS + 1)))
    status, _, body = server.post_json("/v1/chat/completions", request)
    assert status == 400
    assert body["error"]["code"] == "too_many_tools"
    assert body["error"]["param"] == "tools"
    request["tool_choice"] = "auto"
    status, _, body = server.post_json("/v1/chat/completions", request)
    assert (status, body["error"]["code"]) == (400, "too_many_tools")
    legacy = {"model": "gpt-3.5-turbo", "messages": USER, "functions": request["tools"]}
    status, _, body = server.post_json("/v1/chat/completions", legacy)
    assert (status, body["error"]["param"]) == (400, "functions")

    many = forced_tools(*({"type": "object"} for _ in range(10_000)))  # within the body limit
    (status, _, body), health = while_health_is_watched(server, many)
    assert (status, body["error"]["code"]) == (400, "too_many_tools")
    assert max(health) < HEALTH_BOUND, health
    assert upstream.requests == []


def test_schemas_too_deep_or_too_large_are_refused(
    server: Server, upstream: StandInService
) -> None:
    deep: dict[str, Any] = {}
    for _ in range(250):
        deep = {"not": deep}
    status, _, body = server.post_json("/v1/chat/completions", structured(deep))
    assert (status, body["error"]["code"]) == (400, "schema_too_deep")

    wide = {"type": "integer", "enum": list(range(_constants.SERVER_MAX_SCHEMA_NODES))}
    status, _, body = server.post_json("/v1/chat/completions", structured(wide))
    assert (status, body["error"]["code"]) == (400, "schema_too_large")
    assert upstream.requests == []


def test_a_schema_that_refers_to_itself_is_no_500(server: Server, upstream: StandInService) -> None:
    upstream.push(Reply.answer('{"a": 1}'))
    status, _, body = server.post_json("/v1/chat/completions", structured({"$ref": "#"}))
    assert status in (200, 400, 502), body
    assert "Traceback" not in server.log_text()


def test_format_is_checked(server: Server, upstream: StandInService) -> None:
    schema = {
        "type": "object",
        "properties": {"when": {"type": "string", "format": "date-time"}},
        "required": ["when"],
    }
    upstream.push(Reply.answer('{"when": "next tuesday"}'))
    status, _, body = server.post_json("/v1/chat/completions", structured(schema))
    assert status == 502
    assert "at when" in body["error"]["message"]
    upstream.push(Reply.answer('{"when": "2026-12-08T09:00:00Z"}'))
    status, _, body = server.post_json("/v1/chat/completions", structured(schema))
    assert status == 200, body
