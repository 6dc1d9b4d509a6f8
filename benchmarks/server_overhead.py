"""CPU time the server's ASGI application spends on one chat request, without the network.

    python benchmarks/server_overhead.py                           # this checkout
    python benchmarks/server_overhead.py --baseline main=/tmp/old  # and another one, alternately

The application is called directly (a request body, a provider that answers at once), so the
number is the application's own cost per request: routing, admission, reading, the pipeline,
rendering. Each checkout runs in its own child process with its own ``PYTHONPATH``; CPU time
(``time.process_time``) is what the machine's other load moves least. ``benchmarks/serve.py``
measures the whole server over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

BODY = json.dumps({"model": "echo-1", "messages": [{"role": "user", "content": "Hi"}]}).encode()


def measure(requests: int, repeats: int) -> float:
    """The least CPU microseconds per request over ``repeats`` runs (in this process)."""
    from aichat_provider import AsyncProvider
    from aichat_provider.registry import ProviderRegistry
    from aichat_provider.server import ServerConfig, create_app

    class Echo(AsyncProvider):
        working = True
        default_model = "echo-1"
        models: ClassVar[list[str]] = ["echo-1"]

        @classmethod
        async def create_async(
            cls,
            model: str,
            messages: Sequence[Mapping[str, Any]],
            proxy: str | None = None,
            **_: Any,
        ) -> str:
            return "echo: Hi"

    registry = ProviderRegistry(group=None)
    registry.register(Echo)
    app = create_app(ServerConfig(registry=registry))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def one() -> None:
        statuses: list[int] = []
        answered = asyncio.Event()
        messages = [{"type": "http.request", "body": BODY, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await answered.wait()  # the client stays until its answer is in
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(dict(scope), receive, send)  # type: ignore[arg-type]
        answered.set()
        assert statuses == [200], statuses

    async def run() -> float:
        for _ in range(300):  # warm up
            await one()
        best = float("inf")
        for _ in range(repeats):
            started = time.process_time()
            for _ in range(requests):
                await one()
            best = min(best, (time.process_time() - started) / requests)
        return best * 1e6

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", action="append", default=[], metavar="[NAME=]PATH")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(measure(args.requests, args.repeats))
        return 0
    ways: list[tuple[str, str | None]] = [("this checkout", None)]
    for baseline in args.baseline:
        name, equals, path = baseline.rpartition("=")
        ways.append((name if equals else "baseline", path))
    results: dict[str, list[float]] = {name: [] for name, _ in ways}
    for _ in range(args.rounds):
        for name, path in ways:
            env = dict(os.environ)
            if path:
                env["PYTHONPATH"] = path
            done = subprocess.run(
                [sys.executable, __file__, "--child", "--requests", str(args.requests)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            results[name].append(float(done.stdout.split()[-1]))
    print("| way | CPU us per request (least of each round) |")
    print("|---|---|")
    for name, values in results.items():
        print(f"| {name} | {' / '.join(f'{value:.1f}' for value in values)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
