"""Benchmark suite: Aichat against a bare reused curl_cffi session and the gpt4free way.

    pip install '.[bench]' && python benchmarks/run.py            # full size
    python benchmarks/run.py --quick                               # a smaller run

The stand-in service runs in its own process (HTTP and HTTPS), so the server does not share the
client's interpreter. Every comparison is measured side by side in this one run, in interleaved
rounds, and reported as ratios. Results go to benchmarks/results/ (latest.md, latest.json and
latest.png when matplotlib is installed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curl_cffi.requests import AsyncSession

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent / "tests"))  # the test suite's cookie-database builders

from aichat_provider import Aichat  # noqa: E402
from aichat_provider._aichat import build_headers, build_payload  # noqa: E402
from aichat_provider._options import parse_options  # noqa: E402
from aichat_provider._pool import MAX_CLIENTS_PER_SESSION  # noqa: E402
from aichat_provider.cookies._sources import browser_cookie_cache  # noqa: E402
from aichat_provider.cookies._values import cookie_header  # noqa: E402
from support.profiles import Cookie, build_chrome_profile, build_firefox_profile  # noqa: E402

MESSAGES = [{"role": "user", "content": "Hi"}]
API_URL = "https://chat-gpt.org/api/text"
#: Interleaved runs per way in the concurrency benchmark.
ROUNDS = 5
COOKIES = {"session": "benchmark-cookie"}


def same_post(base_url: str) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The body and headers Aichat sends, so the floor does the very same POST."""
    options = parse_options(
        "",
        MESSAGES,
        None,
        {"cookies": COOKIES, "base_url": base_url},
        models=Aichat.models,
        default_model=Aichat.default_model,
    )
    return build_payload(options), build_headers(options, cookie_header(COOKIES))


@dataclass
class Server:
    base_url: str
    ca_path: str | None
    process: subprocess.Popen[str]

    @property
    def url(self) -> str:
        return self.base_url + "/api/text"

    @property
    def verify(self) -> bool | str:
        return self.ca_path or True


@contextlib.contextmanager
def stand_in(tls: bool) -> Iterator[Server]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "aichat_provider.testing", "--port", str(port)]
    process = subprocess.Popen(
        [*command, *(["--tls"] if tls else [])], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().split(" at ")[1].strip()
    ca_path = process.stdout.readline().split(": ", 1)[1].strip() if tls else None
    try:
        yield Server(base_url, ca_path, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


def quantile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- 1. sequential latency ---------------------------------------------------------------------


async def sequential(server: Server, calls: int, rounds: int = 10) -> dict[str, list[float]]:
    """Per-call latency of the three ways, in interleaved rounds so drift hits all alike."""
    samples: dict[str, list[float]] = {"aichat": [], "bare": [], "new_session": []}
    payload, headers = same_post(server.base_url)
    kwargs: dict[str, Any] = {
        "cookies": COOKIES,
        "base_url": server.base_url,
        "verify": server.verify,
    }
    async with AsyncSession(
        impersonate="chrome", verify=server.verify, max_clients=MAX_CLIENTS_PER_SESSION
    ) as bare:

        async def via_bare() -> None:
            reply = await bare.post(server.url, json=payload, headers=headers, timeout=30)
            assert reply.json()["message"]

        async def via_new_session() -> None:
            async with AsyncSession(impersonate="chrome", verify=server.verify) as session:
                reply = await session.post(server.url, json=payload, headers=headers, timeout=30)
                assert reply.json()["message"]

        async def via_aichat() -> None:
            assert await Aichat.create_async("", MESSAGES, **kwargs)

        ways: dict[str, Callable[[], Awaitable[None]]] = {
            "aichat": via_aichat,
            "bare": via_bare,
            "new_session": via_new_session,
        }
        for way in ways.values():  # warm up connections, TLS sessions and caches
            for _ in range(20):
                await way()
        per_round = max(1, calls // rounds)
        for _ in range(rounds):
            for name, way in ways.items():
                for _ in range(per_round):
                    started = time.perf_counter()
                    await way()
                    samples[name].append(time.perf_counter() - started)
    return samples


# --- 2. concurrency --------------------------------------------------------------------------


async def concurrent(server: Server, calls: int, in_flight: int) -> dict[str, dict[str, float]]:
    kwargs: dict[str, Any] = {
        "cookies": COOKIES,
        "base_url": server.base_url,
        "verify": server.verify,
    }
    results: dict[str, dict[str, float]] = {}
    payload, headers = same_post(server.base_url)
    async with AsyncSession(
        impersonate="chrome", verify=server.verify, max_clients=MAX_CLIENTS_PER_SESSION
    ) as bare:

        async def via_bare() -> None:
            reply = await bare.post(server.url, json=payload, headers=headers, timeout=60)
            assert reply.json()["message"]

        async def via_aichat() -> None:
            assert await Aichat.create_async("", MESSAGES, **kwargs, timeout=60)

        runs: dict[str, list[dict[str, float]]] = {"bare": [], "aichat": []}
        ways: tuple[tuple[str, Callable[[], Awaitable[None]]], ...] = (
            ("bare", via_bare),
            ("aichat", via_aichat),
        )
        # Five runs of each way, interleaved, so drift and the other process's load hit both
        # alike, each round in the other order (what one run leaves behind, such as garbage for
        # the collector, falls on the next); each way is reported by its median run.
        for round_number in range(ROUNDS):
            for name, way in ways if round_number % 2 == 0 else ways[::-1]:
                gate = asyncio.Semaphore(in_flight)
                latencies: list[float] = []
                errors = 0

                async def one(
                    way: Callable[[], Awaitable[None]] = way,
                    gate: asyncio.Semaphore = gate,
                    latencies: list[float] = latencies,
                ) -> None:
                    nonlocal errors
                    async with gate:
                        started = time.perf_counter()
                        try:
                            await way()
                        except Exception:
                            errors += 1
                        latencies.append(time.perf_counter() - started)

                cpu_started = time.process_time()
                started = time.perf_counter()
                await asyncio.gather(*[one() for _ in range(calls)])
                elapsed = time.perf_counter() - started
                runs[name].append(
                    {
                        "throughput": calls / elapsed,
                        "p99": quantile(latencies, 0.99),
                        "errors": errors,
                        # This process's CPU time (the stand-in runs in another): what a call
                        # costs the client, which other load on the machine moves less.
                        "cpu_us_per_call": (time.process_time() - cpu_started) / calls * 1e6,
                    }
                )
        for name, measured in runs.items():
            ordered = sorted(measured, key=lambda run: run["throughput"])
            results[name] = {
                **ordered[len(ordered) // 2],
                "errors": sum(run["errors"] for run in measured),
                "cpu_us_per_call": statistics.median(run["cpu_us_per_call"] for run in measured),
            }
    return results


# --- 3. browser cookies ------------------------------------------------------------------------


async def cookie_lookup(workdir: Path) -> dict[str, Any]:
    home = workdir / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)
    decoys = [Cookie(f"x{i}.chat-gpt.org", f"c{i}", "v" * 64) for i in range(3000)]
    dbus = shutil.which("dbus-daemon")
    daemon = None
    if dbus:
        daemon = subprocess.Popen(
            [dbus, "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE, text=True
        )
        assert daemon.stdout is not None
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = daemon.stdout.readline().strip()
        build_chrome_profile(home, [Cookie(".chat-gpt.org", "session", "s"), *decoys])
        browser = "chrome"
    else:  # no D-Bus: Chrome cannot be read here, Firefox shows the same cache behaviour
        build_firefox_profile(home, [Cookie(".chat-gpt.org", "session", "s"), *decoys])
        browser = "firefox"
    try:
        lateness: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                started = time.perf_counter()
                await asyncio.sleep(0.001)
                lateness.append(time.perf_counter() - started - 0.001)

        colds = []
        for _ in range(3):
            browser_cookie_cache.clear()
            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.01)
            started = time.perf_counter()
            found = await browser_cookie_cache.get(API_URL, (browser,))
            colds.append(time.perf_counter() - started)
            done.set()
            await tick
            done.clear()
            assert found.cookies == {"session": "s"}
        warm = []
        for _ in range(2000):
            started = time.perf_counter()
            await browser_cookie_cache.get(API_URL, (browser,))
            warm.append(time.perf_counter() - started)
        return {
            "browser": browser,
            "cookies_in_db": len(decoys) + 1,
            "cold_s": statistics.median(colds),
            "warm_us": statistics.median(warm) * 1e6,
            "max_stall_ms": max(lateness) * 1000,
        }
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=10)


# --- 4. import time, 5. peak RSS ---------------------------------------------------------------


def import_time(statement: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


PEAK_RSS_CHILD = """
import asyncio, resource, sys
from curl_cffi.requests import AsyncSession
from aichat_provider import Aichat
base_url, ca, way, n = sys.argv[1], sys.argv[2] or True, sys.argv[3], int(sys.argv[4])
payload = {"message": "Hi", "temperature": 0.5, "presence_penalty": 0, "top_p": 1,
           "frequency_penalty": 0}
async def main():
    if way == "aichat":
        await asyncio.gather(*[Aichat.create_async("", [{"role": "user", "content": "Hi"}],
            cookies={"s": "x"}, base_url=base_url, verify=ca, timeout=60) for _ in range(n)])
    else:
        async with AsyncSession(impersonate="chrome", verify=ca, max_clients=256) as s:
            await asyncio.gather(*[s.post(base_url + "/api/text", json=payload, timeout=60)
                                   for _ in range(n)])
asyncio.run(main())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_mib(server: Server, way: str, calls: int) -> float:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PEAK_RSS_CHILD,
            server.base_url,
            server.ca_path or "",
            way,
            str(calls),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip()) / 1024


# --- report ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, for a smoke run")
    args = parser.parse_args()
    sequential_calls = 200 if args.quick else 1000
    concurrent_calls = 500 if args.quick else 2000
    levels = (50, 200, 500)
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "sequential_calls": sequential_calls,
        "concurrent_calls": concurrent_calls,
        "sequential": {},
        "concurrency": {},
    }
    lines: list[str] = []
    for scheme in ("http", "https"):
        with stand_in(tls=scheme == "https") as server:
            samples = asyncio.run(sequential(server, sequential_calls))
            medians = {k: statistics.median(v) for k, v in samples.items()}
            report["sequential"][scheme] = {
                k: {"median_ms": medians[k] * 1e3, "p99_ms": quantile(v, 0.99) * 1e3}
                for k, v in samples.items()
            }
            report["sequential"][scheme]["ratio_aichat_over_bare"] = (
                medians["aichat"] / medians["bare"]
            )
            report["sequential"][scheme]["speedup_over_new_session"] = (
                medians["new_session"] / medians["aichat"]
            )
            report["concurrency"][scheme] = {
                str(level): asyncio.run(concurrent(server, concurrent_calls, level))
                for level in levels
            }
            if scheme == "https":
                report["peak_rss_mib_500_in_flight"] = {
                    way: peak_rss_mib(server, way, 500) for way in ("aichat", "bare")
                }
    with tempfile.TemporaryDirectory() as workdir:
        report["cookies"] = asyncio.run(cookie_lookup(Path(workdir)))
    runs = 5 if args.quick else 15
    curl_import = import_time("import curl_cffi.requests", runs)
    ours_import = import_time("import aichat_provider", runs)
    report["import"] = {
        "curl_cffi_requests_s": curl_import,
        "aichat_provider_s": ours_import,
        "ratio": ours_import / curl_import,
    }

    lines.append(
        f"# Benchmark results\n\n{report['when']}, {report['machine']}, loopback, "
        "stand-in service in its own process.\n"
    )
    lines.append(f"## 1. Sequential calls ({sequential_calls} per way, interleaved)\n")
    lines.append("| scheme | way | median ms | p99 ms |\n|---|---|---|---|")
    for scheme, data in report["sequential"].items():
        for way in ("bare", "aichat", "new_session"):
            label = {
                "bare": "bare reused curl_cffi session (floor)",
                "aichat": "Aichat.create_async",
                "new_session": "new session per call (gpt4free way)",
            }[way]
            lines.append(
                f"| {scheme} | {label} | {data[way]['median_ms']:.3f} | {data[way]['p99_ms']:.3f} |"
            )
    lines.append("")
    for scheme, data in report["sequential"].items():
        lines.append(
            f"- {scheme}: Aichat / bare = **{data['ratio_aichat_over_bare']:.2f}** "
            f"(target <= 1.10); new-session-per-call / Aichat = "
            f"**{data['speedup_over_new_session']:.2f}x** (target >= 2 on https)"
        )
    lines.append(
        f"\n## 2. Concurrency ({concurrent_calls} calls, median of {ROUNDS} interleaved runs)\n"
    )
    lines.append(
        "| scheme | in flight | Aichat calls/s | bare calls/s | ratio | Aichat p99 ms | "
        "bare p99 ms | errors (Aichat/bare) | client CPU µs/call (Aichat/bare) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for scheme, by_level in report["concurrency"].items():
        for level, data in by_level.items():
            ours, bare = data["aichat"], data["bare"]
            lines.append(
                f"| {scheme} | {level} | {ours['throughput']:.0f} | {bare['throughput']:.0f} | "
                f"{ours['throughput'] / bare['throughput']:.2f} | {ours['p99'] * 1e3:.1f} | "
                f"{bare['p99'] * 1e3:.1f} | {ours['errors']:.0f}/{bare['errors']:.0f} | "
                f"{ours['cpu_us_per_call']:.0f}/{bare['cpu_us_per_call']:.0f} "
                f"({ours['cpu_us_per_call'] / bare['cpu_us_per_call']:.2f}) |"
            )
    lines.append(
        "\n- target: ratio >= 0.9 at 200 in flight. Client CPU per call is the median over the "
        "runs of this process's CPU time (the stand-in runs in its own): on a shared machine it "
        "moves less than throughput, which follows the CPU the scheduler hands each process."
    )
    c = report["cookies"]
    lines.append(
        f"\n## 3. Browser cookie look-up ({c['browser']}, {c['cookies_in_db']} cookies "
        "in the database)\n"
    )
    lines.append(f"- cold (read + decrypt in a worker thread): {c['cold_s'] * 1e3:.1f} ms")
    lines.append(f"- warm (cached): {c['warm_us']:.1f} µs (target < 50 µs)")
    lines.append(
        f"- longest event-loop stall during a cold read: {c['max_stall_ms']:.1f} ms "
        "(target < 20 ms)"
    )
    i = report["import"]
    lines.append("\n## 4. Import time (fresh processes, median)\n")
    lines.append(
        f"- `import curl_cffi.requests`: {i['curl_cffi_requests_s'] * 1e3:.0f} ms; "
        f"`import aichat_provider`: {i['aichat_provider_s'] * 1e3:.0f} ms; ratio "
        f"**{i['ratio']:.2f}** (target <= 1.2)"
    )
    rss = report["peak_rss_mib_500_in_flight"]
    lines.append("\n## 5. Peak RSS, 500 calls in flight over HTTPS (separate processes)\n")
    lines.append(
        f"- Aichat: {rss['aichat']:.0f} MiB; bare curl_cffi session: {rss['bare']:.0f} MiB"
    )
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, samples_note=f"{sequential_calls} sequential calls")
    return 0


def plot(report: dict[str, Any], samples_note: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install '.[bench]'): no plot")
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ways = ("bare", "aichat", "new_session")
    width = 0.35
    for offset, scheme in enumerate(("http", "https")):
        data = report["sequential"][scheme]
        left.bar(
            [x + offset * width for x in range(3)],
            [data[w]["median_ms"] for w in ways],
            width,
            label=scheme,
        )
    left.set_xticks([x + width / 2 for x in range(3)], ["bare reused", "Aichat", "new session"])
    left.set_ylabel("median latency per call (ms)")
    left.set_title(f"Sequential ({samples_note})")
    left.legend()
    for scheme, style in (("http", "-"), ("https", "--")):
        by_level = report["concurrency"][scheme]
        levels = [int(level) for level in by_level]
        for way in ("aichat", "bare"):
            right.plot(
                levels,
                [by_level[str(level)][way]["throughput"] for level in levels],
                style,
                marker="o",
                label=f"{way} {scheme}",
            )
    right.set_xlabel("calls in flight")
    right.set_ylabel("calls per second")
    right.set_title("Throughput against the stand-in")
    right.legend()
    figure.tight_layout()
    figure.savefig(RESULTS / "latest.png", dpi=110)
    print(f"plot: {RESULTS / 'latest.png'}")


if __name__ == "__main__":
    raise SystemExit(main())
