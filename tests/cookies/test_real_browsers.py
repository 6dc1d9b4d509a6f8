"""Cookies from real browsers' real profiles: Debian's Chromium and Firefox ESR, headless, write
their own profiles after visiting a local page that sets cookies by ``Set-Cookie`` and by
JavaScript; the provider, ``get_cookies``, the ``aichat`` command and ``aichat doctor`` read them.

Each row of issue 13's table is a test here. On a machine without the browsers these tests skip
with a message saying how to install them; in CI (``AICHAT_REQUIRE_BROWSERS=1``) they fail.
"""

from __future__ import annotations

import configparser
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors, get_cookies
from aichat_provider.testing import StandInService
from support.cli import AICHAT, run
from support.fake_keyring import LockedKeyring
from support.profiles import Cookie, build_chrome_profile
from support.real_browsers import CookieSite, RealChromium, RealFirefox, wait_until
from support.secrets import USER, subprocess_env

SECRET = "real-browser-session-4c1e9b"
#: What the cookie site sets, and what of it a browser would send to ``/api/text`` over http.
SET_COOKIE = [
    f"session={SECRET}; Max-Age=86400; Path=/",
    "secure_only=https-only; Max-Age=86400; Path=/; Secure",
    "page_only=chat-page; Max-Age=86400; Path=/chat",
    "short_lived=gone-soon; Max-Age=2; Path=/",
]
SCRIPT_COOKIES = ["js_cookie=from-script; max-age=86400; path=/"]
SENT_OVER_HTTP = {"session": SECRET, "js_cookie": "from-script"}
ALL_NAMES = ("session", "secure_only", "page_only", "short_lived", "js_cookie")

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def visit_and_close(browser: RealChromium | RealFirefox) -> None:
    """Wait until the page's cookies are in the browser, until the short-lived one has expired,
    then close the browser the clean way."""
    cookies = browser.wait_for_cookies(*ALL_NAMES)
    short = next(c for c in cookies if c["name"] == "short_lived")
    expires = short.get("expires") or short.get("expiry")
    wait_until(lambda: time.time() > float(expires) + 0.5, 10, "the short-lived cookie's expiry")
    browser.close()


@pytest.fixture(scope="module")
def cookie_site() -> Iterator[CookieSite]:
    with CookieSite(headers=SET_COOKIE, scripts=SCRIPT_COOKIES) as site:
        yield site


@pytest.fixture(scope="module")
def chromium_home(tmp_path_factory: pytest.TempPathFactory, cookie_site: CookieSite) -> Path:
    """A home directory holding only the profile a real Chromium wrote (basic password store)."""
    home = tmp_path_factory.mktemp("chromium-home")
    with RealChromium(home, cookie_site.url()) as browser:
        visit_and_close(browser)
    return home


@pytest.fixture(scope="module")
def firefox_home(tmp_path_factory: pytest.TempPathFactory, cookie_site: CookieSite) -> Path:
    """A home directory holding only the profile a real Firefox made for itself on first start."""
    home = tmp_path_factory.mktemp("firefox-home")
    with RealFirefox(home, cookie_site.url()) as browser:
        visit_and_close(browser)
    return home


def copy_home(template: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home-copy"
    shutil.copytree(template, home, symlinks=True)
    return home


def aichat_hi(home: Path, service: StandInService, **env: str) -> str:
    """``aichat hi`` with no cookie option at all, as a person types it; returns stdout."""
    environment = {**subprocess_env(home), **env}
    if "DBUS_SESSION_BUS_ADDRESS" not in env:
        environment.pop("DBUS_SESSION_BUS_ADDRESS", None)
    result = run(AICHAT, "hi", "--base-url", service.base_url, home=home, env=environment)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    return result.stdout


# --- the rows of the table --------------------------------------------------------------------


def test_chromium_basic_store_without_d_bus_answers(
    chromium_home: Path, tmp_path: Path, service: StandInService
) -> None:
    home = copy_home(chromium_home, tmp_path)
    assert (home / ".config/chromium/Default/Cookies").is_file()
    assert aichat_hi(home, service) == "echo: hi\n"
    assert service.requests[0].cookies == SENT_OVER_HTTP


def test_a_normally_created_firefox_profile_in_the_xdg_place_answers(
    firefox_home: Path, tmp_path: Path, service: StandInService
) -> None:
    home = copy_home(firefox_home, tmp_path)
    assert list(home.glob(".config/mozilla/firefox/*/cookies.sqlite"))
    assert not (home / ".mozilla").exists()  # where browser_cookie3 alone would look
    assert aichat_hi(home, service) == "echo: hi\n"
    assert service.requests[0].cookies == SENT_OVER_HTTP


def test_profiles_ini_without_a_default_profile(
    firefox_home: Path, tmp_path: Path, service: StandInService
) -> None:
    home = copy_home(firefox_home, tmp_path)
    root = home / ".config/mozilla/firefox"
    profiles = configparser.ConfigParser(interpolation=None)
    profiles.optionxform = str  # type: ignore[assignment,method-assign]
    profiles.read(root / "profiles.ini")
    for section in list(profiles.sections()):
        if section.startswith("Install"):
            profiles.remove_section(section)
        else:
            profiles.remove_option(section, "Default")
    with (root / "profiles.ini").open("w") as file:
        profiles.write(file)
    (root / "installs.ini").unlink(missing_ok=True)
    assert "Default" not in (root / "profiles.ini").read_text()
    assert aichat_hi(home, service) == "echo: hi\n"
    assert service.requests[0].cookies == SENT_OVER_HTTP


def test_firefox_still_running_with_its_newest_cookies_in_the_write_ahead_log(
    home: Path, tmp_path: Path, service: StandInService
) -> None:
    lasting = [header for header in SET_COOKIE if "short_lived" not in header]
    with (
        CookieSite(headers=lasting, scripts=SCRIPT_COOKIES) as site,
        RealFirefox(home, site.url()) as browser,
    ):
        browser.wait_for_cookies("session", "js_cookie")
        database = browser.profile / "cookies.sqlite"
        wal = browser.profile / "cookies.sqlite-wal"
        # Firefox writes new cookies to the log first; wait until they are on disk there.
        wait_until(
            lambda: wal.exists() and SECRET.encode() in wal.read_bytes(), 30, "the cookie in -wal"
        )
        main_only = tmp_path / "main-only.sqlite"
        shutil.copyfile(database, main_only)  # what a copy without the log would see
        with sqlite3.connect(main_only) as copy:
            in_main = copy.execute("SELECT count(*) FROM moz_cookies").fetchone()[0]
        copy.close()
        assert in_main == 0  # the cookies are in the log only
        assert browser.process.poll() is None  # still running
        assert aichat_hi(home, service) == "echo: hi\n"
        assert service.requests[0].cookies == SENT_OVER_HTTP


def test_a_secure_cookie_goes_over_https_only(
    chromium_home: Path,
    tmp_path: Path,
    service: StandInService,
    tls_service: StandInService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = copy_home(chromium_home, tmp_path)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert get_cookies("127.0.0.1", browser="chromium")["secure_only"] == "https-only"
    assert aichat_hi(home, service) == "echo: hi\n"
    assert "secure_only" not in service.requests[0].cookies  # plain http
    assert tls_service.ca_path is not None
    result = run(
        AICHAT,
        "hi",
        "--base-url",
        tls_service.base_url,
        "--ca-bundle",
        tls_service.ca_path,
        home=home,
        env={k: v for k, v in subprocess_env(home).items() if k != "DBUS_SESSION_BUS_ADDRESS"},
    )
    assert result.returncode == 0, result.stderr
    assert tls_service.requests[0].cookies == {**SENT_OVER_HTTP, "secure_only": "https-only"}


async def test_a_cookie_for_another_path_and_an_expired_one_stay_behind(
    firefox_home: Path, tmp_path: Path, service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = copy_home(firefox_home, tmp_path)
    monkeypatch.setenv("HOME", str(home))
    answer = await Aichat.ask_async(
        "", USER, browser="firefox", base_url=service.base_url, max_retries=0
    )
    assert answer.cookie_source == "browser:firefox"
    sent = service.requests[0].cookies
    assert "page_only" not in sent  # Path=/chat is not /api/text
    assert "short_lived" not in sent  # expired; Firefox stores the expiry in milliseconds
    # what a person means by "the site's cookies": every live one, any path
    assert set(get_cookies("127.0.0.1", browser="firefox")) == {
        "session",
        "js_cookie",
        "page_only",
        "secure_only",
    }


def test_doctor_shows_profile_names_and_plausible_expiry_dates(
    firefox_home: Path, tmp_path: Path, service: StandInService
) -> None:
    home = copy_home(firefox_home, tmp_path)
    result = run(AICHAT, "doctor", "--base-url", service.base_url, home=home)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    line = next(line for line in out.splitlines() if "browser firefox" in line)
    assert "[ ok ]" in line
    assert ".config/mozilla/firefox/" in line  # the profile it read
    assert "2 for 127.0.0.1" in line
    years = {int(year) for year in re.findall(r"expires (\d{4,})-", line)}
    this_year = time.gmtime().tm_year
    assert years, line
    assert years <= {this_year, this_year + 1}, line
    assert SECRET not in out + result.stderr


def test_doctor_probes_only_browsers_this_system_has_a_version_of(
    chromium_home: Path, tmp_path: Path, service: StandInService, with_dbus: str
) -> None:
    home = copy_home(chromium_home, tmp_path)
    env = {**subprocess_env(home), "DBUS_SESSION_BUS_ADDRESS": with_dbus}
    result = run(AICHAT, "doctor", "--base-url", service.base_url, home=home, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    for absent in ("arc", "safari", "opera_gx"):
        assert f"browser {absent}" not in result.stdout
    assert "TypeError" not in result.stdout
    assert "[ ok ] browser chromium" in result.stdout


def test_a_stale_d_bus_address_does_not_stop_v10_cookies_or_blame_absent_browsers(
    chromium_home: Path, tmp_path: Path, service: StandInService
) -> None:
    home = copy_home(chromium_home, tmp_path)
    stale = f"unix:path={tmp_path}/gone-bus-socket"
    assert aichat_hi(home, service, DBUS_SESSION_BUS_ADDRESS=stale) == "echo: hi\n"
    assert service.requests[0].cookies == SENT_OVER_HTTP
    env = {**subprocess_env(home), "DBUS_SESSION_BUS_ADDRESS": stale}
    result = run(AICHAT, "doctor", "--base-url", service.base_url, home=home, env=env)
    absent_line = next(
        line for line in result.stdout.splitlines() if "browsers: not installed here:" in line
    )
    for absent in ("chrome", "brave", "edge", "vivaldi"):
        assert absent in absent_line.partition("not installed here:")[2].strip().split(", ")
    assert "FileNotFoundError" not in result.stdout


def test_chromium_still_running(home: Path, tmp_path: Path, service: StandInService) -> None:
    """Chromium writes its cookie store in batches (at the latest ~30 s after a change); the
    page churns a cookie so the batch is written at once, and the store is read while the
    browser runs: nothing holds it (on Linux) and nothing is disturbed."""
    with (
        CookieSite(headers=SET_COOKIE[:1], churn=700) as site,
        RealChromium(home, site.url()) as browser,
    ):
        browser.wait_for_cookies("session")
        database = home / ".config/chromium/Default/Cookies"

        def on_disk() -> bool:
            if not database.exists():
                return False
            copy = tmp_path / "peek.sqlite"
            shutil.copyfile(database, copy)
            with sqlite3.connect(copy) as peek:
                rows = peek.execute("SELECT count(*) FROM cookies WHERE name='session'").fetchone()
            peek.close()
            return bool(rows[0])

        wait_until(on_disk, 30, "Chromium writing its cookie store")
        assert browser.process.poll() is None
        assert aichat_hi(home, service) == "echo: hi\n"
        assert service.requests[0].cookies == {"session": SECRET}


def test_a_domain_cookie_set_for_the_parent_domain(home: Path, service: StandInService) -> None:
    """A page at app.chat.localhost sets one cookie for chat.localhost and one for itself;
    the API at chat.localhost gets the first only. (*.localhost resolves to the loopback
    address inside both the browser and curl: no DNS query leaves the machine.)"""
    headers = [
        "parent=for-the-parent; Max-Age=86400; Path=/; Domain=chat.localhost",
        "app_only=for-app; Max-Age=86400; Path=/",
    ]
    with (
        CookieSite(headers=headers) as site,
        RealChromium(home, site.url(host="app.chat.localhost")) as browser,
    ):
        browser.wait_for_cookies("parent", "app_only")
        browser.close()
    result = run(
        AICHAT,
        "hi",
        "--base-url",
        f"http://chat.localhost:{service.port}",
        home=home,
        env={k: v for k, v in subprocess_env(home).items() if k != "DBUS_SESSION_BUS_ADDRESS"},
    )
    assert result.returncode == 0, result.stderr
    assert service.requests[0].cookies == {"parent": "for-the-parent"}


async def test_no_cookies_for_the_host_says_which_host_they_are_for(
    home: Path, service: StandInService
) -> None:
    with (
        CookieSite(headers=["only=for-app; Max-Age=86400; Path=/"]) as site,
        RealChromium(home, site.url(host="app.chat.localhost")) as browser,
    ):
        browser.wait_for_cookies("only")
        browser.close()
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async(
            "", USER, browser="chromium", base_url=f"http://www.chat.localhost:{service.port}"
        )
    assert "only for app.chat.localhost" in caught.value.reasons["chromium"]


@pytest.fixture
def locked_keyring(with_dbus: str) -> Iterator[LockedKeyring]:
    with LockedKeyring(with_dbus) as keyring:
        yield keyring


def test_a_locked_keyring_still_lets_the_v10_cookies_through(
    chromium_home: Path, tmp_path: Path, service: StandInService, locked_keyring: LockedKeyring
) -> None:
    home = copy_home(chromium_home, tmp_path)
    answer = aichat_hi(home, service, DBUS_SESSION_BUS_ADDRESS=locked_keyring.address)
    assert answer == "echo: hi\n"
    assert "GetSecrets" in locked_keyring.calls  # the keyring was asked, and said nothing
    assert service.requests[0].cookies == SENT_OVER_HTTP


async def test_a_locked_keyring_and_v11_cookies_say_unlock_it(
    home: Path, local_service: StandInService, locked_keyring: LockedKeyring
) -> None:
    build_chrome_profile(
        home,
        [Cookie("localhost", "session", SECRET)],
        keyring_password=b"kept-in-the-locked-keyring",
    )
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async(
            "", USER, browser="chrome", base_url=f"http://localhost:{local_service.port}"
        )
    reason = caught.value.reasons["chrome"]
    assert "encrypted with the desktop keyring, and it is locked" in reason
    assert "unlock" in reason
    assert SECRET not in str(caught.value)
