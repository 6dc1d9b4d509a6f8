"""Driving the user's own Chrome-family browser for ``aichat login`` and the automatic refresh.

Playwright (the ``login`` extra) drives the installed browser through ``executable_path``; it
never downloads one. It was chosen over nodriver, zendriver and pydoll, each tried against
Chromium and a Cloudflare-style check, because its own close writes the profile's cookie store to
disk (the others stop the browser too abruptly and lose it), it is well kept and Apache-licensed
(nodriver and zendriver are AGPL), and it is fully typed. Two things make a Playwright-driven
browser look like a person's: ``--disable-blink-features=AutomationControlled`` (Playwright's
pipe would otherwise set ``navigator.webdriver``), and, headless, the browser's own user agent
with "HeadlessChrome" written "Chrome".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _constants
from .._extras import install_hint
from ..cookies._store import private_folder
from ..errors import LoginError

logger = logging.getLogger("aichat_provider")

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Playwright


#: Flags for a browser that should not phone home or ask first-run questions.
BASE_ARGS = (
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-blink-features=AutomationControlled",
)
HEADLESS_ARGS = ("--disable-gpu", "--disable-quic")
CHALLENGE_TITLE = "just a moment"


def _args(headless: bool) -> list[str]:
    args = list(BASE_ARGS)
    if headless:
        args += HEADLESS_ARGS
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return args


def _playwright() -> Any:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise LoginError(
            f"Logging in with a browser needs the login extra: {install_hint('login')}"
        ) from None
    return async_playwright()


@dataclass
class Visit:
    """What a visit saw: the cookies of the host (Playwright's dicts), the page's user agent,
    and whether a Cloudflare-style challenge showed up on the way."""

    cookies: list[dict[str, Any]] = field(default_factory=list)
    user_agent: str | None = None
    #: A challenge page showed up at some point; ``blocked``: the page is one right now.
    challenged: bool = False
    blocked: bool = False

    @property
    def names(self) -> set[str]:
        return {str(cookie.get("name")) for cookie in self.cookies}


async def _headless_user_agent(playwright: Playwright, executable: Path) -> str:
    """The browser's own user agent, as its visible window would send it."""
    browser = await playwright.chromium.launch(
        executable_path=str(executable), headless=True, args=_args(True)
    )
    try:
        page = await browser.new_page()
        agent: str = await page.evaluate("navigator.userAgent")
    finally:
        await browser.close()
    return agent.replace("HeadlessChrome/", "Chrome/")


@contextlib.asynccontextmanager
async def open_browser(
    executable: Path,
    profile: Path,
    *,
    headless: bool,
    debugging_port: int | None = None,
) -> AsyncIterator[BrowserContext]:
    """The browser on its persistent ``profile``, closed (and its cookies written) on exit."""
    # The profile holds the login's cookies: a folder of this user's only (see private_folder).
    await asyncio.to_thread(private_folder, profile)
    args = _args(headless)
    if debugging_port is not None:
        args.append(f"--remote-debugging-port={debugging_port}")
    async with _playwright() as playwright:
        agent = await _headless_user_agent(playwright, executable) if headless else None
        try:
            context = await playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(executable),
                headless=headless,
                args=args,
                user_agent=agent,
                no_viewport=not headless,
                timeout=_constants.LOGIN_LAUNCH_TIMEOUT * 1000,
            )
        except Exception as exc:  # Playwright's own errors, a profile in use, a bad binary
            raise LoginError(_launch_failure(executable, exc)) from None
        try:
            yield context
        finally:
            with contextlib.suppress(Exception):  # closed by the user already
                await context.close()


def _launch_failure(executable: Path, exc: Exception) -> str:
    text = str(exc)
    if "ProcessSingleton" in text or "SingletonLock" in text:
        return (
            "The login browser profile is in use by another browser window; close it (or "
            "finish 'aichat login' there) and try again."
        )
    first = text.strip().splitlines()[0][:200] if text.strip() else type(exc).__name__
    return f"{executable} could not be started ({first})."


async def visit(
    context: BrowserContext,
    url: str,
    *,
    cookie_url: str,
    done: Callable[[Visit], bool],
    timeout: float,
    interrupt: Awaitable[Any] | None = None,
) -> Visit:
    """Open ``url`` and watch the host's cookies until ``done(visit)`` says so, the user closes
    the browser, ``interrupt`` completes (the user pressed Enter), or ``timeout`` passes."""
    seen = Visit()
    closed = asyncio.Event()
    context.on("close", lambda _: closed.set())
    page = context.pages[0] if context.pages else await context.new_page()
    with contextlib.suppress(Exception):  # a challenge answers 403: still a page to watch
        await page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    interrupted = asyncio.ensure_future(interrupt) if interrupt is not None else None
    finishing_by: float | None = None
    try:
        while True:
            if closed.is_set():  # the person closed the window: what it saw is all there is
                return seen
            if finishing_by is None and interrupted is not None and interrupted.done():
                # Enter was pressed, maybe the moment the page passed the check: the last look
                # may be older than that, so keep looking a little while for a page past it.
                finishing_by = time.monotonic() + _constants.LOGIN_FINAL_LOOK
            looked = False
            try:
                # The page first, then its cookies: a page past the check means the cookie
                # that got it there is already set, so the cookies read next include it.
                blocked = CHALLENGE_TITLE in (await page.title()).lower()
                agent = await page.evaluate("navigator.userAgent")
                cookies = [dict(cookie) for cookie in await context.cookies(cookie_url)]
                looked = True
            except Exception as exc:  # navigating (the challenge reloads the page), or closed
                logger.debug("the login page is busy (%s); looking again", type(exc).__name__)
            if looked:  # a whole, consistent look at one page, never half of two
                seen.cookies, seen.user_agent, seen.blocked = cookies, agent, blocked
                seen.challenged = seen.challenged or blocked
                if done(seen):
                    return seen
            if finishing_by is not None:
                if time.monotonic() > finishing_by:
                    return seen
                await asyncio.sleep(_constants.LOGIN_POLL / 5)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LoginError(
                    f"no usable cookies within {timeout:g} s: sign in and pass the site's check "
                    "in the browser's window sooner, or allow longer (aichat login --timeout "
                    "SECONDS; the timeout argument of login() in Python)"
                )
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(closed.wait())]
            if interrupted is not None:
                waiters.append(interrupted)
            await asyncio.wait(waiters, timeout=min(_constants.LOGIN_POLL, remaining))
            waiters[0].cancel()
    finally:
        if interrupted is not None and not interrupted.done():
            interrupted.cancel()


def past_the_check(seen: Visit, wait_for: Sequence[str] = ()) -> bool:
    """Whether a visit is done: not on a challenge page, ``cf_clearance`` there if a challenge
    showed up, at least one cookie, and every cookie named in ``wait_for``."""
    names = seen.names
    return (
        not seen.blocked
        and bool(names)
        and (not seen.challenged or "cf_clearance" in names)
        and set(wait_for) <= names
    )
