"""The server's limits exactly at their edges, the key on every API route, what the metrics and
the page's headers may show, and what a client that leaves ends. All over real HTTP to
``aichat serve`` in a child process, so they hold whatever framework serves the API."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator

import openai
import pytest

from aichat_provider.testing import Reply, StandInService
from support.server import Server, serve_stand_in

USER = [{"role": "user", "content": "Hi"}]
CHAT = {"model": "gpt-3.5-turbo", "messages": USER}
MAX_BODY = 4096
#: The acceptance bound for noticing a client that left (as in test_lifecycle).
CANCEL_WITHIN = 1.0


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("edges")
    running = serve_stand_in(
        upstream, root, "--max-retries", "0", "--max-body-bytes", str(MAX_BODY), "--timeout", "60"
    )
    yield running
    running.stop()


# --- limits at their edges --------------------------------------------------------------------


def test_n_at_its_maximum_is_accepted(client: openai.OpenAI, upstream: StandInService) -> None:
    completion = client.chat.completions.create(model="gpt-3.5-turbo", messages=USER, n=8)
    assert [choice.index for choice in completion.choices] == list(range(8))
    assert len(upstream.requests) == 8


def test_four_stop_sequences_are_accepted(client: openai.OpenAI, upstream: StandInService) -> None:
    upstream.push(Reply.answer("one two three four five"))
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, stop=["five", "four", "three", " two"]
    )
    assert completion.choices[0].message.content == "one"


def test_a_stop_sequence_at_the_very_start_gives_an_empty_answer(
    client: openai.OpenAI, upstream: StandInService
) -> None:
    upstream.push(Reply.answer("STOP and the rest"))
    completion = client.chat.completions.create(model="gpt-3.5-turbo", messages=USER, stop=["STOP"])
    assert completion.choices[0].message.content == ""
    assert completion.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("fields", "length"),
    [
        ({"max_completion_tokens": 5, "max_tokens": 50}, 20),
        ({"max_completion_tokens": 50, "max_tokens": 5}, 100),
    ],
    ids=["completion-tokens-smaller", "completion-tokens-larger"],
)
def test_max_completion_tokens_wins_over_max_tokens(
    fields: dict[str, int], length: int, server: Server, upstream: StandInService
) -> None:
    """OpenAI deprecated ``max_tokens`` for ``max_completion_tokens``; with both, the new one
    counts (an answer of 100 characters is 25 tokens here)."""
    upstream.push(Reply.answer("a" * 100))
    status, _, body = server.post_json("/v1/chat/completions", {**CHAT, **fields})
    assert status == 200, body
    assert body["choices"][0]["message"]["content"] == "a" * length


def body_of_size(size: int) -> bytes:
    """A valid chat request of exactly ``size`` bytes (the prompt is padded)."""
    empty = json.dumps({**CHAT, "messages": [{"role": "user", "content": ""}]}).encode()
    padded = json.dumps(
        {**CHAT, "messages": [{"role": "user", "content": "x" * (size - len(empty))}]}
    ).encode()
    assert len(padded) == size
    return padded


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_of_exactly_max_body_bytes_is_accepted_and_one_more_byte_refused(
    chunked: bool, server: Server, upstream: StandInService
) -> None:
    def post(body: bytes) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {server.api_key}",
            }
            if chunked:  # no Content-Length: the server counts as it reads
                half = len(body) // 2
                connection.request(
                    "POST",
                    "/v1/chat/completions",
                    body=iter([body[:half], body[half:]]),
                    headers=headers,
                    encode_chunked=True,
                )
            else:
                connection.request("POST", "/v1/chat/completions", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    assert post(body_of_size(MAX_BODY)) == 200
    assert len(upstream.requests) == 1
    assert post(body_of_size(MAX_BODY + 1)) == 413
    assert len(upstream.requests) == 1


# --- the key, the metrics, the page -----------------------------------------------------------

API_ROUTES = [
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/completions"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/gpt-3.5-turbo"),
    ("GET", "/metrics"),
]


@pytest.mark.parametrize(("method", "path"), API_ROUTES, ids=[p for _, p in API_ROUTES])
def test_every_api_route_needs_the_key(
    method: str, path: str, server: Server, upstream: StandInService
) -> None:
    body = json.dumps(CHAT if "chat" in path else {"model": "gpt-3.5-turbo", "prompt": "Hi"})
    data = body.encode() if method == "POST" else None
    for key in ("", "Bearer wrong-key"):
        status, _, _ = server.raw(method, path, data, {"Authorization": key})
        assert status == 401, (path, key)
    assert upstream.requests == []
    status, _, _ = server.raw(method, path, data)
    assert status == 200


def test_metrics_never_label_a_clients_own_path(server: Server) -> None:
    marker = "client-chosen-9f2c"
    for path in (f"/{marker}", f"/v1/{marker}?token={marker}", f"/v1/models/{marker}"):
        server.raw("GET", path)
    status, _, body = server.raw("GET", "/metrics")
    assert status == 200
    text = body.decode()
    assert marker not in text
    assert 'route="other"' in text


def test_the_page_may_not_be_framed(server: Server) -> None:
    status, headers, _ = server.raw("GET", "/", None, {"Authorization": ""})
    assert status == 200
    policy = [part.strip() for part in headers["content-security-policy"].split(";")]
    assert "frame-ancestors 'none'" in policy


def test_the_event_stream_is_not_cached(server: Server) -> None:
    status, headers, body = server.raw(
        "POST", "/v1/chat/completions", json.dumps({**CHAT, "stream": True}).encode()
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache"
    assert body.rstrip().endswith(b"data: [DONE]")


# --- a client that leaves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/completions", {"model": "gpt-3.5-turbo", "prompt": "Hi"}),
        ("/v1/completions", {"model": "gpt-3.5-turbo", "prompt": "Hi", "stream": True}),
        ("/v1/chat/completions", {**CHAT, "n": 2}),
        ("/v1/chat/completions", {**CHAT, "n": 2, "stream": True}),
    ],
    ids=["completions", "completions-stream", "chat-n2", "chat-n2-stream"],
)
def test_every_upstream_call_ends_when_the_client_leaves(
    path: str, body: dict[str, object], server: Server, upstream: StandInService
) -> None:
    upstream.set_default(Reply.hang())  # the service would keep them for the whole --timeout
    calls = 2 if body.get("n") == 2 else 1
    data = json.dumps(body).encode()
    client = socket.create_connection(("127.0.0.1", server.port))
    client.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".encode()
        + f"Authorization: Bearer {server.api_key}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    assert upstream.wait_for_requests(calls, timeout=10)
    client.close()
    left = time.monotonic()
    for request in upstream.requests:
        assert upstream.wait_for_close(request, timeout=10)
    assert time.monotonic() - left < CANCEL_WITHIN
