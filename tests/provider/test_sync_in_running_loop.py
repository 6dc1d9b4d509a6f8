"""``create_completion`` inside a running event loop (Jupyter, an async handler, gpt4free's sync
calls made from async code): the call runs on a private thread's own loop, blocks the caller,
and leaves the caller's loop, its connection pool and the cookie cache as they were."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors
from aichat_provider._pool import _pools, pooled_session_count
from aichat_provider.testing import Reply, StandInService
from support.calls import Counted
from support.profiles import Cookie, build_firefox_profile
from support.secrets import COOKIES, USER, assert_no_secrets, exposed_text


def sync_call(service: StandInService, **extra: object) -> list[str]:
    """What a synchronous caller (or gpt4free's ``ChatCompletion.create``) does."""
    kwargs: dict[str, object] = {"cookies": COOKIES, "base_url": service.base_url, **extra}
    return list(Aichat.create_completion("gpt-3.5-turbo", USER, **kwargs))


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_answers_inside_a_running_loop(service: StandInService) -> None:
    assert sync_call(service) == ["echo: Hi"]
    assert service.requests[0].cookies == COOKIES
    # The call used a loop of its own: the caller's loop has no pooled session, and the private
    # loop's connection was closed when its call ended.
    assert pooled_session_count() == 0
    assert service.wait_for_open_connections(0)


async def test_blocks_the_caller_until_the_whole_answer(service: StandInService) -> None:
    service.push(Reply.delayed(0.3))
    started = time.monotonic()
    assert sync_call(service) == ["echo: Hi"]
    assert time.monotonic() - started >= 0.3


async def test_the_callers_pooled_connection_is_kept_and_reused(service: StandInService) -> None:
    kwargs = {"cookies": COOKIES, "base_url": service.base_url}
    assert await Aichat.create_async("", USER, **kwargs) == "echo: Hi"
    for _ in range(5):
        assert sync_call(service) == ["echo: Hi"]
    assert await Aichat.create_async("", USER, **kwargs) == "echo: Hi"
    connections = [request.connection for request in service.requests]
    assert connections[0] == connections[-1]  # the caller's loop kept its connection
    assert len(set(connections[1:-1])) == 5  # each private loop had (and closed) its own
    assert pooled_session_count() == 1
    assert service.wait_for_open_connections(1)


@pytest.mark.slow
async def test_many_calls_leak_no_thread_loop_or_descriptor(service: StandInService) -> None:
    sync_call(service)  # warm up: imports, curl's first-use allocations
    gc.collect()
    threads, loops, descriptors = threading.active_count(), len(_pools), open_descriptors()
    for _ in range(40):
        assert sync_call(service) == ["echo: Hi"]
    assert service.wait_for_open_connections(0)
    assert eventually(lambda: threading.active_count() <= threads)
    gc.collect()
    assert len(_pools) <= loops  # every private loop and its pool are gone
    assert open_descriptors() <= descriptors + 2


async def test_typed_errors_reach_the_caller_unchanged(service: StandInService) -> None:
    service.set_default(Reply.status(403, body=b"bad session"))
    with pytest.raises(errors.AuthenticationError) as caught:
        sync_call(service, max_retries=0)
    assert caught.value.provider == "Aichat"
    assert caught.value.url == f"{service.base_url}/api/text"
    assert_no_secrets(exposed_text(caught.value))
    assert service.wait_for_open_connections(0)


async def test_bad_arguments_fail_before_any_request(service: StandInService) -> None:
    with pytest.raises(errors.InvalidRequestError):
        sync_call(service, temperature=7)
    assert service.requests == []


@pytest.mark.slow
async def test_an_unused_generator_sends_nothing(service: StandInService) -> None:
    Aichat.create_completion("", USER, cookies=COOKIES, base_url=service.base_url)
    gc.collect()
    assert service.requests == []


async def test_browser_cookie_cache_is_shared_with_private_loops_and_dropped_on_rejection(
    home: Path, browser_reads: Counted[..., object]
) -> None:
    database = build_firefox_profile(home, [Cookie("localhost", "session", "first")])
    with StandInService() as local:
        call = {"browser": "firefox", "base_url": f"http://localhost:{local.port}"}
        assert list(Aichat.create_completion("", USER, **call)) == ["echo: Hi"]
        assert await Aichat.create_async("", USER, **call) == "echo: Hi"  # the caller's loop
        assert browser_reads.calls == 1  # one read, cached across the loops
        local.push(Reply.status(403))
        with pytest.raises(errors.AuthenticationError):
            list(Aichat.create_completion("", USER, **call, max_retries=0))
        _set_firefox_value(database, "second")
        assert list(Aichat.create_completion("", USER, **call)) == ["echo: Hi"]
        assert browser_reads.calls == 2  # the rejected cookies were read again
        sent = [request.cookies["session"] for request in local.requests]
        assert sent == ["first", "first", "first", "second"]


def _set_firefox_value(database: Path, value: str) -> None:
    with sqlite3.connect(database) as con:
        con.execute("UPDATE moz_cookies SET value = ?", (value,))
    con.close()


def test_outside_a_loop_it_is_the_plain_synchronous_call(service: StandInService) -> None:
    assert sync_call(service) == ["echo: Hi"]
    assert service.wait_for_open_connections(0)  # asyncio.run closed the loop's sessions
