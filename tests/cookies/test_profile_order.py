"""Which browser profile gives the cookies when there are several: the one in use first, and a
profile that cannot be read (a locked keyring) never ends the search of the others."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors, get_cookies
from aichat_provider.testing import StandInService
from support.profiles import Cookie, build_chrome_profile, build_firefox_profile
from support.secrets import SECRET_COOKIE, USER


def url_of(service: StandInService) -> str:
    return f"http://localhost:{service.port}"


def firefox_profile(home: Path, folder: str, value: str) -> None:
    """A Firefox profile in ``~/.config/mozilla/firefox/<folder>`` holding ``session=value``."""
    scratch = home / f".scratch-{folder}"
    database = build_firefox_profile(scratch, [Cookie("localhost", "session", value)])
    target = home / ".config/mozilla/firefox" / folder
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(database.parent), target)
    shutil.rmtree(scratch)


@pytest.mark.parametrize("named_in", ["installs.ini", "profiles.ini"])
async def test_the_firefox_profile_in_use_is_read_before_one_that_sorts_first(
    named_in: str, home: Path, local_service: StandInService
) -> None:
    """``installs.ini`` (or, without it, an ``[Install...]`` section of ``profiles.ini``) names
    the profile the installation uses; a folder that sorts before it (and even one
    profiles.ini marks Default=1) must not win."""
    firefox_profile(home, "aaaa.old-default", "from-an-old-profile")
    firefox_profile(home, "zzzz.default-release", SECRET_COOKIE)
    root = home / ".config/mozilla/firefox"
    (root / "profiles.ini").write_text(
        "[Profile0]\nName=old\nIsRelative=1\nPath=aaaa.old-default\nDefault=1\n\n"
        "[Profile1]\nName=default-release\nIsRelative=1\nPath=zzzz.default-release\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n"
    )
    install = "[4F96D1932A9F858E]\nDefault=zzzz.default-release\n"
    if named_in == "installs.ini":
        (root / "installs.ini").write_text(install)
    else:
        with (root / "profiles.ini").open("a") as ini:
            ini.write("\n[Install" + install[1:])
    await Aichat.create_async("", USER, browser="firefox", base_url=url_of(local_service))
    assert local_service.requests[0].cookies == {"session": SECRET_COOKIE}


async def test_a_keyring_locked_chrome_profile_does_not_end_the_search(
    home: Path, local_service: StandInService, without_dbus: None
) -> None:
    """``Default`` is read first and needs the keyring, which cannot be reached; ``Profile 1``
    was written with the basic password store and still gives its cookies."""
    build_chrome_profile(
        home,
        [Cookie("localhost", "session", "needs-the-keyring")],
        keyring_password=b"a-password-kept-in-the-gnome-keyring",
    )
    scratch = home / ".scratch"
    readable = build_chrome_profile(scratch, [Cookie("localhost", "session", SECRET_COOKIE)])
    shutil.move(str(readable.parent), home / ".config/google-chrome/Profile 1")
    shutil.rmtree(scratch)
    await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
    assert local_service.requests[0].cookies == {"session": SECRET_COOKIE}


def chrome_profile(home: Path, folder: str, cookies: list[Cookie], **options: object) -> Path:
    """``~/.config/google-chrome/<folder>`` holding ``cookies`` (v10 unless a keyring password
    is given); the profile's folder."""
    scratch = home / f".scratch-{folder}"
    database = build_chrome_profile(scratch, cookies, **options)  # type: ignore[arg-type]
    target = home / ".config/google-chrome" / folder
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(database.parent), target)
    shutil.rmtree(scratch)
    return target


@pytest.mark.parametrize("damage", ["not-a-database", "unsendable-cookie"])
async def test_a_profile_that_cannot_be_used_does_not_end_the_search(
    damage: str, home: Path, local_service: StandInService
) -> None:
    if damage == "not-a-database":
        default = chrome_profile(home, "Default", [Cookie("localhost", "x", "y")])
        (default / "Cookies").write_bytes(b"this is not a sqlite database" * 100)
    else:
        chrome_profile(home, "Default", [Cookie("localhost", "session", "bad\x7fvalue")])
    chrome_profile(home, "Profile 1", [Cookie("localhost", "session", SECRET_COOKIE)])
    await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
    assert local_service.requests[0].cookies == {"session": SECRET_COOKIE}


async def test_the_keyring_reason_is_kept_over_an_empty_profiles(
    home: Path, local_service: StandInService, without_dbus: None
) -> None:
    """``Default`` needs the keyring, ``Profile 1`` has nothing for the host: the reason given
    is the one a person can act on."""
    chrome_profile(
        home, "Default", [Cookie("localhost", "session", "locked")], keyring_password=b"pw"
    )
    chrome_profile(home, "Profile 1", [Cookie("elsewhere.example", "other", "x")])
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
    assert "encrypted with the desktop keyring" in caught.value.reasons["chrome"]


async def test_what_a_browser_holds_is_sent_as_a_browser_would_send_it(
    home: Path, local_service: StandInService
) -> None:
    """Firefox's cookies: its Secure flag, its path and its millisecond expiry all count, and a
    cookie of the parent domain is found for a host two levels below it."""
    now = time.time()
    build_firefox_profile(
        home,
        [
            Cookie(".chat.localhost", "parent", "from-the-parent-domain"),
            Cookie("api.chat.localhost", "session", SECRET_COOKIE),
            Cookie("api.chat.localhost", "secure_only", "https-only", secure=True),
            Cookie("api.chat.localhost", "page_only", "for-the-page", path="/chat"),
            Cookie("api.chat.localhost", "stale", "expired", expires=(now - 3600) * 1000),
        ],
    )
    await Aichat.create_async(
        "", USER, browser="firefox", base_url=f"http://api.chat.localhost:{local_service.port}"
    )
    assert local_service.requests[0].cookies == {
        "parent": "from-the-parent-domain",
        "session": SECRET_COOKIE,
    }


def test_get_cookies_takes_a_domain_written_with_its_leading_dot(home: Path) -> None:
    build_firefox_profile(home, [Cookie("localhost", "session", SECRET_COOKIE)])
    assert get_cookies(".localhost", browser="firefox") == {"session": SECRET_COOKIE}
    assert get_cookies("localhost", browser=["Firefox"]) == {"session": SECRET_COOKIE}
