"""The cookie store's files: where they are, what they hold, and what happens when they are
damaged or unreadable."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.cookies._store import (
    data_dir,
    forget_login,
    load_login,
    save_login,
    store_path,
    stored_hosts,
)
from aichat_provider.testing import StandInService
from support.secrets import USER

CDP_COOKIES = [
    {"name": "session", "value": "s-value", "domain": "127.0.0.1", "path": "/", "expires": -1},
    {
        "name": "cf_clearance",
        "value": "c-value",
        "domain": "127.0.0.1",
        "path": "/",
        "expires": 4_102_444_800.5,
        "secure": False,
        "httpOnly": True,
    },
    {"name": "parent", "value": "p", "domain": ".0.0.1", "path": "/"},
    {"name": "foreign", "value": "f", "domain": "elsewhere.example", "path": "/"},
    {"name": "sub", "value": "x", "domain": "sub.127.0.0.1", "path": "/"},
]


def test_data_dir_on_each_system(tmp_path: Path) -> None:
    home = str(tmp_path)
    assert data_dir({"HOME": home}, "linux") == tmp_path / ".local/share/aichat-provider"
    assert data_dir({"HOME": home, "XDG_DATA_HOME": "/data"}, "linux") == Path(
        "/data/aichat-provider"
    )
    assert data_dir({"HOME": home, "XDG_DATA_HOME": "relative"}, "linux") == (
        tmp_path / ".local/share/aichat-provider"
    )  # a relative XDG path is ignored, as the spec says
    assert data_dir({"HOME": home}, "darwin") == (
        tmp_path / "Library/Application Support/aichat-provider"
    )
    assert data_dir({"HOME": home, "LOCALAPPDATA": "C:/Local"}, "win32") == Path(
        "C:/Local/aichat-provider"
    )
    assert data_dir({"HOME": home}, "win32") == tmp_path / "AppData/Local/aichat-provider"
    assert data_dir({"HOME": home, "AICHAT_DATA_DIR": "~/elsewhere"}, "linux") == Path(
        os.path.expanduser("~/elsewhere")
    )


def test_a_host_name_becomes_a_safe_file_name(home: Path) -> None:
    assert store_path("Chat-GPT.org").name == "chat-gpt.org.json"
    assert store_path("::1").name == "__1.json"
    with pytest.raises(errors.InvalidRequestError):
        store_path("..")


def test_saving_keeps_only_what_the_host_would_be_sent(home: Path) -> None:
    stored = save_login(
        host="127.0.0.1",
        base_url="http://127.0.0.1:1",
        cookies=CDP_COOKIES,
        user_agent="Agent/1",
        browser="chromium",
    )
    assert [c.name for c in stored.cookies] == ["session", "cf_clearance"]
    path = store_path("127.0.0.1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["cookies"][0]["expires"] is None  # -1: a session cookie
    assert document["cookies"][1]["httpOnly"] is True
    assert stored_hosts() == ["127.0.0.1"]
    assert "s-value" not in repr(stored)


def test_a_user_agent_that_cannot_be_sent_is_refused(home: Path) -> None:
    with pytest.raises(errors.InvalidRequestError, match="user agent"):
        save_login(
            host="h.example",
            base_url="http://h.example",
            cookies=[],
            user_agent="Agent\r\nX: y",
            browser=None,
        )


@pytest.mark.parametrize(
    "cookie",
    [{"name": "a", "value": "b"}, {"name": "a", "value": "b", "domain": "h.example", "path": 5}],
)
def test_a_cookie_without_a_domain_or_path_is_refused(
    home: Path, cookie: dict[str, object]
) -> None:
    with pytest.raises(errors.InvalidRequestError, match="no domain or path"):
        save_login(
            host="h.example",
            base_url="http://h.example",
            cookies=[cookie],
            user_agent=None,
            browser=None,
        )


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        ("not json", "damaged or from another version"),
        (json.dumps({"version": 99}), "damaged or from another version"),
        (json.dumps({"version": 1, "user_agent": "bad\nagent"}), "cannot be sent"),
        (json.dumps({"version": 1, "cookies": ["x"]}), "cookie 0 is not an object"),
        (json.dumps({"version": 1, "cookies": [{"name": "a", "value": 1}]}), "string value"),
    ],
)
async def test_a_damaged_store_file_says_what_to_do(
    content: str, phrase: str, home: Path, service: StandInService
) -> None:
    path = store_path("127.0.0.1")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(errors.InvalidRequestError, match=phrase):
        load_login("127.0.0.1")
    with pytest.raises(errors.InvalidRequestError, match=phrase):
        await Aichat.create_async("", USER, base_url=service.base_url, browser=[])
    assert service.requests == []


async def test_a_store_with_only_expired_cookies_says_to_log_in_again(
    home: Path, service: StandInService
) -> None:
    save_login(
        host="127.0.0.1",
        base_url=service.base_url,
        cookies=[{"name": "session", "value": "v", "domain": "127.0.0.1", "expires": 4e9}],
        user_agent=None,
        browser=None,
    )
    path = store_path("127.0.0.1")
    document = json.loads(path.read_text())
    document["cookies"][0]["expires"] = 1_000.0  # time has passed since the login
    path.write_text(json.dumps(document))
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async("", USER, base_url=service.base_url, browser=[])
    assert "the saved cookies for 127.0.0.1 have expired" in caught.value.reasons["store"]
    assert "aichat login" in caught.value.reasons["store"]


def test_forgetting(home: Path) -> None:
    assert forget_login("never-saved.example") is False
    assert stored_hosts() == []


async def test_no_domain_cookie_ever_goes_to_an_ip_address(
    tmp_path: Path, service: StandInService
) -> None:
    """http.cookiejar alone would send a cookie for ".0.0.1" to 127.0.0.1; browsers never do."""
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps(
            [
                {"name": "suffix", "value": "x", "domain": ".0.0.1"},
                {"name": "own", "value": "o", "domain": "127.0.0.1"},
            ]
        )
    )
    await Aichat.create_async("", USER, cookies_file=path, base_url=service.base_url, browser=[])
    assert service.requests[0].cookies == {"own": "o"}


PLANTED = {
    "version": 1,
    "cookies": [{"name": "session", "value": "planted-value", "domain": "127.0.0.1"}],
}


def test_a_store_folder_that_is_a_symbolic_link_is_neither_read_nor_written(
    home: Path, tmp_path: Path
) -> None:
    # In a shared data directory (AICHAT_DATA_DIR=/tmp/...), another user can make "cookies" a
    # link to a folder of theirs: the user's calls would then send the planted login, and the
    # saved one would land where the other user controls it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "127.0.0.1.json").write_text(json.dumps(PLANTED))
    folder = store_path("127.0.0.1").parent
    folder.parent.mkdir(parents=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(errors.InvalidRequestError, match="symbolic link") as caught:
        load_login("127.0.0.1")
    assert "planted-value" not in str(caught.value)
    with pytest.raises(errors.InvalidRequestError, match="symbolic link"):
        save_login(
            host="127.0.0.1",
            base_url="http://127.0.0.1:1",
            cookies=CDP_COOKIES,
            user_agent=None,
            browser=None,
        )
    assert sorted(p.name for p in elsewhere.iterdir()) == ["127.0.0.1.json"]


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="only root can give a folder to another user"
)
def test_a_store_folder_of_another_user_is_neither_read_nor_written(home: Path) -> None:
    folder = store_path("127.0.0.1").parent
    folder.mkdir(parents=True)
    (folder / "127.0.0.1.json").write_text(json.dumps(PLANTED))
    os.chown(folder, 65534, 65534)
    with pytest.raises(errors.InvalidRequestError, match="another user") as caught:
        load_login("127.0.0.1")
    assert "planted-value" not in str(caught.value)
    with pytest.raises(errors.InvalidRequestError, match="another user"):
        save_login(
            host="127.0.0.1",
            base_url="http://127.0.0.1:1",
            cookies=CDP_COOKIES,
            user_agent=None,
            browser=None,
        )


def test_a_data_dir_others_may_write_to_is_closed_before_the_store_is_written(home: Path) -> None:
    root = data_dir()
    root.mkdir(parents=True, mode=0o777)
    root.chmod(0o777)  # others could rename the store's folder away and put their own there
    save_login(
        host="127.0.0.1",
        base_url="http://127.0.0.1:1",
        cookies=CDP_COOKIES,
        user_agent=None,
        browser=None,
    )
    assert stat.S_IMODE(root.stat().st_mode) & 0o022 == 0
    assert stat.S_IMODE(store_path("127.0.0.1").parent.stat().st_mode) == 0o700


async def test_a_login_profile_that_is_a_symbolic_link_is_refused_before_the_browser_starts(
    home: Path, tmp_path: Path
) -> None:
    # A planted profile (its extensions, or a world-readable "Cookies" file the browser would
    # write into) would run in, or read, the user's login browser.
    from aichat_provider._login._browser import open_browser
    from aichat_provider.cookies._store import browser_profile_dir

    planted = tmp_path / "planted-profile"
    planted.mkdir()
    profile = browser_profile_dir("127.0.0.1")
    profile.parent.mkdir(parents=True)
    profile.symlink_to(planted, target_is_directory=True)
    with pytest.raises(errors.InvalidRequestError, match="symbolic link"):
        async with open_browser(tmp_path / "no-browser", profile, headless=True):
            pass
    assert list(planted.iterdir()) == []


def test_a_new_login_profile_folder_is_private(home: Path) -> None:
    from aichat_provider.cookies._store import browser_profile_dir, private_folder

    profile = browser_profile_dir("127.0.0.1")
    private_folder(profile)
    assert stat.S_IMODE(profile.stat().st_mode) == 0o700
    assert stat.S_IMODE(profile.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "document",
    [
        '{"version": 1, "cookies": 5}',
        '{"version": 1, "cookies": {"a": 1}}',
        '{"version": 1, "saved_at": 1' + "0" * 400 + ', "cookies": []}',
        '{"version": 1, "saved_at": NaN, "cookies": []}',
        '{"version": 1, "cookies": [{"name": "a", "value": "b", "domain": "127.0.0.1", '
        '"expires": 1' + "0" * 400 + "}]}",
        '{"version": 1, "cookies": [{"name": "a", "value": "b", "domain": "127.0.0.1", '
        '"expires": NaN}]}',
        '{"version": 1, "cookies": [{"name": "a", "value": "b", "domain": "127.0.0.1", '
        '"expires": Infinity}]}',
        '{"version": 1, "cookies": [{"name": "a", "value": "b", "domain": ["127.0.0.1"]}]}',
        '{"version": 1, "cookies": [{"name": "a", "value": "b", "domain": "127.0.0.1", '
        '"path": {"p": 1}}]}',
    ],
    ids=[
        "cookies-number",
        "cookies-object",
        "huge-saved-at",
        "nan-saved-at",
        "huge-expiry",
        "nan-expiry",
        "infinite-expiry",
        "domain-list",
        "path-object",
    ],
)
def test_a_damaged_store_is_a_typed_error_naming_the_next_step(home: Path, document: str) -> None:
    path = store_path("127.0.0.1")
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(document)
    with pytest.raises(errors.InvalidRequestError, match="aichat logout") as caught:
        load_login("127.0.0.1")
    assert '"b"' not in str(caught.value)
