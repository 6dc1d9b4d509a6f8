"""Connection reuse: one connection for many calls, no cookie bleed, clean close."""

from __future__ import annotations

import asyncio
import threading

import pytest

import aichat_provider
from aichat_provider import Aichat, errors
from aichat_provider._pool import pooled_session_count
from aichat_provider.testing import RecordedRequest, Reply, StandInService
from support.proxy import ConnectProxy
from support.secrets import COOKIES, USER


def kwargs_for(service: StandInService, **extra: object) -> dict[str, object]:
    kwargs: dict[str, object] = {"cookies": COOKIES, "base_url": service.base_url, **extra}
    if service.ca_path:
        kwargs["verify"] = service.ca_path
    return kwargs


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_sequential_calls_share_one_connection(
    scheme: str, service: StandInService, tls_service: StandInService
) -> None:
    stand_in = tls_service if scheme == "https" else service
    for _ in range(25):
        assert await Aichat.create_async("", USER, **kwargs_for(stand_in)) == "echo: Hi"
    assert len(stand_in.requests) == 25
    assert stand_in.connections == 1
    assert {r.connection for r in stand_in.requests} == {1}


async def test_shared_connections_never_share_cookies(service: StandInService) -> None:
    """Every reply sets a cookie; a later call on the same connection must not send it back."""
    service.set_default(Reply(headers=(("Set-Cookie", "leaked=from-server; Path=/"),)))

    def answer(request: RecordedRequest) -> str:
        return f"{request.prompt}|{request.header('cookie')}"

    service.answer = answer
    rounds = []
    for round_number in range(3):
        calls = [
            Aichat.create_async(
                "",
                [{"role": "user", "content": f"r{round_number}-{i}"}],
                cookies={"session": f"user-{i}"},
                base_url=service.base_url,
            )
            for i in range(50)
        ]
        rounds.append(await asyncio.gather(*calls))
    for round_number, answers in enumerate(rounds):
        assert answers == [f"r{round_number}-{i}|session=user-{i}" for i in range(50)]
    assert service.connections < 150  # connections were reused across rounds


async def test_configurations_that_must_not_share_get_separate_sessions(
    tls_service: StandInService,
) -> None:
    base = kwargs_for(tls_service)
    await Aichat.create_async("", USER, **base)
    await Aichat.create_async("", USER, **base, impersonate="chrome131")
    with ConnectProxy() as proxy:
        await Aichat.create_async("", USER, **base, proxy=proxy.url)
        assert len(proxy.tunnels) == 1
        await Aichat.create_async("", USER, **base)  # not through the proxy
        assert len(proxy.tunnels) == 1
    assert pooled_session_count() == 3
    await Aichat.create_async("", USER, **base, temperature=1.5, timeout=30)
    assert pooled_session_count() == 3  # per-request settings share the session


async def test_aclose_closes_the_loops_connections(service: StandInService) -> None:
    await Aichat.create_async("", USER, **kwargs_for(service))
    assert service.open_connections == 1
    await Aichat.aclose()
    assert pooled_session_count() == 0
    assert service.wait_for_open_connections(0)
    assert await Aichat.create_async("", USER, **kwargs_for(service)) == "echo: Hi"
    assert service.connections == 2


async def test_connection_pool_context_manager(service: StandInService) -> None:
    async with aichat_provider.connection_pool():
        await Aichat.create_async("", USER, **kwargs_for(service))
        await Aichat.create_async("", USER, **kwargs_for(service))
        assert service.open_connections == 1
    assert service.wait_for_open_connections(0)


def test_asyncio_run_many_times_closes_each_loops_connections(service: StandInService) -> None:
    """Each ``asyncio.run`` gets its own pool, closed when that loop shuts down."""
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            answer = asyncio.run(Aichat.create_async("", USER, **kwargs_for(service)))
            assert answer == "echo: Hi"
        except BaseException as exc:
            errors.append(exc)

    for run in range(1, 6):
        worker = threading.Thread(target=one_run)  # a thread, so no loop is running around it
        worker.start()
        worker.join(timeout=30)
        assert errors == []
        assert service.connections == run
        assert service.wait_for_open_connections(0), f"run {run} left its connection open"


async def test_concurrent_calls_reuse_a_bounded_number_of_connections(
    service: StandInService,
) -> None:
    for _ in range(3):
        await asyncio.gather(
            *[Aichat.create_async("", USER, **kwargs_for(service)) for _ in range(100)]
        )
    assert len(service.requests) == 300
    assert service.connections <= 100


async def test_an_evicted_session_finishes_its_calls_before_it_closes(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the per-loop limit the least recently used session goes, but not under a call."""
    from aichat_provider import _pool

    monkeypatch.setattr(_pool, "MAX_SESSIONS_PER_LOOP", 1)
    service.push(Reply.delayed(0.5))
    slow = asyncio.create_task(Aichat.create_async("", USER, **kwargs_for(service)))
    assert await asyncio.to_thread(service.wait_for_requests, 1)
    # another configuration evicts the slow call's session while the call is running
    other = await Aichat.create_async("", USER, **kwargs_for(service, impersonate="chrome131"))
    assert other == "echo: Hi"
    assert await slow == "echo: Hi"
    assert pooled_session_count() == 1
    assert service.wait_for_open_connections(1)  # the evicted session closed its connection


async def test_aclose_under_a_running_call_fails_it_as_a_connection_error(
    service: StandInService,
) -> None:
    service.push(Reply.delayed(1.0))
    running = asyncio.create_task(
        Aichat.create_async("", USER, **kwargs_for(service, max_retries=0))
    )
    assert await asyncio.to_thread(service.wait_for_requests, 1)
    await Aichat.aclose()
    with pytest.raises(errors.ProviderConnectionError, match="without an HTTP reply"):
        await running


@pytest.mark.slow
async def test_a_verify_false_call_never_lends_its_session_to_a_verifying_call(
    tls_service: StandInService,
) -> None:
    """TLS settings are part of what must not be shared: after a call that turned
    verification off, a call on the same loop with verification on still refuses the
    untrusted certificate, before its cookies are sent."""
    kwargs = {"cookies": COOKIES, "base_url": tls_service.base_url, "max_retries": 0}
    assert await Aichat.create_async("", USER, verify=False, **kwargs) == "echo: Hi"
    with pytest.raises(errors.ProviderConnectionError) as caught:
        await Aichat.create_async("", USER, **kwargs)
    assert "TLS" in str(caught.value)
    assert caught.value.transient is False
    assert len(tls_service.requests) == 1  # the verifying call sent nothing


async def test_eviction_under_a_running_call_loses_nothing_without_retries(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no retries to hide a failure: an evicted session finishes the call it carries."""
    from aichat_provider import _pool

    monkeypatch.setattr(_pool, "MAX_SESSIONS_PER_LOOP", 1)
    service.push(Reply.delayed(0.5))
    slow = asyncio.create_task(Aichat.create_async("", USER, **kwargs_for(service, max_retries=0)))
    assert await asyncio.to_thread(service.wait_for_requests, 1)
    for target in ("chrome131", "chrome124", "chrome120"):  # three evictions meanwhile
        other = kwargs_for(service, impersonate=target, max_retries=0)
        assert await Aichat.create_async("", USER, **other) == "echo: Hi"
    assert await slow == "echo: Hi"
    assert len(service.requests) == 4  # one request each: nothing was retried


async def test_an_idle_session_evicted_is_closed_at_once(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session no call holds is closed when it is evicted, not left open until the loop ends."""
    from aichat_provider import _pool

    monkeypatch.setattr(_pool, "MAX_SESSIONS_PER_LOOP", 1)
    assert await Aichat.create_async("", USER, **kwargs_for(service)) == "echo: Hi"
    first = service.requests[0]
    other = kwargs_for(service, impersonate="chrome131")
    assert await Aichat.create_async("", USER, **other) == "echo: Hi"
    assert await asyncio.to_thread(service.wait_for_close, first)
    assert pooled_session_count() == 1


@pytest.mark.slow
async def test_an_evicted_session_stays_open_until_its_last_call_ends(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two calls on a session when it is evicted: the first to finish must not close it under
    the second."""
    from aichat_provider import _pool

    monkeypatch.setattr(_pool, "MAX_SESSIONS_PER_LOOP", 1)
    service.push(Reply.delayed(0.3), Reply.delayed(1.0))
    calls = [
        asyncio.create_task(Aichat.create_async("", USER, **kwargs_for(service, max_retries=0)))
        for _ in range(2)
    ]
    assert await asyncio.to_thread(service.wait_for_requests, 2)
    other = kwargs_for(service, impersonate="chrome131", max_retries=0)
    assert await Aichat.create_async("", USER, **other) == "echo: Hi"
    assert await asyncio.gather(*calls) == ["echo: Hi", "echo: Hi"]
    assert len(service.requests) == 3


def test_a_loop_that_made_no_call_holds_no_session() -> None:
    async def count() -> int:
        return pooled_session_count()

    assert asyncio.run(count()) == 0
