"""The soak run shared by the soak test and ``benchmarks/soak.py``.

Many calls, many in flight, a share of them answered with faults by the stand-in. Every call
must return the answer to its own prompt with its own cookie, or raise a documented error;
file descriptors, threads and RSS must come back to where they were after a warm-up.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aichat_provider import Aichat, errors
from aichat_provider.testing import RecordedRequest, Reply, StandInService

#: The faults the stand-in mixes in, each with the errors it may end in (after retries).
SOAK_FAULTS = [
    Reply.status(503),
    Reply.status(429, retry_after=0),
    Reply.reset(),
    Reply.truncated(),
    Reply.html(),
    Reply.cloudflare(),
    Reply.status(401),
    Reply.rejected("busy"),
    Reply.hang(),
]
DOCUMENTED = (
    errors.ResponseStatusError,
    errors.ResponseError,
    errors.ProviderTimeoutError,
    errors.ProviderConnectionError,
)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class SoakResult:
    calls: int
    in_flight: int
    seconds: float
    answered: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    faults_served: int = 0
    fds: tuple[int, int] = (0, 0)
    threads: tuple[int, int] = (0, 0)
    rss: tuple[float, float] = (0.0, 0.0)
    configurations: int = 1
    pool_failures: int = 0

    def summary(self) -> str:
        by_class = ", ".join(f"{name} {count}" for name, count in sorted(self.errors.items()))
        return (
            f"{self.calls} calls, {self.in_flight} in flight, {self.configurations} "
            f"configurations, {self.seconds:.1f} s; "
            f"{self.faults_served} faults served; answered {self.answered}; "
            f"errors: {by_class or 'none'}; wrong answers: {len(self.wrong)}; "
            f"pool failures: {self.pool_failures}; "
            f"fds {self.fds[0]} -> {self.fds[1]}; threads {self.threads[0]} -> "
            f"{self.threads[1]}; RSS {self.rss[0]:.1f} -> {self.rss[1]:.1f} MiB"
        )


#: Fingerprints the soak rotates through (with two spellings of the stand-in's origin), so calls
#: use more configurations than the pool keeps and sessions are evicted all the time.
FINGERPRINTS = (
    "chrome99",
    "chrome100",
    "chrome101",
    "chrome104",
    "chrome107",
    "chrome110",
    "chrome116",
    "chrome119",
    "chrome120",
    "chrome123",
    "chrome124",
    "chrome131",
    "chrome136",
    "chrome142",
    "chrome145",
    "chrome146",
)
#: What a failure caused by the pool's own housekeeping looks like (it must never happen).
POOL_FAILURES = ("Session is closed", "ended without an HTTP reply")


def configurations(service: StandInService, count: int) -> list[tuple[str, str]]:
    """``count`` (base_url, impersonate) pairs, each its own pooled session."""
    origins = [service.base_url, f"http://localhost:{service.port}"]
    pairs = [(origin, target) for target in FINGERPRINTS for origin in origins]
    return pairs[:count]


def echo_with_cookie(request: RecordedRequest) -> str:
    return f"{request.prompt}|{request.header('cookie')}"


async def run_calls(
    service: StandInService,
    calls: int,
    in_flight: int,
    start: int,
    result: SoakResult | None,
    timeout: float,
    rotation: list[tuple[str, str]],
) -> None:
    """``calls`` calls, ``in_flight`` at a time: that many workers, each taking the next number."""
    numbers = iter(range(start, start + calls))

    async def worker() -> None:
        for number in numbers:
            await one(number)

    async def one(number: int) -> None:
        prompt, cookie = f"prompt-{number}", f"cookie-{number}"
        base_url, impersonate = rotation[number % len(rotation)]
        try:
            answer = await Aichat.create_async(
                "",
                [{"role": "user", "content": prompt}],
                cookies={"session": cookie},
                base_url=base_url,
                impersonate=impersonate,
                timeout=timeout,
                max_retries=1,
            )
        except DOCUMENTED as error:
            if result is not None:
                result.errors[type(error).__name__] += 1
                if any(marker in str(error) for marker in POOL_FAILURES):
                    result.pool_failures += 1
            return
        if result is not None:
            if answer == f"{prompt}|session={cookie}":
                result.answered += 1
            else:
                result.wrong.append(answer[:200])

    await asyncio.gather(*[worker() for _ in range(in_flight)])


def soak(
    calls: int,
    in_flight: int,
    fault_rate: float = 0.05,
    timeout: float = 2.0,
    warmup: int = 1000,
    seed: int = 1234,
    configuration_count: int = 32,
) -> SoakResult:
    """Run the soak in a fresh event loop; the stand-in runs in a thread of this process."""
    with StandInService(
        answer=echo_with_cookie,
        fault_rate=fault_rate,
        faults=SOAK_FAULTS,
        seed=seed,
        max_recorded=100,
    ) as service:
        rotation = configurations(service, configuration_count)

        async def main() -> SoakResult:
            await run_calls(service, warmup, in_flight, 10**9, None, timeout, rotation)
            service.faults_served = 0
            result = SoakResult(calls, in_flight, 0.0, configurations=len(rotation))
            before = (open_fds(), threading.active_count(), rss_mib())
            started = time.monotonic()
            await run_calls(service, calls, in_flight, 0, result, timeout, rotation)
            result.seconds = time.monotonic() - started
            result.fds = (before[0], open_fds())
            result.threads = (before[1], threading.active_count())
            result.rss = (before[2], rss_mib())
            result.faults_served = service.faults_served
            return result

        return asyncio.run(main())
