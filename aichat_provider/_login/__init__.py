"""``aichat login`` and the automatic refresh: cookies earned by the user's own browser.

:func:`login` opens the chat page in the user's installed Chrome-family browser, on a profile of
its own (one per host, in the user's data directory), waits until the visit is past the sign-in
and any Cloudflare check, and saves the host's cookies with that browser's user agent in the
cookie store, which every later call reads. :func:`renew` does one headless visit on the same
profile when the service turns the cookies down; concurrent calls share one renewal.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

from .. import _constants
from .._urls import Endpoints, parse_base_url
from ..cookies._sources import store_cache
from ..cookies._store import StoredLogin, browser_profile_dir, save_login, store_path
from ..errors import LoginError
from ._browser import Visit, open_browser, past_the_check, visit
from ._find import find_browser

__all__ = ["LoginError", "locate_browser", "login", "renew"]

logger = logging.getLogger("aichat_provider")


def locate_browser(browser: str | os.PathLike[str] | None = None) -> Path:
    """The browser to drive: ``browser``, else ``$AICHAT_BROWSER``, else the first installed
    Chrome, Chromium, Edge or Brave. LoginError when there is none."""
    named = browser or os.environ.get(_constants.ENV_BROWSER)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise LoginError(f"The browser {str(path)!r} does not exist; check the path.")
        return path
    found = find_browser()
    if found is None:
        raise LoginError(
            "No Chrome, Chromium, Edge or Brave was found on this machine (on PATH or where "
            "their installers put them). Install one, or name yours with --browser-path or "
            f"{_constants.ENV_BROWSER}."
        )
    return found


async def login(
    base_url: str | None = None,
    *,
    headless: bool = False,
    browser: str | os.PathLike[str] | None = None,
    timeout: float = _constants.LOGIN_TIMEOUT,
    wait_for: Sequence[str] = (),
    until: Awaitable[Any] | None = None,
    debugging_port: int | None = None,
) -> StoredLogin:
    """Open the chat page in the user's browser and save the cookies it earns.

    The visit is done when the page is past any Cloudflare check (with ``cf_clearance``), holds
    cookies for the host, and every cookie named in ``wait_for`` is there; in a visible browser
    also when ``until`` completes (the command line passes "Enter was pressed") or the person
    closes the window. ``debugging_port`` opens a DevTools port so another program can drive the
    page (tests do). Raises LoginError with the next step when it cannot.
    """
    endpoints = parse_base_url(base_url or os.environ.get(_constants.ENV_BASE_URL) or None)
    executable = await asyncio.to_thread(locate_browser, browser)
    profile = browser_profile_dir(endpoints.host)

    def done(seen: Visit) -> bool:
        return past_the_check(seen, wait_for) and (headless or bool(wait_for) or until is None)

    async with open_browser(
        executable, profile, headless=headless, debugging_port=debugging_port
    ) as context:
        seen = await visit(
            context,
            endpoints.referer,
            cookie_url=endpoints.api_url,
            done=done,
            timeout=timeout,
            interrupt=until,
        )
    return await asyncio.to_thread(_save, endpoints, seen, executable, wait_for)


def _save(
    endpoints: Endpoints, seen: Visit, executable: Path, wait_for: Sequence[str]
) -> StoredLogin:
    if seen.blocked or (seen.challenged and "cf_clearance" not in seen.names):
        raise LoginError(
            "The browser did not get past the Cloudflare check; run 'aichat login' without "
            "--headless and pass it in the window."
        )
    missing = sorted(set(wait_for) - seen.names)
    if missing or not seen.names:
        what = ", ".join(missing) if missing else "any cookie"
        raise LoginError(
            f"The browser has no {what} for {endpoints.host}; sign in in the window and try again."
        )
    stored = save_login(
        host=endpoints.host,
        base_url=endpoints.base_url,
        cookies=seen.cookies,
        user_agent=seen.user_agent,
        browser=executable.name,
    )
    store_cache.recheck(store_path(endpoints.host))
    return stored


# --- the automatic refresh --------------------------------------------------------------------

_renewals: dict[str, concurrent.futures.Future[StoredLogin]] = {}
_renewals_lock = threading.Lock()


async def renew(
    endpoints: Endpoints, *, timeout: float = _constants.REFRESH_TIMEOUT
) -> StoredLogin:
    """Renew the stored cookies of ``endpoints.host`` with one headless visit on the login
    profile. Calls that need it at the same time, on any thread or loop, share one visit.

    Raises LoginError (no login profile, no browser, the check not passed in ``timeout``).
    """
    if not await asyncio.to_thread(browser_profile_dir(endpoints.host).is_dir):
        raise LoginError(f"there is no login profile for {endpoints.host} yet")
    with _renewals_lock:
        future = _renewals.get(endpoints.host)
        if future is None:
            future = _renewals[endpoints.host] = concurrent.futures.Future()
            threading.Thread(
                target=_renew_in_thread,
                args=(endpoints, timeout, future),
                name="aichat-refresh",
                daemon=True,
            ).start()
    try:
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
    except asyncio.TimeoutError:
        raise LoginError(f"the headless visit did not finish within {timeout:g} s") from None


def _renew_in_thread(
    endpoints: Endpoints, timeout: float, future: concurrent.futures.Future[StoredLogin]
) -> None:
    try:
        result = asyncio.run(_renew(endpoints, timeout))
    except BaseException as exc:
        future.set_exception(exc if isinstance(exc, Exception) else LoginError(str(exc)))
    else:
        future.set_result(result)
    finally:
        with _renewals_lock:
            _renewals.pop(endpoints.host, None)


async def _renew(endpoints: Endpoints, timeout: float) -> StoredLogin:
    executable = locate_browser()
    profile = browser_profile_dir(endpoints.host)
    async with open_browser(executable, profile, headless=True) as context:
        seen = await visit(
            context,
            endpoints.referer,
            cookie_url=endpoints.api_url,
            done=past_the_check,
            timeout=timeout,
        )
    logger.debug("refresh for %s: %d cookies", endpoints.host, len(seen.cookies))
    return _save(endpoints, seen, executable, ())
