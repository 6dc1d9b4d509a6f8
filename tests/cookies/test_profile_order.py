"""Which browser profile gives the cookies when there are several: the one in use first, and a
profile that cannot be read (a locked keyring) never ends the search of the others."""

from __future__ import annotations

import shutil
from pathlib import Path

from aichat_provider import Aichat
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


async def test_the_firefox_profile_in_use_is_read_before_one_that_sorts_first(
    home: Path, local_service: StandInService
) -> None:
    """``installs.ini`` names the profile the installation uses; a folder that sorts before it
    (and even one profiles.ini marks Default=1) must not win."""
    firefox_profile(home, "aaaa.old-default", "from-an-old-profile")
    firefox_profile(home, "zzzz.default-release", SECRET_COOKIE)
    root = home / ".config/mozilla/firefox"
    (root / "profiles.ini").write_text(
        "[Profile0]\nName=old\nIsRelative=1\nPath=aaaa.old-default\nDefault=1\n\n"
        "[Profile1]\nName=default-release\nIsRelative=1\nPath=zzzz.default-release\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n"
    )
    (root / "installs.ini").write_text("[4F96D1932A9F858E]\nDefault=zzzz.default-release\n")
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
