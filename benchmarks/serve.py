"""Throughput of ``aichat serve`` at 100 concurrent clients, against calling Aichat directly.

    pip install '.[bench]' && python benchmarks/serve.py [--requests 3000] [--clients 100]
    python benchmarks/serve.py --baseline /path/to/other/checkout    # also an older server
    python benchmarks/serve.py --baseline main=/tmp/old --baseline fastapi=/tmp/variant

``--baseline [NAME=]PATH`` (repeatable) runs the server of another checkout too, side by side in
the same rounds (``git worktree add /tmp/old main`` makes one), so a change is measured against
what it changes under the same load.

The stand-in service and each server run in their own processes; the clients run here, on a
reused curl_cffi session. Ways are measured in rounds, one after the other in each round, and
each number is the median over the rounds. Also measured: one client at a time (latency the
server adds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from curl_cffi.requests import AsyncSession

from aichat_provider import Aichat

MESSAGES = [{"role": "user", "content": "Hi"}]
Result = tuple[float, float, float, int, float]  # requests/s, median s, p99 s, errors, CPU s
#: The seconds of CPU a server's processes have used so far (Linux), or None.
CpuClock = Callable[[], float]


def process_cpu(pid: int) -> CpuClock:
    """The CPU time of ``pid`` and its child processes (the workers), from /proc: what a request
    costs the server, much less moved by the machine's other load than wall-clock time."""
    ticks = os.sysconf("SC_CLK_TCK")

    def used(one: int) -> float:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def clock() -> float:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        kids = children.read_text().split() if children.exists() else []
        return used(pid) + sum(used(int(kid)) for kid in kids)

    return clock


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def load(
    call: Callable[[], Awaitable[None]], requests: int, clients: int, cpu: CpuClock | None = None
) -> Result:
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

    cpu_before = cpu() if cpu else 0.0
    started = time.perf_counter()
    await asyncio.gather(*[client() for _ in range(clients)])
    elapsed = time.perf_counter() - started
    cpu_used = (cpu() - cpu_before) / requests if cpu else math.nan
    latencies.sort()
    return (
        requests / elapsed,
        statistics.median(latencies),
        latencies[int(0.99 * (len(latencies) - 1))],
        errors,
        cpu_used,
    )


async def measure_server(
    port: int, cpu: CpuClock, requests: int, clients: int
) -> tuple[Result, Result]:
    api = f"http://127.0.0.1:{port}/v1/chat/completions"
    body = {"model": "gpt-3.5-turbo", "messages": MESSAGES}
    async with AsyncSession(max_clients=max(clients, 10)) as session:

        async def call() -> None:
            reply = await session.post(api, json=body, timeout=60)
            assert reply.status_code == 200, reply.text
            assert reply.json()["choices"][0]["message"]["content"] == "echo: Hi"

        await load(call, 200, clients)  # warm up
        many = await load(call, requests, clients, cpu)
        return many, await load(call, requests // 5, 1, cpu)


async def measure_direct(upstream: str, requests: int, clients: int) -> tuple[Result, Result]:
    async def call() -> None:
        answer = await Aichat.create_async(
            "", MESSAGES, cookies={"session": "x"}, base_url=upstream, timeout=60
        )
        assert answer == "echo: Hi"

    await load(call, 200, clients)
    return await load(call, requests, clients), await load(call, requests // 5, 1)


@contextmanager
def running_server(
    upstream: str, cookies: Path, workers: int, source: str | None
) -> Iterator[tuple[int, CpuClock]]:
    port = free_port()
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = source
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aichat_provider",
            "serve",
            "--port",
            str(port),
            "--base-url",
            upstream,
            "--cookies-file",
            str(cookies),
            *(["--workers", str(workers)] if workers > 1 else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port, process_cpu(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="a checkout whose server to measure too (repeatable)",
    )
    args = parser.parse_args()
    ways: list[tuple[str, int, str | None]] = [
        ("aichat serve", 1, None),
        ("aichat serve --workers 2", 2, None),
    ]
    for baseline in args.baseline:
        name, equals, path = baseline.rpartition("=")
        ways.append((f"{name if equals else 'baseline'} server", 1, path))
    rounds: dict[str, list[tuple[Result, Result]]] = {}
    upstream_port = free_port()
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
        try:
            for _ in range(args.rounds):
                rounds.setdefault("direct", []).append(
                    asyncio.run(measure_direct(upstream_url, args.requests, args.clients))
                )
                for name, workers, source in ways:
                    with running_server(upstream_url, cookies, workers, source) as (port, cpu):
                        rounds.setdefault(name, []).append(
                            asyncio.run(measure_server(port, cpu, args.requests, args.clients))
                        )
        finally:
            upstream.terminate()
            upstream.wait(timeout=10)
    print(
        f"{args.requests} requests at {args.clients} clients, median of {args.rounds} rounds; "
        "stand-in, server and clients in separate processes, 2 cores\n"
    )
    print(
        "| way | requests/s | median ms | p99 ms | errors | 1 client: median ms "
        "| server CPU ms/request: 100 clients | 1 client |"
    )
    print("|---|---|---|---|---|---|---|---|")
    medians: dict[str, tuple[float, float, float, float]] = {}
    for name, results in rounds.items():
        rps = statistics.median(r[0][0] for r in results)
        median = statistics.median(r[0][1] for r in results)
        p99 = statistics.median(r[0][2] for r in results)
        errors = sum(r[0][3] + r[1][3] for r in results)
        single = statistics.median(r[1][1] for r in results)
        medians[name] = (rps, median, p99, single)
        cpu_many = statistics.median(r[0][4] for r in results) * 1e3
        cpu_one = statistics.median(r[1][4] for r in results) * 1e3
        print(
            f"| {name} | {rps:.0f} | {median * 1e3:.1f} | {p99 * 1e3:.1f} | {errors} "
            f"| {single * 1e3:.2f} | {cpu_many:.3f} | {cpu_one:.3f} |"
        )
    direct = medians["direct"]
    print()
    for name in (way[0] for way in ways):
        rps, _, p99, single = medians[name]
        print(
            f"- {name}: throughput / direct **{rps / direct[0]:.2f}** (target >= 0.7), "
            f"p99 / direct **{p99 / direct[2]:.2f}** (target <= 1.5), "
            f"adds {(single - direct[3]) * 1e3:.2f} ms to one request"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
