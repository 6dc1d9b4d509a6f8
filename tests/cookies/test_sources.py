"""Cookie sources in the contract's order, on real files and real browser databases."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors, get_cookies
from aichat_provider.cookies._sources import browser_cookie_cache
from aichat_provider.testing import Reply, StandInService
from support.calls import Counted
from support.profiles import Cookie, build_chrome_profile, build_firefox_profile
from support.secrets import COOKIES, SECRET_COOKIE, USER, assert_no_secrets, exposed_text


def url_of(service: StandInService) -> str:
    return f"http://localhost:{service.port}"


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the argument and cookies files ----------------------------------------------------------


async def test_argument_wins_over_file_and_browser(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    cookies_file = tmp_path / "cookies.json"
    cookies_file.write_text(
        json.dumps([{"name": "session", "value": "from-file", "domain": "127.0.0.1"}])
    )
    build_firefox_profile(home, [Cookie("127.0.0.1", "session", "from-browser")])
    await Aichat.create_async(
        "",
        USER,
        cookies={"session": "from-argument"},
        cookies_file=cookies_file,
        base_url=service.base_url,
    )
    assert service.requests[0].cookies == {"session": "from-argument"}


async def test_netscape_cookies_file_keeps_only_what_a_browser_would_send_to_the_api(
    tmp_path: Path, service: StandInService
) -> None:
    later, earlier = int(time.time()) + 3600, int(time.time()) - 3600
    path = tmp_path / "cookies.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        "# written by a browser add-on\n\n"
        f"127.0.0.1\tFALSE\t/\tFALSE\t{later}\tsession\t{SECRET_COOKIE}\n"
        f"#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\thttp_only\tyes\n"
        f"127.0.0.1\tFALSE\t/\tTRUE\t{later}\tsecure_only\tfor-https-only\n"
        f"127.0.0.1\tFALSE\t/chat\tFALSE\t{later}\tpage_only\tfor-the-page\n"
        f"127.0.0.1\tFALSE\t/\tFALSE\t{earlier}\texpired\tstale\n"
        f".example.com\tTRUE\t/\tFALSE\t{later}\tforeign\tnot-for-us\n"
    )
    await Aichat.create_async("", USER, cookies_file=str(path), base_url=service.base_url)
    assert service.requests[0].cookies == {"session": SECRET_COOKIE, "http_only": "yes"}


@pytest.mark.parametrize("wrapped", [False, True], ids=["list", "playwright-storage-state"])
async def test_json_cookie_export(wrapped: bool, tmp_path: Path, service: StandInService) -> None:
    entries = [
        {
            "name": "session",
            "value": SECRET_COOKIE,
            "domain": "127.0.0.1",
            "path": "/",
            "expirationDate": time.time() + 3600,
        },
        {"name": "old", "value": "x", "domain": "127.0.0.1", "expires": time.time() - 10},
        {"name": "foreign", "value": "x", "domain": ".example.com"},
    ]
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps({"cookies": entries, "origins": []} if wrapped else entries))
    await Aichat.create_async("", USER, cookies_file=path, base_url=service.base_url)
    assert service.requests[0].cookies == {"session": SECRET_COOKIE}


async def test_cookies_file_from_the_environment(
    tmp_path: Path, service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps([{"name": "session", "value": "env", "domain": "127.0.0.1"}]))
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(path))
    await Aichat.create_async("", USER, base_url=service.base_url, browser=[])
    assert service.requests[0].cookies == {"session": "env"}


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        ('[{"name": "a"}]', "string value"),
        ('{"x": 1}', "JSON list"),
        ("[1]", "not an object"),
        ("{not json", "neither valid JSON"),
        ("a\tb\n", "7 tab-separated fields"),
    ],
)
async def test_broken_cookies_files_are_invalid_requests(
    content: str, phrase: str, tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies"
    path.write_text(content)
    with pytest.raises(errors.InvalidRequestError, match=phrase):
        await Aichat.create_async("", USER, cookies_file=path, base_url=service.base_url)
    assert service.requests == []


async def test_missing_cookies_file_is_an_invalid_request(
    tmp_path: Path, service: StandInService
) -> None:
    with pytest.raises(errors.InvalidRequestError, match="does not exist"):
        await Aichat.create_async(
            "", USER, cookies_file=tmp_path / "nope.txt", base_url=service.base_url
        )


# --- no cookies anywhere -----------------------------------------------------------------------


async def test_no_cookies_anywhere_names_all_three_ways(
    tmp_path: Path, service: StandInService, without_dbus: None
) -> None:
    empty = tmp_path / "cookies.txt"
    empty.write_text("# Netscape HTTP Cookie File\n")
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async("", USER, cookies_file=empty, base_url=service.base_url)
    error = caught.value
    assert isinstance(error, RuntimeError)
    message = str(error)
    assert "cookies=" in message
    assert "cookies_file=" in message
    assert "AICHAT_COOKIES_FILE" in message
    assert "browser" in message
    assert "has no cookies for 127.0.0.1" in error.reasons["cookies_file"]
    # no profile anywhere: every browser with a version for this system says so, alike
    for browser in ("firefox", "chrome", "brave", "lynx"):
        assert error.reasons[browser] == "not installed (no profile found)"
    assert "chrome, chromium, brave" in message  # alike reasons are grouped
    # browsers with no version for this system are not probed at all
    for browser in ("safari", "arc", "opera_gx"):
        assert browser not in error.reasons
    assert service.requests == []


async def test_empty_cookie_dict_falls_through_to_the_other_sources(
    service: StandInService, without_dbus: None
) -> None:
    with pytest.raises(errors.MissingCookiesError):
        await Aichat.create_async("", USER, cookies={}, base_url=service.base_url)


async def test_chrome_v10_cookies_are_read_without_d_bus(
    home: Path, local_service: StandInService, without_dbus: None
) -> None:
    """The basic password store's key is fixed and public: no keyring needed to read it."""
    build_chrome_profile(home, [Cookie("localhost", "session", SECRET_COOKIE)])
    await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
    assert local_service.requests[0].cookies == {"session": SECRET_COOKIE}


async def test_chrome_v11_cookies_without_d_bus_say_what_to_do(
    home: Path, local_service: StandInService, without_dbus: None
) -> None:
    build_chrome_profile(
        home,
        [Cookie("localhost", "session", SECRET_COOKIE)],
        keyring_password=b"a-password-kept-in-the-gnome-keyring",
    )
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
    reason = caught.value.reasons["chrome"]
    assert "encrypted with the desktop keyring" in reason
    assert "no D-Bus session" in reason
    assert "cookies_file" in reason
    assert_no_secrets(exposed_text(caught.value))
    assert local_service.requests == []


# --- browsers --------------------------------------------------------------------------------


async def test_firefox_profile_cookies_for_the_api_host_only(
    home: Path, local_service: StandInService
) -> None:
    database = build_firefox_profile(
        home,
        [
            Cookie("localhost", "session", SECRET_COOKIE),
            Cookie(".localhost", "parent", "p"),
            Cookie("notlocalhost.example", "foreign", "must-not-be-sent"),
            Cookie("sub.localhost", "deeper", "must-not-be-sent"),
            Cookie("localhost", "expired", "stale", expires=time.time() - 60),
        ],
    )
    before = checksum(database)
    await Aichat.create_async("", USER, browser="firefox", base_url=url_of(local_service))
    assert local_service.requests[0].cookies == {"session": SECRET_COOKIE, "parent": "p"}
    assert checksum(database) == before  # the profile is only read


def test_get_cookies_filters_by_domain(home: Path) -> None:
    build_firefox_profile(
        home,
        [
            Cookie(".chat-gpt.org", "cf_clearance", "c"),
            Cookie("chat-gpt.org", "session", "s"),
            Cookie("evilchat-gpt.org", "evil", "x"),
            Cookie("chat-gpt.org.evil.com", "evil2", "x"),
            Cookie("example.com", "other", "x"),
        ],
    )
    assert get_cookies("chat-gpt.org", browser="firefox") == {"cf_clearance": "c", "session": "s"}
    assert get_cookies("www.chat-gpt.org", browser=["firefox"]) == {"cf_clearance": "c"}


@pytest.mark.parametrize("version", [24, 18], ids=["host-hash-prefix", "plain-v10"])
async def test_chrome_profile_with_linux_v10_encryption(
    version: int, home: Path, local_service: StandInService, with_dbus: str
) -> None:
    database = build_chrome_profile(
        home,
        [
            Cookie("localhost", "session", SECRET_COOKIE),
            Cookie("elsewhere.example", "foreign", "must-not-be-sent"),
        ],
        version=version,
    )
    before = checksum(database)
    await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
    assert local_service.requests[0].cookies == {"session": SECRET_COOKIE}
    assert checksum(database) == before


async def test_locked_chrome_database_is_still_read_without_hanging(
    home: Path, local_service: StandInService, with_dbus: str
) -> None:
    database = build_chrome_profile(home, [Cookie("localhost", "session", "while-locked")])
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a running browser does while it writes
    try:
        started = time.monotonic()
        await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
        assert time.monotonic() - started < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert local_service.requests[0].cookies == {"session": "while-locked"}


async def test_first_browser_with_cookies_wins(
    home: Path, local_service: StandInService, with_dbus: str
) -> None:
    build_chrome_profile(home, [Cookie("localhost", "session", "chrome")])
    build_firefox_profile(home, [Cookie("localhost", "session", "firefox")])
    await Aichat.create_async(
        "", USER, browser=["firefox", "chrome"], base_url=url_of(local_service)
    )
    await Aichat.create_async(
        "", USER, browser=["chrome", "firefox"], base_url=url_of(local_service)
    )
    assert [r.cookies["session"] for r in local_service.requests] == ["firefox", "chrome"]


# --- the cache -------------------------------------------------------------------------------


def _set_firefox_value(database: Path, value: str) -> None:
    with sqlite3.connect(database) as con:
        con.execute("UPDATE moz_cookies SET value = ?", (value,))
    con.close()


async def test_browser_cookies_are_cached_and_dropped_when_rejected(
    home: Path, local_service: StandInService, browser_reads: Counted[..., object]
) -> None:
    database = build_firefox_profile(home, [Cookie("localhost", "session", "first")])
    call = {"browser": "firefox", "base_url": url_of(local_service)}
    await Aichat.create_async("", USER, **call)
    _set_firefox_value(database, "second")
    await Aichat.create_async("", USER, **call)  # cached: the profile is not read again
    local_service.push(Reply.status(403, body=b"session expired"))
    with pytest.raises(errors.AuthenticationError):
        await Aichat.create_async("", USER, **call)
    await Aichat.create_async("", USER, **call)  # the rejected cookies were dropped
    sent = [r.cookies["session"] for r in local_service.requests]
    assert sent == ["first", "first", "first", "second"]
    assert browser_reads.calls == 2


async def test_one_browser_read_for_many_waiting_calls(
    home: Path, local_service: StandInService, browser_reads: Counted[..., object]
) -> None:
    build_firefox_profile(home, [Cookie("localhost", "session", "shared")])
    answers = await asyncio.gather(
        *[
            Aichat.create_async("", USER, browser="firefox", base_url=url_of(local_service))
            for _ in range(20)
        ]
    )
    assert len(answers) == 20
    assert browser_reads.calls == 1
    assert {r.cookies["session"] for r in local_service.requests} == {"shared"}


@pytest.mark.slow
async def test_cold_browser_read_does_not_block_the_event_loop(
    home: Path, local_service: StandInService, with_dbus: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Many cookies of other hosts that browser_cookie3 must decrypt before we filter them out.
    decoys = [Cookie(f"x{i}.localhost", f"c{i}", "v" * 64) for i in range(15000)]
    build_chrome_profile(home, [Cookie("localhost", "session", "slow"), *decoys])
    # asyncio's debug mode times each callback the loop runs: a read on the loop would be one
    # callback about as long as the read. (The ticker's lateness cannot tell that apart from a
    # loop waiting for the GIL on a starved machine: once 0.9 s in a 2 s read, under load.)
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 0.05
    caplog.set_level(logging.WARNING, logger="asyncio")
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(0.005)
            ticks += 1

    tick = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0.05)  # the ticker is ticking before the read starts
        ticks_before = ticks
        started = time.perf_counter()
        await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
        elapsed = time.perf_counter() - started
        ticks_during = ticks - ticks_before
        done.set()
        await tick
    finally:
        loop.set_debug(False)
    assert local_service.requests[0].cookies == {"session": "slow"}
    assert elapsed > 0.1  # a read long enough to measure
    slow = [
        float(match.group(1))
        for record in caplog.records
        if (match := re.search(r"took ([0-9.]+) seconds", record.getMessage()))
    ]
    assert max(slow, default=0.0) < elapsed / 3, f"a {max(slow):.3f} s callback in {elapsed:.3f} s"
    # It kept ticking all along: at least one 5 ms tick per 100 ms on average (the read's share
    # of the GIL and a starved machine slow the ticker down; a blocked loop stops it).
    assert ticks_during >= elapsed / 0.1, f"{ticks_during} ticks in a {elapsed:.3f} s read"


def serve_silent_bus(
    listener: socket.socket, authenticate: bool, accepted: list[socket.socket]
) -> None:
    """A D-Bus socket that says nothing, or that authenticates and then answers nothing."""
    connection = listener.accept()[0]
    accepted.append(connection)
    if not authenticate:
        return
    received = b""
    while b"AUTH" not in received or not received.endswith(b"\r\n"):
        chunk = connection.recv(1024)
        if not chunk:
            return
        received += chunk
    connection.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")  # then silence


@pytest.mark.parametrize(
    ("authenticate", "phrase"),
    [(False, "did not answer over D-Bus in time"), (True, "took over 1 s")],
    ids=["silent-at-auth", "silent-after-auth"],
)
@pytest.mark.slow
async def test_keyring_that_never_answers_is_given_up(
    authenticate: bool,
    phrase: str,
    home: Path,
    tmp_path: Path,
    local_service: StandInService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """jeepney gives up on a silent bus after 1 s of authentication; a bus that authenticates
    and then never answers is cut off by the provider's own limit (set to 1 s here). The
    cookies are keyring-encrypted (v11), so nothing can be read without an answer."""
    build_chrome_profile(
        home, [Cookie("localhost", "session", "unreachable")], keyring_password=b"in-the-keyring"
    )
    path = tmp_path / "silent-bus"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(
        target=serve_silent_bus, args=(listener, authenticate, accepted), daemon=True
    ).start()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={path}")
    monkeypatch.setattr(browser_cookie_cache, "load_timeout", 1.0 if authenticate else 5.0)
    try:
        started = time.monotonic()
        with pytest.raises(errors.MissingCookiesError) as caught:
            await Aichat.create_async("", USER, browser="chrome", base_url=url_of(local_service))
        assert time.monotonic() - started < 4
        assert phrase in str(caught.value)
    finally:
        for connection in accepted:
            connection.close()
        listener.close()
    assert local_service.requests == []


def test_cookie_values_never_appear_in_the_options_repr(service: StandInService) -> None:
    from aichat_provider._options import parse_options

    options = parse_options(
        "",
        USER,
        f"http://u:{SECRET_COOKIE}@127.0.0.1:1",
        {"cookies": COOKIES},
        models=["gpt-3.5-turbo"],
        default_model="gpt-3.5-turbo",
    )
    assert_no_secrets(repr(options))


async def test_a_domain_cookie_never_reaches_a_host_that_only_ends_with_its_name(
    tmp_path: Path, service: StandInService
) -> None:
    """A cookie for .chat.localhost goes to chat.localhost and its subdomains, never to
    evilchat.localhost (the match is on a dot boundary)."""
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps(
            [
                {"name": "parent", "value": "p", "domain": ".chat.localhost"},
                {"name": "own", "value": "o", "domain": "evilchat.localhost", "hostOnly": True},
            ]
        )
    )
    evil = f"http://evilchat.localhost:{service.port}"
    await Aichat.create_async("", USER, cookies_file=path, base_url=evil, browser=[])
    assert service.requests[0].cookies == {"own": "o"}
    sub = f"http://api.chat.localhost:{service.port}"
    await Aichat.create_async("", USER, cookies_file=path, base_url=sub, browser=[])
    assert service.requests[1].cookies == {"parent": "p"}


async def test_browser_cookies_are_read_again_once_the_cache_time_is_up(
    home: Path,
    local_service: StandInService,
    monkeypatch: pytest.MonkeyPatch,
    browser_reads: Counted[..., object],
) -> None:
    database = build_firefox_profile(home, [Cookie("localhost", "session", "first")])
    monkeypatch.setattr(browser_cookie_cache, "ttl", 0.3)
    call = {"browser": "firefox", "base_url": url_of(local_service)}
    await Aichat.create_async("", USER, **call)
    _set_firefox_value(database, "second")
    await Aichat.create_async("", USER, **call)  # within the time: the cached read
    await asyncio.sleep(0.35)  # past the cache time (0.3 s)
    await Aichat.create_async("", USER, **call)  # after it: the profile is read again
    assert [r.cookies["session"] for r in local_service.requests] == ["first", "first", "second"]
    assert browser_reads.calls == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "127.0.0.1\tFALSE\t/\tFALSE\t1000000\tsession\t{secret}",
            "its cookies for 127.0.0.1 have expired (session); export them again while logged in "
            "to 127.0.0.1",
        ),
        (
            "127.0.0.1\tFALSE\t/\tTRUE\t0\tsession\t{secret}",
            "its cookies for 127.0.0.1 are Secure (sent over https only) and base_url uses http; "
            "use the https:// address",
        ),
        (
            "elsewhere.example\tFALSE\t/\tFALSE\t0\tsession\t{secret}",
            "it has cookies only for elsewhere.example, not for 127.0.0.1; check base_url",
        ),
    ],
    ids=["expired", "secure", "other-host"],
)
async def test_a_cookies_file_says_why_its_cookies_stay_behind(
    line: str, reason: str, tmp_path: Path, service: StandInService
) -> None:
    """As the store and the browsers do: "has no cookies" would send the user looking for a
    file that does hold them, expired, Secure or for another host."""
    path = tmp_path / "cookies.txt"
    path.write_text(line.format(secret=SECRET_COOKIE) + "\n")
    with pytest.raises(errors.MissingCookiesError) as caught:
        await Aichat.create_async(
            "", USER, cookies_file=path, base_url=service.base_url, browser=[], max_retries=0
        )
    assert caught.value.reasons == {"cookies_file": f"{str(path)!r}: {reason}"}
    assert_no_secrets(exposed_text(caught.value))
    assert service.requests == []


async def test_chrome_cookies_of_an_ipv6_address_reach_it(
    home: Path, without_dbus: None, tmp_path: Path
) -> None:
    """Chrome keeps the cookies of ``http://[::1]:port`` under ``[::1]``, brackets and all (as its
    exports name them): they were taken for another host's ("only for [::1], not for ::1; check
    base_url"), and a cookies.txt starting with "[::1]" for a broken JSON file."""
    build_chrome_profile(home, [Cookie("[::1]", "session", SECRET_COOKIE)])
    export = tmp_path / "cookies.json"
    export.write_text(json.dumps([{"name": "from_file", "value": "f", "domain": "[::1]"}]))
    with StandInService(host="::1") as service:
        base_url = f"http://[::1]:{service.port}"
        await Aichat.create_async("", USER, browser="chrome", base_url=base_url, max_retries=0)
        assert service.requests[-1].cookies == {"session": SECRET_COOKIE}
        await Aichat.create_async("", USER, cookies_file=export, base_url=base_url, browser=[])
        assert service.requests[-1].cookies == {"from_file": "f"}
        # a cookies.txt written from such an export starts with "[": it is no JSON list
        netscape = tmp_path / "cookies.txt"
        netscape.write_text("[::1]\tFALSE\t/\tFALSE\t0\tfrom_txt\tt\n")
        await Aichat.create_async("", USER, cookies_file=netscape, base_url=base_url, browser=[])
        assert service.requests[-1].cookies == {"from_txt": "t"}
