"""Aichat behind gpt4free's own API server (``g4f api``, through ``integrations.g4f``) next to
``aichat serve``: the same stand-in, the same openai client load.

    pip install '.[bench,g4f]' openai && python benchmarks/peer.py [--requests 2000] [--clients 100]

The stand-in service, the server under test and the clients each run in their own process; the
two servers are measured one after the other, never at the same time. Nothing leaves 127.0.0.1:
gpt4free's look-ups of PyPI and of its online provider list go to a local port where nothing
listens (the list is pre-seeded in a throw-away cache).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai

MESSAGES = [{"role": "user", "content": "Hi"}]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listened on port {port} within {timeout} s")


@contextmanager
def running(command: list[str], port: int, env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def offline_environment(work: Path, dead: socket.socket) -> dict[str, str]:
    proxy = f"http://127.0.0.1:{dead.getsockname()[1]}"
    models = work / "g4f-cache" / ".models" / datetime.date.today().strftime("%Y-%m-%d")
    models.mkdir(parents=True)
    (models / "providers.json").write_text(
        json.dumps({"providers": {"default": {"baseUrl": f"{proxy}/v1"}}, "defaultModels": {}})
    )
    variables = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    variables.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "G4F_CACHE_DIR": str(work / "g4f-cache"),
            "HOME": str(work),
        }
    )
    return variables


async def load(
    base_url: str, extra: dict[str, str], requests: int, clients: int
) -> dict[str, float]:
    """requests/s, median and p99 latency (ms) and errors for ``requests`` chat completions,
    ``clients`` in flight, after a warm-up."""
    http = openai.DefaultAsyncHttpxClient(
        trust_env=False, limits=httpx.Limits(max_connections=clients * 2)
    )
    client = openai.AsyncOpenAI(
        base_url=base_url, api_key="unused", max_retries=0, http_client=http, timeout=60
    )
    latencies: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            answer = await client.chat.completions.create(
                model="gpt-3.5-turbo", messages=MESSAGES, extra_body=extra
            )
            if answer.choices[0].message.content != "echo: Hi":
                errors += 1
        except openai.OpenAIError:
            errors += 1
        latencies.append(time.perf_counter() - started)

    remaining = iter(range(requests))

    async def worker() -> None:
        for _ in remaining:
            await one()

    await asyncio.gather(*[one() for _ in range(clients)])  # warm-up: connections, imports
    latencies.clear()
    errors = 0
    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(clients)])
    elapsed = time.perf_counter() - started
    await client.close()
    latencies.sort()
    return {
        "rps": requests / elapsed,
        "p50": latencies[len(latencies) // 2] * 1e3,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder, socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))  # bound, never listening: every connection is refused
        work = Path(folder)
        cookies = work / "cookies.json"
        cookies.write_text(json.dumps([{"name": "session", "value": "x"}]))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AICHAT_")}
        env.update(offline_environment(work, dead))
        upstream_port = free_port()
        stand_in = [sys.executable, "-m", "aichat_provider.testing", "--port", str(upstream_port)]
        with running(stand_in, upstream_port, env):
            upstream = f"http://127.0.0.1:{upstream_port}"
            env.update({"AICHAT_BASE_URL": upstream, "AICHAT_COOKIES_FILE": str(cookies)})
            port = free_port()
            serve = [sys.executable, "-m", "aichat_provider", "serve", "--port", str(port)]
            with running(serve, port, env):
                results["aichat serve"] = asyncio.run(
                    load(f"http://127.0.0.1:{port}/v1", {}, args.requests, args.clients)
                )
            port = free_port()
            g4f_api = [
                sys.executable, "-m", "aichat_provider.integrations.g4f", "api",
                "--bind", f"127.0.0.1:{port}", "--no-gui", "--no-access-log",
                "--disable-pa-auto-download",
            ]  # fmt: skip
            with running(g4f_api, port, env):
                results["g4f api (provider=Aichat)"] = asyncio.run(
                    load(
                        f"http://127.0.0.1:{port}/v1",
                        {"provider": "Aichat"},
                        args.requests,
                        args.clients,
                    )
                )
    print(
        f"{args.requests} chat completions, {args.clients} in flight (openai AsyncOpenAI); "
        "stand-in, server and clients in separate processes\n"
    )
    print("| server | requests/s | median ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for name, result in results.items():
        print(
            f"| {name} | {result['rps']:.0f} | {result['p50']:.1f} | {result['p99']:.1f} "
            f"| {result['errors']:.0f} |"
        )
    return 0 if all(result["errors"] == 0 for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
