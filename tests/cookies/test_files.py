"""Cookies files in every format people keep them in, and every way a file can be wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.testing import Reply, StandInService
from support.calls import Counted
from support.secrets import SECRET_COOKIE, USER, assert_no_secrets, exposed_text

API = "http://127.0.0.1/api/text"


async def sent_with(path: Path, service: StandInService) -> dict[str, str]:
    await Aichat.create_async(
        "", USER, cookies_file=path, base_url=service.base_url, browser=[], max_retries=0
    )
    return service.requests[-1].cookies


def har(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "test"}, "entries": entries}})


def entry(url: str, request_cookies: Any = None, headers: Any = None, response: Any = None) -> Any:
    return {
        "request": {
            "method": "POST",
            "url": url,
            "cookies": request_cookies if request_cookies is not None else [],
            "headers": headers or [],
        },
        "response": response if response is not None else {"status": 200, "cookies": []},
    }


async def test_a_har_recording_gives_what_its_requests_sent_and_its_responses_set(
    tmp_path: Path, service: StandInService
) -> None:
    base = f"http://127.0.0.1:{service.port}"
    path = tmp_path / "session.har"
    path.write_text(
        har(
            [
                entry(f"{base}/chat", request_cookies=[{"name": "session", "value": "old"}]),
                entry(
                    f"{base}/api/text",
                    headers=[{"name": "Cookie", "value": "session=from-header; theme=dark"}],
                ),
                entry(
                    f"{base}/login",
                    response={
                        "cookies": [
                            {
                                "name": "cf_clearance",
                                "value": "cleared",
                                "path": "/",
                                "expires": "2999-01-01T00:00:00.000Z",
                            },
                            {
                                "name": "gone",
                                "value": "x",
                                "expires": "2001-01-01T00:00:00Z",
                            },
                        ]
                    },
                ),
                entry(
                    "https://elsewhere.example/", request_cookies=[{"name": "other", "value": "o"}]
                ),
                {"request": "not an object"},
                entry("not a url at all"),
            ]
        )
    )
    assert await sent_with(path, service) == {
        "session": "from-header",  # later entries win
        "theme": "dark",
        "cf_clearance": "cleared",
    }


@pytest.mark.parametrize(
    ("document", "phrase"),
    [
        ({"log": {"entries": "no"}}, "log.entries"),
        ({"log": {"entries": ["text"]}}, "entry 0 is not an object"),
        ({"cookies": [{"name": "a"}]}, "cookie 'a' must have a string value"),
        ([{"value": "no name"}], "a string 'name'"),
        ([{"name": "a", "value": "b", "domain": 5}], "'domain' and 'path' must be strings"),
        ([{"name": "a", "value": "b", "expirationDate": "soon"}], "is not a date"),
        ([{"name": "a", "value": "b", "expires": [1]}], "must be a number of seconds"),
        ([1, 2], "entry 0 is not an object"),
        ({"something": "else"}, "expected a JSON list"),
    ],
)
async def test_json_files_that_are_not_cookies_say_where(
    document: object, phrase: str, tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps(document))
    with pytest.raises(errors.InvalidRequestError, match=phrase) as caught:
        await sent_with(path, service)
    assert str(path) in str(caught.value)
    assert service.requests == []


async def test_playwright_storage_state_with_session_and_host_only_cookies(
    tmp_path: Path, service: StandInService
) -> None:
    state = {
        "cookies": [
            {"name": "session", "value": "s", "domain": "127.0.0.1", "path": "/", "expires": -1},
            {"name": "kept", "value": "k", "domain": "127.0.0.1", "session": True},
            {"name": "old", "value": "o", "domain": "127.0.0.1", "expires": 1_000_000},
        ],
        "origins": [],
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    assert await sent_with(path, service) == {"session": "s", "kept": "k"}


async def test_a_netscape_line_with_a_missing_field(
    tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text("127.0.0.1\tFALSE\t/\tFALSE\n")
    with pytest.raises(errors.InvalidRequestError, match="line 1: expected 7"):
        await sent_with(path, service)


async def test_an_export_whose_value_lost_its_tab(tmp_path: Path, service: StandInService) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text("127.0.0.1\tFALSE\t/\tFALSE\t0\tempty\n127.0.0.1 FALSE / FALSE 0 spaced v\n")
    assert await sent_with(path, service) == {"empty": "", "spaced": "v"}


@pytest.mark.parametrize(
    ("content", "phrase"),
    [(b"\xc3\x28\x00garbage", "not UTF-8 text"), (b"{not json", "neither valid JSON")],
)
async def test_a_file_that_is_not_text_or_not_json(
    content: bytes, phrase: str, tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies"
    path.write_bytes(content)
    with pytest.raises(errors.InvalidRequestError, match=phrase):
        await sent_with(path, service)


async def test_a_missing_file(
    tmp_path: Path, service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(errors.InvalidRequestError) as absolute:
        await sent_with(missing, service)
    assert str(absolute.value) == f"cookies file {str(missing)!r} does not exist; check the path."
    # a relative path: the folder it was looked for in is the next thing to check
    monkeypatch.chdir(tmp_path)
    with pytest.raises(errors.InvalidRequestError) as relative:
        await sent_with(Path("nope.txt"), service)
    assert str(relative.value) == (
        f"cookies file 'nope.txt' does not exist; check the path, from the current folder "
        f"{str(tmp_path)!r}."
    )


async def test_a_file_that_changed_is_read_again(
    tmp_path: Path, service: StandInService, file_parses: Counted[..., object]
) -> None:
    from aichat_provider.cookies._sources import cookies_file_cache

    path = tmp_path / "cookies.txt"
    path.write_text("127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tfirst\n")
    assert await sent_with(path, service) == {"session": "first"}
    cookies_file_cache.recheck(path)  # as if the recheck time had passed
    assert await sent_with(path, service) == {"session": "first"}  # unchanged: not parsed
    assert file_parses.calls == 1
    path.write_text("127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tsecond-value\n")
    cookies_file_cache.recheck(path)
    assert await sent_with(path, service) == {"session": "second-value"}
    assert file_parses.calls == 2


async def test_a_cookie_for_a_whole_top_level_domain_does_not_reach_the_service(
    tmp_path: Path, service: StandInService
) -> None:
    """curl resolves ``chat.localhost`` to 127.0.0.1: a ``.localhost`` cookie (every site under
    that top-level domain) stays behind there, and a ``.local`` one for the dotless
    ``localhost`` (which is the ``.localhost`` cookie's own host)."""
    path = tmp_path / "cookies.txt"
    path.write_text(
        ".localhost\tTRUE\t/\tFALSE\t0\twide\tw\n"
        "chat.localhost\tFALSE\t/\tFALSE\t0\tsession\ts\n"
        ".local\tTRUE\t/\tFALSE\t0\tmdns\tm\n"
        "localhost\tFALSE\t/\tFALSE\t0\tlocal_session\tl\n"
    )
    for base_url, expected in [
        (f"http://chat.localhost:{service.port}", {"session": "s"}),
        (f"http://localhost:{service.port}", {"wide": "w", "local_session": "l"}),
    ]:
        await Aichat.create_async(
            "", USER, cookies_file=path, base_url=base_url, browser=[], max_retries=0
        )
        assert service.requests[-1].cookies == expected


@pytest.mark.parametrize(
    ("name", "size", "shown"),
    [("session", 4097 - len("session"), "'session'"), ("n" * 5000, 1, "a name of 5000 characters")],
    ids=["long-value", "long-name"],
)
async def test_a_cookie_longer_than_a_browser_keeps_is_refused_before_sending(
    name: str, size: int, shown: str, tmp_path: Path, service: StandInService
) -> None:
    """Browsers keep a cookie's name and value up to 4096 bytes: a longer one (a value pasted
    twice, a broken export) failed only at the server, as 'curl error 52: Empty reply from
    server ... check the network'."""
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps([{"name": name, "value": "v" * size, "domain": "127.0.0.1"}]))
    with pytest.raises(errors.InvalidRequestError) as caught:
        await sent_with(path, service)
    assert str(caught.value) == (
        f"cookies file {str(path)!r}: cookie {shown} is {len(name) + size} bytes long (name and "
        "value), over the 4096 a browser keeps; export the cookies again."
    )
    assert service.requests == []
    for cookies in ({name: "v" * size}, f"{name}={'v' * size}"):
        with pytest.raises(errors.InvalidRequestError, match="over the 4096 a browser keeps"):
            await Aichat.create_async("", USER, cookies=cookies, base_url=service.base_url)
    assert service.requests == []


async def test_a_cookie_of_4096_bytes_is_sent(tmp_path: Path, service: StandInService) -> None:
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps([{"name": "s", "value": "v" * 4095, "domain": "127.0.0.1"}]))
    assert await sent_with(path, service) == {"s": "v" * 4095}


async def test_of_two_cookies_of_one_name_the_first_listed_reaches_the_service(
    tmp_path: Path, service: StandInService
) -> None:
    """An export lists the older cookie first, as the browser sends it first; the order of the
    domains in the file does not change that."""
    path = tmp_path / "cookies.txt"
    path.write_text(
        ".chat.localhost\tTRUE\t/\tFALSE\t0\ttheme\tdark\n"
        "chat.localhost\tFALSE\t/\tFALSE\t0\tsession\tfirst\n"
        ".chat.localhost\tTRUE\t/\tFALSE\t0\tsession\tsecond\n"
    )
    base_url = f"http://chat.localhost:{service.port}"
    await Aichat.create_async("", USER, cookies_file=path, base_url=base_url, browser=[])
    assert service.requests[-1].cookies == {"theme": "dark", "session": "first"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
async def test_a_file_saved_as_utf16_with_its_byte_order_mark_is_read(
    encoding: str, tmp_path: Path, service: StandInService
) -> None:
    """Windows PowerShell 5 writes ``>`` and ``Out-File`` as UTF-16 with a byte order mark and
    CRLF line ends: the file was refused as 'not UTF-8 text', with no way out named."""
    path = tmp_path / "cookies.txt"
    text = "# Netscape HTTP Cookie File\r\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\ts\r\n"
    bom = "" if encoding == "utf-16" else "\ufeff"  # the plain codec writes its own
    path.write_bytes((bom + text).encode(encoding))
    assert await sent_with(path, service) == {"session": "s"}


async def test_a_file_in_another_encoding_says_to_save_it_as_utf8(
    tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_bytes("127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tcaf\u00e9\n".encode("latin-1"))
    with pytest.raises(errors.InvalidRequestError) as caught:
        await sent_with(path, service)
    assert str(caught.value) == (
        f"cookies file {str(path)!r} is not UTF-8 text; save it as UTF-8 (or export the cookies "
        "again)."
    )
    assert service.requests == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_cookies_from_a_file_never_follow_a_redirect_to_another_server(
    status: int, tmp_path: Path, tls_service: StandInService
) -> None:
    """The service over https redirects to another host, over https (its CA trusted too, so a
    followed redirect would arrive) and over http: neither sees a request."""
    path = tmp_path / "cookies.txt"
    path.write_text(f"127.0.0.1\tFALSE\t/\tTRUE\t0\tsession\t{SECRET_COOKIE}\n")
    with StandInService(tls=True) as other_tls, StandInService() as other_plain:
        both = tmp_path / "both-cas.pem"
        assert tls_service.ca_path
        assert other_tls.ca_path
        both.write_text(Path(tls_service.ca_path).read_text() + Path(other_tls.ca_path).read_text())
        for target in (
            f"https://localhost:{other_tls.port}/api/text",
            f"http://localhost:{other_plain.port}/api/text",
        ):
            tls_service.push(Reply.redirect(target, status))
            with pytest.raises(errors.ResponseStatusError) as caught:
                await Aichat.create_async(
                    "",
                    USER,
                    cookies_file=path,
                    base_url=tls_service.base_url,
                    verify=str(both),
                    browser=[],
                    max_retries=0,
                )
            assert caught.value.status_code == status
            assert_no_secrets(exposed_text(caught.value))
            assert tls_service.requests[-1].cookies == {"session": SECRET_COOKIE}
        assert other_tls.requests == []
        assert other_plain.requests == []
