"""Throughput of ``aichat serve`` at 100 concurrent clients, against calling Aichat directly.

    pip install '.[bench]' && python benchmarks/serve.py [--requests 3000] [--clients 100]

The stand-in service and the server each run in their own process; the clients run here, on a
reused curl_cffi session. Also measured: one client at a time (latency added by the server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from curl_cffi.requests import AsyncSession

from aichat_provider import Aichat

MESSAGES = [{"role": "user", "content": "Hi"}]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def load(
    call: Callable[[], Awaitable[None]], requests: int, clients: int
) -> tuple[float, float, float, int]:
    """(requests/s, median s, p99 s, errors) for ``requests`` calls, ``clients`` at once."""
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(requests))

    async def client() -> None:
        nonlocal errors
        for _ in remaining:
            started = time.perf_counter()
            try:
                await call()
            except Exception:
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*[client() for _ in range(clients)])
    elapsed = time.perf_counter() - started
    latencies.sort()
    return (
        requests / elapsed,
        statistics.median(latencies),
        latencies[int(0.99 * (len(latencies) - 1))],
        errors,
    )


async def measure(
    api: str, upstream: str, requests: int, clients: int
) -> dict[str, tuple[float, ...]]:
    body = {"model": "gpt-3.5-turbo", "messages": MESSAGES}
    results: dict[str, tuple[float, ...]] = {}
    async with AsyncSession(max_clients=max(clients, 10)) as session:

        async def via_server() -> None:
            reply = await session.post(api, json=body, timeout=60)
            assert reply.status_code == 200, reply.text
            assert reply.json()["choices"][0]["message"]["content"] == "echo: Hi"

        async def direct() -> None:
            answer = await Aichat.create_async(
                "", MESSAGES, cookies={"session": "x"}, base_url=upstream, timeout=60
            )
            assert answer == "echo: Hi"

        for name, call in (("server", via_server), ("direct", direct)):
            await load(call, 200, clients)  # warm up
            results[f"{name} x{clients}"] = await load(call, requests, clients)
            results[f"{name} x1"] = await load(call, requests // 5, 1)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    upstream_port, server_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as work:
        cookies = Path(work) / "cookies.json"
        cookies.write_text(json.dumps([{"name": "session", "value": "x"}]))
        upstream = subprocess.Popen(
            [sys.executable, "-m", "aichat_provider.testing", "--port", str(upstream_port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert upstream.stdout is not None
        upstream.stdout.readline()
        upstream_url = f"http://127.0.0.1:{upstream_port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aichat_provider",
                "serve",
                "--port",
                str(server_port),
                "--base-url",
                upstream_url,
                "--cookies-file",
                str(cookies),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", server_port)) == 0:
                        break
                time.sleep(0.05)
            api = f"http://127.0.0.1:{server_port}/v1/chat/completions"
            results = asyncio.run(measure(api, upstream_url, args.requests, args.clients))
        finally:
            server.terminate()
            upstream.terminate()
            server.wait(timeout=10)
            upstream.wait(timeout=10)
    print(f"{args.requests} requests; stand-in, server and clients in separate processes\n")
    print("| way | requests/s | median ms | p99 ms | errors |\n|---|---|---|---|---|")
    for name, (rps, median, p99, errors) in results.items():
        print(f"| {name} | {rps:.0f} | {median * 1e3:.2f} | {p99 * 1e3:.2f} | {errors:.0f} |")
    many, one = f"x{args.clients}", "x1"
    print(
        f"\nserver throughput / direct at {args.clients} clients: "
        f"{results['server ' + many][0] / results['direct ' + many][0]:.2f}"
    )
    added = (results["server " + one][1] - results["direct " + one][1]) * 1e3
    print(f"latency the server adds to one request (medians, one client): {added:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
