"""``aichat login``: sign in and pass the Cloudflare check in your own browser, once; every
later call uses the cookies it saves (with that browser's user agent)."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import sys
import threading
import time

from .. import _constants, errors
from .._login import login
from .._urls import parse_base_url
from ..cookies._store import StoredLogin
from ._commands import SUMMARIES
from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SETUP,
    add_verbose_flag,
    configure_logging,
    exit_code_for,
    install_hint,
    report_error,
    shown_path,
)

__all__ = ["NAME", "SUMMARY", "configure", "run"]

NAME = "login"
SUMMARY = SUMMARIES[NAME]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Open the chat page in your Chrome, Chromium, Edge or Brave, on a profile of its own. "
        "Sign in and pass any check there; the host's cookies and the browser's user agent are "
        "saved (file mode 0600) and used by every later call. Needs the login extra."
    )
    parser.add_argument("--base-url", help="the site (default: $AICHAT_BASE_URL or chat-gpt.org)")
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no window: for a check that passes by itself (no sign-in possible)",
    )
    parser.add_argument(
        "--browser-path",
        help=f"the browser to start (default: ${_constants.ENV_BROWSER}, or found)",
    )
    parser.add_argument(
        "--wait-for",
        action="append",
        default=[],
        metavar="COOKIE",
        help="finish as soon as this cookie is there (repeatable); else press Enter when done",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=_constants.LOGIN_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the sign-in (default: {_constants.LOGIN_TIMEOUT:g})",
    )
    add_verbose_flag(parser)


def missing_setup(headless: bool) -> str | None:
    """What ``aichat login`` needs and this machine lacks (the login extra, a display)."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return f"aichat login needs the login extra (Playwright): {install_hint('login')}"
    if headless or sys.platform in ("darwin", "win32") or os.name == "nt":
        return None
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return (
            "no display to open the browser on: run 'aichat login' on a desktop (or over ssh -X), "
            "or use --headless for a check that passes by itself"
        )
    return None


def run(args: argparse.Namespace) -> int:
    configure_logging(args.verbose)
    missing = missing_setup(args.headless)
    if missing is not None:
        report_error(missing)
        return EXIT_SETUP
    try:
        endpoints = parse_base_url(args.base_url or os.environ.get(_constants.ENV_BASE_URL) or None)
        stored = asyncio.run(_login(args, endpoints.referer))
    except errors.ProviderError as error:
        report_error(error)
        return exit_code_for(error)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    print(describe(stored), flush=True)
    return EXIT_OK


async def _login(args: argparse.Namespace, page: str) -> StoredLogin:
    interactive = not args.headless and not args.wait_for and _stdin_is_a_terminal()
    if args.headless:  # no window to watch: say what it waits for, or the wait looks like a hang
        print(
            f"Opening {page} without a window; waiting up to {args.timeout:g} s for the site to "
            "set its cookies. A sign-in needs a window: run 'aichat login' without --headless.",
            file=sys.stderr,
            flush=True,
        )
    else:
        how = "press Enter here (or close the window)" if interactive else "close the window"
        if args.wait_for:
            how = f"this ends by itself once {', '.join(args.wait_for)} is set"
        print(
            f"Opening {page} in your browser. Sign in and pass any check there; {how}.",
            file=sys.stderr,
            flush=True,
        )
    enter = _enter_pressed() if interactive else None
    return await login(
        args.base_url,
        headless=args.headless,
        browser=args.browser_path,
        timeout=args.timeout,
        wait_for=args.wait_for,
        until=enter,
    )


def _stdin_is_a_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _enter_pressed() -> asyncio.Future[str]:
    """Completes when a line is read from the terminal (a daemon thread: it never holds up the
    exit when the login ends another way)."""
    future: concurrent.futures.Future[str] = concurrent.futures.Future()

    def read() -> None:
        try:
            future.set_result(sys.stdin.readline())
        except Exception as exc:  # stdin closed under us
            future.set_exception(exc)

    threading.Thread(target=read, name="aichat-login-enter", daemon=True).start()
    return asyncio.wrap_future(future)


def describe(stored: StoredLogin) -> str:
    """What was saved: names and expiry dates, never a value."""
    lines = [f"Saved {len(stored.cookies)} cookies for {stored.host} in {shown_path(stored.path)}:"]
    for cookie in stored.cookies:
        when = (
            "session"
            if not cookie.expires
            else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cookie.expires))
        )
        lines.append(f"  {cookie.name} (expires {when})")
    if stored.user_agent:
        lines.append(
            f"sent with the user agent of the browser that earned them: {stored.user_agent}"
        )
    return "\n".join(lines)
