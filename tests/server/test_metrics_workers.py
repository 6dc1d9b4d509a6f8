"""``/metrics`` with ``--workers 2``: any worker's scrape counts the requests of both (each writes
to the private directory ``aichat serve`` made for them, removed when it stops)."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from aichat_provider.testing import StandInService
from support.server import Server, serve_stand_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="finds the workers through /proc"),
]

CHAT = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "Hi"}]}
CHAT_OK = 'aichat_requests_total{route="/v1/chat/completions",status="200"}'


def worker_directory(server: Server) -> Path:
    """The metrics directory, as the worker processes' environment names it."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    directories = set()
    for child in children:
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for entry in environ:
            name, _, value = entry.partition(b"=")
            if name == b"PROMETHEUS_MULTIPROC_DIR":
                directories.add(value.decode())
    [directory] = directories
    return Path(directory)


def chats_by_worker(directory: Path) -> dict[str, float]:
    """Chat requests answered 200, per worker, from each worker's own file."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        metrics = MultiProcessCollector.merge([str(path)], accumulate=True)
        counts[path.stem] = sum(
            sample.value
            for metric in metrics
            for sample in metric.samples
            if sample.name == "aichat_requests_total"
            and sample.labels == {"route": "/v1/chat/completions", "status": "200"}
        )
    return counts


def scrape(server: Server) -> dict[str, float]:
    status, _, body = server.raw("GET", "/metrics")
    assert status == 200
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line and not line.startswith("#")
    }


def test_metrics_count_the_requests_of_both_workers(
    upstream: StandInService, tmp_path: Path
) -> None:
    server = serve_stand_in(upstream, tmp_path, "--workers", "2")
    try:
        directory = worker_directory(server)
        assert directory.is_dir()
        assert not directory.is_relative_to(tmp_path)  # the server's own, not the caller's
        sent = 0

        def one_chat(_: int) -> None:
            status, _, body = server.raw("POST", "/v1/chat/completions", json.dumps(CHAT).encode())
            assert status == 200, body

        with ThreadPoolExecutor(8) as pool:
            # Each request on a new connection: the kernel hands connections to either worker.
            while sent < 400:
                list(pool.map(one_chat, range(16)))
                sent += 16
                counts = chats_by_worker(directory)
                if len(counts) == 2 and all(counts.values()):
                    break
        assert len(counts) == 2, counts  # both workers answered
        assert all(counts.values()), counts
        for _ in range(4):  # scrapes land on either worker: each one adds up both
            assert scrape(server)[CHAT_OK] == sent
    finally:
        server.stop()
    assert not directory.exists()  # removed with the server
