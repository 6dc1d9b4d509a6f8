"""Promises that must hold at any load: the deadline, and the pool's housekeeping.

Regression tests for issue 12, items 1 and 2: past 256 concurrent calls of one configuration
the wait for a curl handle was outside the deadline; with more configurations in use than the
pool keeps, an eviction closed a session another call had just been handed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from aichat_provider import Aichat, StreamSession, errors
from aichat_provider._pool import MAX_CLIENTS_PER_SESSION, MAX_SESSIONS_PER_LOOP
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER


@pytest.mark.timeout(60)
@pytest.mark.slow
async def test_timeout_holds_for_600_concurrent_calls_to_a_server_that_never_answers(
    service: StandInService,
) -> None:
    """600 calls is more than twice the curl handles of a session: each still ends on time.

    Each call is timed from its own start (the deadline covers a call, not the queue of calls
    the loop has yet to start), and the margin grows by the time the loop itself could not run:
    on a starved machine, calls that kept their deadline ended seconds late while the loop caught
    up with 600 cancellations. A call that waits for a curl handle outside its deadline takes a
    whole timeout more while the loop sits idle (the old pool's calls took 6 to 10 s).
    """
    calls = 600
    assert calls > 2 * MAX_CLIENTS_PER_SESSION
    timeout = 3.0
    service.set_default(Reply.hang())

    async def one() -> float:
        started = time.monotonic()
        with pytest.raises(errors.ProviderTimeoutError) as caught:
            await Aichat.create_async(
                "", USER, cookies=COOKIES, base_url=service.base_url, timeout=timeout, max_retries=0
            )
        assert f"within {timeout:g} s" in str(caught.value)
        return time.monotonic() - started

    async with LoopLag() as lag:
        took = sorted(await asyncio.gather(*[one() for _ in range(calls)]))
    assert took[0] >= timeout - 0.05, f"a call gave up early, after {took[0]:.2f} s"
    assert took[-1] < timeout + 1.0 + lag.lost, (
        f"the slowest call took {took[-1]:.1f} s; the loop could not run for {lag.lost:.1f} s"
    )


class LoopLag:
    """How long the running loop could not run a 20 ms ticker on time (busy or descheduled)."""

    TICK = 0.02

    def __init__(self) -> None:
        self.lost = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.TICK)
            self.lost += max(0.0, time.monotonic() - before - self.TICK)

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@pytest.fixture
def stand_ins() -> Iterator[list[StandInService]]:
    """24 services, so 24 configurations (origins) are in use at once: more than the pool keeps."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(StandInService(max_recorded=100)) for _ in range(24)]


@pytest.mark.timeout(120)
@pytest.mark.slow
async def test_rotating_through_more_configurations_than_the_pool_keeps_loses_no_call(
    stand_ins: list[StandInService],
) -> None:
    """24 configurations x 40 concurrent calls, four rounds, no retries to hide a failure."""
    assert len(stand_ins) > MAX_SESSIONS_PER_LOOP
    outcomes: Counter[str] = Counter()
    for round_number in range(4):

        async def one(index: int, round_number: int = round_number) -> None:
            service = stand_ins[index % len(stand_ins)]
            prompt = f"r{round_number}-{index}"
            try:
                answer = await Aichat.create_async(
                    "",
                    [{"role": "user", "content": prompt}],
                    cookies=COOKIES,
                    base_url=service.base_url,
                    max_retries=0,
                    timeout=30,
                )
            except errors.ProviderError as error:
                outcomes[f"{type(error).__name__}: {error}"] += 1
            else:
                outcomes["answered" if answer == f"echo: {prompt}" else "wrong answer"] += 1

        await asyncio.gather(*[one(index) for index in range(len(stand_ins) * 40)])
    assert outcomes == Counter({"answered": 4 * 24 * 40})


@pytest.mark.timeout(60)
@pytest.mark.slow
async def test_the_deadline_covers_the_wait_for_a_handle_after_many_calls(
    service: StandInService,
) -> None:
    """The count of requests in flight decides whose deadline covers the wait for a curl handle;
    it must come back to zero after each call, or after enough calls a burst waits outside it."""
    timeout = 1.0
    async with StreamSession(max_clients=2, timeout=timeout) as session:
        for _ in range(6):  # answered, one after another
            await session.post_json(f"{service.base_url}/api/text", {"message": "x"}, headers={})
        service.set_default(Reply.hang())

        async def timed() -> float:
            started = time.monotonic()
            with pytest.raises(errors.ProviderTimeoutError):
                await session.post_json(f"{service.base_url}/api/text", {}, headers={})
            return time.monotonic() - started

        durations = await asyncio.gather(*(timed() for _ in range(6)))
    # Waiting outside the deadline, the last two of six would take three timeouts.
    assert max(durations) < timeout + 1.0, [round(d, 2) for d in durations]
