"""What ``aichat login`` must refuse or keep private, with real Chromium: cookies earned past a
challenge without ``cf_clearance`` are not saved, and the browser profile folder it makes is the
user's alone."""

from __future__ import annotations

import asyncio
import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from aichat_provider import errors, login
from aichat_provider.cookies._store import browser_profile_dir, store_path
from aichat_provider.testing import Challenge, StandInService
from support.browsers import chromium
from support.real_browsers import wait_until

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


@pytest.fixture(autouse=True)
def data_dir(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AICHAT_DATA_DIR", raising=False)
    monkeypatch.delenv("AICHAT_BROWSER", raising=False)
    return home / ".local/share/aichat-provider"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(endpoint: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint}/json/version", timeout=2):  # noqa: S310
            return True
    except OSError:
        return False


async def until_the_login_saw_the_challenge(page: Any) -> None:
    """The challenge is on the page, and the login has had time for several looks at it (it
    records a challenge only when one of its looks saw it)."""
    from aichat_provider._constants import LOGIN_POLL

    await page.wait_for_function(
        "document.title.toLowerCase().includes('just a moment')", timeout=30_000
    )
    await asyncio.sleep(8 * LOGIN_POLL)


async def test_cookies_seen_after_a_challenge_without_cf_clearance_are_not_saved(
    home: Path,
) -> None:
    """The page showed a challenge, then left it (here: for a blank page) with a cookie of the
    host but no cf_clearance; Enter is pressed. Such cookies would be refused by Cloudflare on
    the first call, so the login says what to do and saves nothing."""
    from playwright.async_api import async_playwright

    chromium()
    port = free_port()
    with StandInService(challenge=Challenge(delay=60)) as service:
        pressed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            login(service.base_url, headless=True, until=pressed, debugging_port=port, timeout=90)
        )
        await asyncio.to_thread(
            wait_until, lambda: service.site.page_challenges >= 1, 30, "a visit"
        )
        async with async_playwright() as playwright:
            endpoint = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(wait_until, lambda: _answers(endpoint), 30, "the DevTools port")
            browser = await playwright.chromium.connect_over_cdp(endpoint)
            context = browser.contexts[0]
            await until_the_login_saw_the_challenge(context.pages[0])
            await context.add_cookies(
                [{"name": "session", "value": "no-clearance", "url": service.base_url}]
            )
            await context.pages[0].goto("about:blank")
            pressed.set_result(None)
            with pytest.raises(errors.LoginError, match="did not get past the Cloudflare check"):
                await asyncio.wait_for(task, 60)
    assert not store_path("127.0.0.1").exists()


async def test_the_login_profile_folder_is_made_private_before_the_browser_starts(
    home: Path, data_dir: Path
) -> None:
    """Even when the browser then fails to start (here a program that is no browser), the
    profile folder it would have written cookies to is 0700, in 0700 folders."""
    with pytest.raises(errors.LoginError, match="could not be started"):
        await login("http://127.0.0.1:9", headless=False, browser="/bin/true", timeout=5)
    profile = browser_profile_dir("127.0.0.1")
    assert stat.S_IMODE(profile.stat().st_mode) == 0o700
    assert stat.S_IMODE(profile.parent.stat().st_mode) == 0o700


async def test_a_visit_that_saw_a_challenge_waits_for_cf_clearance(home: Path) -> None:
    """Off the challenge page with a cookie of the host but no cf_clearance yet, the login keeps
    watching; once cf_clearance arrives it saves both."""
    from playwright.async_api import async_playwright

    from aichat_provider._constants import LOGIN_POLL

    chromium()
    port = free_port()
    with StandInService(challenge=Challenge(delay=60)) as service:
        task = asyncio.create_task(
            login(service.base_url, headless=True, debugging_port=port, timeout=90)
        )
        await asyncio.to_thread(
            wait_until, lambda: service.site.page_challenges >= 1, 30, "a visit"
        )
        async with async_playwright() as playwright:
            endpoint = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(wait_until, lambda: _answers(endpoint), 30, "the DevTools port")
            browser = await playwright.chromium.connect_over_cdp(endpoint)
            context = browser.contexts[0]
            await until_the_login_saw_the_challenge(context.pages[0])
            await context.add_cookies(
                [{"name": "session", "value": "first", "url": service.base_url}]
            )
            await context.pages[0].goto("about:blank")
            await asyncio.sleep(3 * LOGIN_POLL)  # several looks at a page past the challenge
            assert not task.done()
            await context.add_cookies(
                [{"name": "cf_clearance", "value": "then", "url": service.base_url}]
            )
            stored = await asyncio.wait_for(task, 60)
    assert sorted(c.name for c in stored.cookies) == ["cf_clearance", "session"]


@pytest.mark.parametrize(
    ("challenge", "wait_for", "phrase"),
    [
        (Challenge(delay=0.3), ["session"], "has no session for 127.0.0.1"),
        (None, [], "has no any cookie for 127.0.0.1"),
    ],
    ids=["wait-for-cookie-missing", "no-cookie-at-all"],
)
async def test_enter_without_the_cookies_asked_for_saves_nothing(
    challenge: Challenge | None, wait_for: list[str], phrase: str, home: Path
) -> None:
    """Enter is pressed on a page past the check that lacks a cookie ``--wait-for`` names, or
    that set no cookie at all: the login says so and keeps the store as it was."""
    chromium()
    with StandInService(challenge=challenge) as service:
        pressed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            login(service.base_url, headless=True, wait_for=wait_for, until=pressed, timeout=90)
        )
        # the chat page itself, served past any check
        await asyncio.to_thread(wait_until, lambda: service.site.chat_pages >= 1, 30, "a visit")
        pressed.set_result(None)
        with pytest.raises(errors.LoginError, match=phrase):
            await asyncio.wait_for(task, 60)
    assert not store_path("127.0.0.1").exists()


async def test_login_goes_where_aichat_base_url_points(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a base_url argument the login visits ``AICHAT_BASE_URL``, as every call does."""
    chromium()
    with StandInService(challenge=Challenge(delay=0.3)) as service:
        monkeypatch.setenv("AICHAT_BASE_URL", service.base_url)
        stored = await login(headless=True, timeout=60)
        assert service.site.page_challenges >= 1
    assert stored.base_url == service.base_url
    assert [c.name for c in stored.cookies] == ["cf_clearance"]
