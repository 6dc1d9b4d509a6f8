"""``aichat login``, the cookie store and the automatic refresh, with real Chromium (headless,
and visible on a virtual screen) against the stand-in's Cloudflare-style challenge and sign-in.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from aichat_provider import Aichat, errors, login
from aichat_provider.cookies._store import load_login, store_path
from aichat_provider.testing import Challenge, SignIn, StandInService
from support.browsers import chromium
from support.cli import AICHAT, run
from support.display import virtual_display
from support.real_browsers import CookieSite, wait_until
from support.secrets import USER, subprocess_env

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def data_dir(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store and the login profiles in the test home (the default place, found from HOME)."""
    chromium()  # skip here, or fail in CI, without a browser
    monkeypatch.delenv("AICHAT_DATA_DIR", raising=False)
    monkeypatch.delenv("AICHAT_BROWSER", raising=False)
    monkeypatch.delenv("AICHAT_REFRESH_COOKIES", raising=False)
    return home / ".local/share/aichat-provider"


@pytest.fixture
def challenging() -> Iterator[StandInService]:
    with StandInService(challenge=Challenge(delay=0.3)) as service:
        yield service


def values_in(path: Path) -> list[str]:
    return [cookie["value"] for cookie in json.loads(path.read_text())["cookies"]]


# --- login, headless ---------------------------------------------------------------------------


@pytest.mark.slow
def test_login_headless_then_hi_with_no_other_setup(
    home: Path, data_dir: Path, challenging: StandInService
) -> None:
    result = run(AICHAT, "login", "--headless", "--base-url", challenging.base_url, home=home)
    assert result.returncode == 0, result.stderr
    saved = data_dir / "cookies/127.0.0.1.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    document = json.loads(saved.read_text())
    assert [c["name"] for c in document["cookies"]] == ["cf_clearance"]
    assert {c["domain"] for c in document["cookies"]} == {"127.0.0.1"}
    assert "HeadlessChrome" not in document["user_agent"]
    assert "Chrome/" in document["user_agent"]
    assert "Saved 1 cookies for 127.0.0.1" in result.stdout
    assert "cf_clearance (expires" in result.stdout
    for value in values_in(saved):
        assert value not in result.stdout + result.stderr
    # now the command as a person types it: no cookie option, no user agent
    answer = run(
        AICHAT, "hi", "--base-url", challenging.base_url, "--browser", "firefox", home=home
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout == "echo: hi\n"
    api = challenging.requests[-1]
    assert api.cookies == {"cf_clearance": document["cookies"][0]["value"]}
    assert api.header("user-agent") == document["user_agent"]  # cf_clearance's own browser
    assert api.header("sec-ch-ua") is None  # client hints would name another browser


@pytest.mark.slow
async def test_the_store_holds_only_its_hosts_cookies_and_other_hosts_never_read_it(
    home: Path, challenging: StandInService
) -> None:
    await login(challenging.base_url, headless=True, timeout=60)
    stored = load_login("127.0.0.1")
    assert stored is not None
    assert {c.domain for c in stored.cookies} == {"127.0.0.1"}
    assert not store_path("localhost").exists()
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async(
            "", USER, base_url=f"http://localhost:{challenging.port}", browser=[]
        )
    assert "store" not in caught.value.reasons  # nothing of 127.0.0.1's was looked at


@pytest.mark.slow
async def test_the_library_call_returns_what_it_saved(
    home: Path, challenging: StandInService
) -> None:
    stored = await login(challenging.base_url, headless=True, timeout=60)
    assert stored.host == "127.0.0.1"
    assert [c.name for c in stored.cookies] == ["cf_clearance"]
    assert "cf_clearance" in repr(stored)
    assert stored.cookies[0].value not in repr(stored)
    answer = await Aichat.ask_async("", USER, base_url=challenging.base_url, browser=[])
    assert answer.cookie_source == "store"


@pytest.mark.slow
def test_logout_forgets_the_cookies_and_the_browser_profile(
    home: Path, data_dir: Path, challenging: StandInService
) -> None:
    assert (
        run(AICHAT, "login", "--headless", "--base-url", challenging.base_url, home=home).returncode
        == 0
    )
    assert (data_dir / "browser-profiles/127.0.0.1").is_dir()
    doctor = run(
        AICHAT, "doctor", "--base-url", challenging.base_url, "--browser", "firefox", home=home
    )
    assert (
        "[ ok ] cookie store (~/.local/share/aichat-provider/cookies/127.0.0.1.json): "
        "1 for 127.0.0.1: cf_clearance" in doctor.stdout
    )
    assert (
        "[ ok ] cf_clearance: found in the cookie store; it is sent with the user agent"
        in doctor.stdout
    )
    result = run(AICHAT, "logout", "--base-url", challenging.base_url, home=home)
    assert result.returncode == 0
    assert "127.0.0.1: forgot its cookies and browser profile" in result.stdout
    assert not (data_dir / "cookies/127.0.0.1.json").exists()
    assert not (data_dir / "browser-profiles/127.0.0.1").exists()
    again = run(AICHAT, "hi", "--base-url", challenging.base_url, "--browser", "firefox", home=home)
    assert again.returncode == 3


# --- login, visible ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
async def test_sign_in_in_a_visible_browser_played_over_the_devtools_protocol(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person's part, played by the test: a second page on another host (its cookies must
    not be saved), then the form filled and sent. The login ends when the session cookie
    appears."""
    from playwright.async_api import async_playwright

    port = free_port()
    with (
        virtual_display() as display,
        StandInService(challenge=Challenge(delay=0.3), sign_in=SignIn()) as service,
        CookieSite(headers=["elsewhere=not-for-the-store; Max-Age=3600; Path=/"]) as other_site,
    ):
        monkeypatch.setenv("DISPLAY", display)
        task = asyncio.create_task(
            login(service.base_url, wait_for=["session"], debugging_port=port, timeout=90)
        )
        async with async_playwright() as playwright:
            endpoint = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(
                wait_until, lambda: _answers(endpoint), 30, "the login browser's DevTools port"
            )
            browser = await playwright.chromium.connect_over_cdp(endpoint)
            context = browser.contexts[0]
            other = await context.new_page()
            await other.goto(other_site.url(host="localhost"))
            page = context.pages[0]
            await page.wait_for_selector("#username", timeout=30_000)  # past the challenge
            await page.fill("#username", "user")
            await page.fill("#password", "password")
            await page.click("#sign-in")
            stored = await asyncio.wait_for(task, 60)
    assert service.site.sign_ins == 1
    assert sorted(c.name for c in stored.cookies) == ["cf_clearance", "session"]
    assert {c.domain for c in stored.cookies} == {"127.0.0.1"}
    assert "HeadlessChrome" not in (stored.user_agent or "")
    with (
        StandInService(sign_in=SignIn()) as later,
        pytest.raises(errors.AuthenticationError),  # another run's secret: a stranger
    ):
        await Aichat.create_async("", USER, base_url=later.base_url, browser=[], max_retries=0)


def _answers(endpoint: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint}/json/version", timeout=2):  # noqa: S310
            return True
    except OSError:
        return False


@pytest.mark.slow
def test_login_in_a_visible_window_ends_when_enter_is_pressed(
    home: Path, data_dir: Path, challenging: StandInService
) -> None:
    with virtual_display() as display:
        env = {**subprocess_env(home), "DISPLAY": display}
        child = pexpect.spawn(
            AICHAT[0],
            ["login", "--base-url", challenging.base_url],
            env=env,
            encoding="utf-8",
            timeout=90,
        )
        child.expect("press Enter here")
        wait_until(lambda: challenging.site.chat_pages >= 1, 60, "the browser past the check")
        child.sendline("")
        child.expect("Saved 1 cookies for 127.0.0.1")
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0
    assert (data_dir / "cookies/127.0.0.1.json").exists()


# --- the automatic refresh --------------------------------------------------------------------


@pytest.mark.slow
async def test_an_expired_clearance_is_renewed_and_the_call_succeeds(
    home: Path, challenging: StandInService
) -> None:
    await login(challenging.base_url, headless=True, timeout=60)
    before = load_login("127.0.0.1")
    challenging.revoke_clearances()  # as when Cloudflare's clearance expires
    with pytest.raises(errors.CloudflareError):  # without the refresh, the wall stands
        await Aichat.create_async("", USER, base_url=challenging.base_url, browser=[])
    answer = await Aichat.ask_async(
        "", USER, base_url=challenging.base_url, browser=[], refresh_cookies=True, max_retries=0
    )
    assert answer.text == "echo: Hi"
    assert answer.attempts == 2
    after = load_login("127.0.0.1")
    assert before is not None
    assert after is not None
    assert after.cookies[0].value != before.cookies[0].value  # renewed in the store


@pytest.mark.slow
async def test_fifty_concurrent_calls_at_the_wall_share_one_browser_visit(
    home: Path, challenging: StandInService
) -> None:
    await login(challenging.base_url, headless=True, timeout=60)
    challenging.revoke_clearances()
    pages_before = challenging.site.page_challenges, challenging.site.chat_pages
    answers = await asyncio.gather(
        *[
            Aichat.create_async(
                "",
                [{"role": "user", "content": f"q{i}"}],
                base_url=challenging.base_url,
                browser=[],
                refresh_cookies=True,
                max_retries=0,
            )
            for i in range(50)
        ]
    )
    assert answers == [f"echo: q{i}" for i in range(50)]
    # One visit: it met the challenge once and was shown the chat page once, past it.
    pages_after = challenging.site.page_challenges, challenging.site.chat_pages
    assert (pages_after[0] - pages_before[0], pages_after[1] - pages_before[1]) == (1, 1)


@pytest.mark.slow
async def test_with_no_browser_the_original_error_arrives_in_time_with_the_advice(
    home: Path, challenging: StandInService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await login(challenging.base_url, headless=True, timeout=60)  # a login profile exists
    challenging.revoke_clearances()
    monkeypatch.setenv("AICHAT_BROWSER", str(tmp_path / "no-such-browser"))
    started = time.monotonic()
    with pytest.raises(errors.CloudflareError) as caught:
        await Aichat.create_async(
            "", USER, base_url=challenging.base_url, browser=[], refresh_cookies=True, timeout=10
        )
    assert time.monotonic() - started < 10
    assert "run 'aichat login'" in str(caught.value)
    assert caught.value.status_code == 403


async def test_the_refresh_is_opt_in_and_needs_a_login_profile(
    home: Path, challenging: StandInService
) -> None:
    (home / "cookies.txt").write_text("127.0.0.1\tFALSE\t/\tFALSE\t0\tcf_clearance\tforged\n")
    started = time.monotonic()
    with pytest.raises(errors.CloudflareError) as caught:
        await Aichat.create_async(
            "",
            USER,
            base_url=challenging.base_url,
            cookies_file=home / "cookies.txt",
            refresh_cookies=True,
        )
    assert time.monotonic() - started < 5
    assert "no login profile for 127.0.0.1" in str(caught.value)
    assert "aichat login" in str(caught.value)


@pytest.mark.slow
def test_the_refresh_switch_from_the_environment_and_the_command_line(
    home: Path, challenging: StandInService
) -> None:
    assert (
        run(AICHAT, "login", "--headless", "--base-url", challenging.base_url, home=home).returncode
        == 0
    )
    challenging.revoke_clearances()
    plain = run(AICHAT, "hi", "--base-url", challenging.base_url, "--browser", "firefox", home=home)
    assert plain.returncode == 4  # stopped by the challenge
    refreshed = run(AICHAT, "hi", "--refresh", "--base-url", challenging.base_url, home=home)
    assert refreshed.returncode == 0, refreshed.stderr
    challenging.revoke_clearances()
    env = {**subprocess_env(home), "AICHAT_REFRESH_COOKIES": "1"}
    from_env = run(AICHAT, "hi", "--base-url", challenging.base_url, home=home, env=env)
    assert from_env.returncode == 0, from_env.stderr


# --- no browser, no extra ---------------------------------------------------------------------


def test_login_without_a_browser_says_how_to_get_one(
    home: Path, challenging: StandInService
) -> None:
    env = {**subprocess_env(home), "AICHAT_BROWSER": str(home / "missing-browser")}
    result = run(
        AICHAT, "login", "--headless", "--base-url", challenging.base_url, home=home, env=env
    )
    assert result.returncode == 3
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_login_without_the_login_extra_says_how_to_install_it(
    home: Path, challenging: StandInService
) -> None:
    # As if Playwright were not installed: the import fails as it would.
    code = (
        "import sys; sys.modules['playwright'] = None; "
        "from aichat_provider.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "login", "--headless", "--base-url", challenging.base_url],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )
    # 6: an extra or a display is missing (3 means cookies missing or rejected); the hint
    # installs the extra's own requirement for the Python that runs aichat.
    assert result.returncode == 6
    assert f"{sys.executable} -m pip install 'playwright>=" in result.stderr


def test_store_location_is_platformdirs_user_data_dir(home: Path) -> None:
    import platformdirs

    from aichat_provider.cookies._store import data_dir

    environ = {"HOME": str(home)}
    assert str(data_dir(environ, "linux")) == os.path.join(
        str(home), ".local/share/aichat-provider"
    )
    assert data_dir() == Path(platformdirs.user_data_dir("aichat-provider", appauthor=False))


@pytest.mark.slow
def test_headless_login_says_at_once_what_it_waits_for_and_what_to_do_else(home: Path) -> None:
    # a site that sets no cookie by itself: --headless can only wait, so it says so first
    # (it used to print nothing until its 300 s were up)
    with StandInService() as plain:
        result = run(
            AICHAT, "login", "--headless", "--timeout", "2", "--base-url", plain.base_url, home=home
        )
    assert result.returncode == 3
    first, *rest = result.stderr.splitlines()
    assert first == (
        f"Opening {plain.base_url}/chat without a window; waiting up to 2 s for the site to set"
        " its cookies. A sign-in needs a window: run 'aichat login' without --headless."
    )
    assert rest == [
        "aichat: error: no usable cookies within 2 s: sign in and pass the site's check in the "
        "browser's window sooner, or allow longer (aichat login --timeout SECONDS; "
        "the timeout argument of login() in Python)"
    ]


@pytest.mark.slow
async def test_a_check_that_does_not_pass_in_time_is_a_login_error(home: Path) -> None:
    with StandInService(challenge=Challenge(delay=30)) as slow:
        started = time.monotonic()
        with pytest.raises(errors.LoginError, match="no usable cookies within 2 s") as caught:
            await login(slow.base_url, headless=True, timeout=2)
        assert "allow longer (aichat login --timeout SECONDS" in str(caught.value)
        assert time.monotonic() - started < 2 + 20  # the browser's start and close included


@pytest.mark.slow
async def test_closing_the_window_ends_the_login_with_what_is_there(
    home: Path, monkeypatch: pytest.MonkeyPatch, challenging: StandInService
) -> None:
    """The person passes the check and closes the window instead of pressing Enter."""
    from playwright.async_api import async_playwright

    port = free_port()
    never = asyncio.get_running_loop().create_future()  # Enter is never pressed
    with virtual_display() as display:
        monkeypatch.setenv("DISPLAY", display)
        task = asyncio.create_task(
            login(challenging.base_url, until=never, debugging_port=port, timeout=90)
        )
        endpoint = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_until, lambda: _answers(endpoint), 30, "the DevTools port")
        await asyncio.to_thread(
            wait_until, lambda: challenging.site.chat_pages >= 1, 30, "the check passed"
        )
        async with async_playwright() as playwright:
            browser = await playwright.chromium.connect_over_cdp(endpoint)
            session = await browser.new_browser_cdp_session()
            await session.send("Browser.close")  # as when the person closes the window
        stored = await asyncio.wait_for(task, 60)
    assert [c.name for c in stored.cookies] == ["cf_clearance"]


@pytest.mark.slow
async def test_closing_the_window_before_the_check_passes_saves_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.async_api import async_playwright

    port = free_port()
    with virtual_display() as display, StandInService(challenge=Challenge(delay=60)) as slow:
        monkeypatch.setenv("DISPLAY", display)
        never = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(login(slow.base_url, until=never, debugging_port=port))
        endpoint = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_until, lambda: _answers(endpoint), 30, "the DevTools port")
        await asyncio.to_thread(wait_until, lambda: slow.site.page_challenges >= 1, 30, "a visit")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.connect_over_cdp(endpoint)
            session = await browser.new_browser_cdp_session()
            await session.send("Browser.close")
        with pytest.raises(errors.LoginError, match="did not get past the Cloudflare check"):
            await asyncio.wait_for(task, 60)
    assert not store_path("127.0.0.1").exists()


@pytest.mark.slow
async def test_enter_before_the_check_passes_looks_again_a_while_then_saves_nothing(
    home: Path,
) -> None:
    """Enter may come the moment the page passes the check, before the login's last look saw
    it: so the login keeps looking a little while; a page that never passes still ends."""
    from aichat_provider._constants import LOGIN_FINAL_LOOK

    with StandInService(challenge=Challenge(delay=60)) as slow:
        pressed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(login(slow.base_url, headless=True, until=pressed, timeout=90))
        await asyncio.to_thread(wait_until, lambda: slow.site.page_challenges >= 1, 30, "a visit")
        started = time.monotonic()
        pressed.set_result(None)
        with pytest.raises(errors.LoginError, match="did not get past the Cloudflare check"):
            await asyncio.wait_for(task, 60)
        assert time.monotonic() - started >= LOGIN_FINAL_LOOK
    assert not store_path("127.0.0.1").exists()
