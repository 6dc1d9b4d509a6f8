"""Details of cookies files and the login store that change which cookies a call sends: the
include-subdomains column, a byte order mark, the JSON keys other exporters use, session cookies
and the expiry the store keeps. Each test makes a real call to the stand-in service and checks
what reached it."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.cookies._store import data_dir, load_login, save_login, store_path
from aichat_provider.testing import StandInService
from support.secrets import SECRET_COOKIE, USER

LATER = int(time.time()) + 3600
EARLIER = int(time.time()) - 3600


def subdomain_url(service: StandInService) -> str:
    """The stand-in under a subdomain of ``chat.localhost`` (curl resolves ``*.localhost`` to
    loopback), so domain cookies for ``chat.localhost`` can be told from host-only ones (a
    cookie for all of ``.localhost`` would be one for a whole top-level domain)."""
    return f"http://api.chat.localhost:{service.port}"


async def sent(service: StandInService, base_url: str, **kwargs: object) -> dict[str, str]:
    await Aichat.create_async("", USER, base_url=base_url, browser=[], max_retries=0, **kwargs)
    return service.requests[-1].cookies


async def test_the_include_subdomains_column_of_cookies_txt_decides_who_gets_a_cookie(
    tmp_path: Path, service: StandInService
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(
        f"chat.localhost\tTRUE\t/\tFALSE\t{LATER}\tparent\tfor-every-subdomain\n"
        f"chat.localhost\tFALSE\t/\tFALSE\t{LATER}\tparent_only\tfor-the-parent-alone\n"
        f"api.chat.localhost\tFALSE\t/\tFALSE\t{LATER}\tsession\t{SECRET_COOKIE}\n"
    )
    assert await sent(service, subdomain_url(service), cookies_file=path) == {
        "parent": "for-every-subdomain",
        "session": SECRET_COOKIE,
    }


@pytest.mark.parametrize("kind", ["netscape", "json"])
async def test_a_file_saved_with_a_utf8_byte_order_mark_is_read_whole(
    kind: str, tmp_path: Path, service: StandInService
) -> None:
    """Windows editors write a BOM: the first line (here the only cookie) must survive it."""
    path = tmp_path / "cookies.txt"
    if kind == "netscape":
        text = f"127.0.0.1\tFALSE\t/\tFALSE\t{LATER}\tsession\t{SECRET_COOKIE}\n"
    else:
        text = json.dumps([{"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1"}])
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert await sent(service, service.base_url, cookies_file=path) == {"session": SECRET_COOKIE}


async def test_a_json_export_may_name_the_domain_host(
    tmp_path: Path, service: StandInService
) -> None:
    """Some exporters (Firefox add-ons, browser_cookie3 dumps) write ``host``, not ``domain``;
    the key decides the host, so another host's cookie stays out."""
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps(
            [
                {"name": "session", "value": SECRET_COOKIE, "host": "127.0.0.1"},
                {"name": "foreign", "value": "not-for-us", "host": "elsewhere.example"},
            ]
        )
    )
    assert await sent(service, service.base_url, cookies_file=path) == {"session": SECRET_COOKIE}


async def test_session_true_means_no_expiry_whatever_date_the_export_wrote(
    tmp_path: Path, service: StandInService
) -> None:
    """EditThisCookie writes ``session: true`` with a placeholder ``expirationDate``."""
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps(
            [
                {
                    "name": "session",
                    "value": SECRET_COOKIE,
                    "domain": "127.0.0.1",
                    "session": True,
                    "expirationDate": EARLIER,
                },
                {
                    "name": "stale",
                    "value": "expired",
                    "domain": "127.0.0.1",
                    "session": False,
                    "expirationDate": EARLIER,
                },
            ]
        )
    )
    assert await sent(service, service.base_url, cookies_file=path) == {"session": SECRET_COOKIE}


async def test_save_login_keeps_each_cookies_expiry(home: Path, service: StandInService) -> None:
    """A stored cookie expires when the browser said it would: one that has expired since the
    login is not sent, the others are."""
    soon = time.time() + 2.0
    save_login(
        host="127.0.0.1",
        base_url=service.base_url,
        cookies=[
            {"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1", "expires": LATER},
            {"name": "short", "value": "lived", "domain": "127.0.0.1", "expires": soon},
        ],
        user_agent=None,
        browser=None,
    )
    stored = load_login("127.0.0.1")
    assert stored is not None
    assert {c.name: c.expires for c in stored.cookies} == {"session": LATER, "short": int(soon)}
    document = json.loads(store_path("127.0.0.1").read_text())
    assert [c["expires"] for c in document["cookies"]] == [LATER, soon]
    # Stored as saved: rewrite the short one into the past, as time passing would.
    document["cookies"][1]["expires"] = EARLIER
    store_path("127.0.0.1").write_text(json.dumps(document))
    assert await sent(service, service.base_url) == {"session": SECRET_COOKIE}


async def test_a_stored_host_only_cookie_of_the_parent_domain_is_not_sent(
    home: Path, service: StandInService
) -> None:
    """A login on ``api.chat.localhost`` saw a host-only cookie of ``chat.localhost`` and a
    domain cookie of ``.chat.localhost``: only the domain cookie (and the host's own) belong to
    the API host."""
    save_login(
        host="api.chat.localhost",
        base_url=subdomain_url(service),
        cookies=[
            {"name": "session", "value": SECRET_COOKIE, "domain": "api.chat.localhost"},
            {"name": "parent", "value": "for-every-subdomain", "domain": ".chat.localhost"},
            {"name": "parent_only", "value": "for-the-parent-alone", "domain": "chat.localhost"},
        ],
        user_agent=None,
        browser=None,
    )
    assert await sent(service, subdomain_url(service)) == {
        "session": SECRET_COOKIE,
        "parent": "for-every-subdomain",
    }


@pytest.mark.parametrize("kind", ["netscape", "json", "har"])
async def test_a_secure_cookie_from_a_file_goes_over_https_only(
    kind: str, tmp_path: Path, service: StandInService, tls_service: StandInService
) -> None:
    """Every format's Secure flag is kept (for a HAR: cookies a request sent over https)."""
    path = tmp_path / "cookies.txt"
    if kind == "netscape":
        path.write_text(
            f"127.0.0.1\tFALSE\t/\tTRUE\t{LATER}\tsecure_only\t{SECRET_COOKIE}\n"
            f"127.0.0.1\tFALSE\t/\tFALSE\t{LATER}\tplain\tanywhere\n"
        )
    elif kind == "json":
        path.write_text(
            json.dumps(
                [
                    {
                        "name": "secure_only",
                        "value": SECRET_COOKIE,
                        "domain": "127.0.0.1",
                        "secure": True,
                    },
                    {"name": "plain", "value": "anywhere", "domain": "127.0.0.1"},
                ]
            )
        )
    else:
        sent_over = {"secure_only": ("https", SECRET_COOKIE), "plain": ("http", "anywhere")}
        path.write_text(
            json.dumps(
                {
                    "log": {
                        "entries": [
                            {
                                "request": {
                                    "url": f"{scheme}://127.0.0.1/api/text",
                                    "cookies": [{"name": name, "value": value}],
                                },
                                "response": {"cookies": []},
                            }
                            for name, (scheme, value) in sent_over.items()
                        ]
                    }
                }
            )
        )
    assert await sent(service, service.base_url, cookies_file=path) == {"plain": "anywhere"}
    await sent(tls_service, tls_service.base_url, cookies_file=path, verify=tls_service.ca_path)
    assert tls_service.requests[-1].cookies == {"secure_only": SECRET_COOKIE, "plain": "anywhere"}


async def test_seleniums_expiry_key_is_read(tmp_path: Path, service: StandInService) -> None:
    """Selenium's ``get_cookies()`` writes ``expiry``: an expired cookie stays out."""
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps(
            [
                {"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1", "expiry": LATER},
                {"name": "stale", "value": "expired", "domain": "127.0.0.1", "expiry": EARLIER},
            ]
        )
    )
    assert await sent(service, service.base_url, cookies_file=path) == {"session": SECRET_COOKIE}


async def test_a_json_exports_host_only_flag_decides_over_the_domains_dot(
    tmp_path: Path, service: StandInService
) -> None:
    """Chrome's exporters write ``hostOnly``; it says more than a leading dot does."""
    path = tmp_path / "cookies.json"
    path.write_text(
        json.dumps(
            [
                {
                    "name": "parent",
                    "value": "shared",
                    "domain": "chat.localhost",
                    "hostOnly": False,
                },
                {
                    "name": "alone",
                    "value": "not-shared",
                    "domain": ".chat.localhost",
                    "hostOnly": True,
                },
            ]
        )
    )
    assert await sent(service, subdomain_url(service), cookies_file=path) == {"parent": "shared"}


async def test_a_har_cookie_set_without_a_path_gets_the_directory_of_its_url(
    tmp_path: Path, service: StandInService
) -> None:
    """RFC 6265 5.1.4: set by ``/api/text/more`` without a Path, a cookie's path is
    ``/api/text``, which the API's own path matches."""
    path = tmp_path / "session.har"
    base = f"http://127.0.0.1:{service.port}"
    path.write_text(
        json.dumps(
            {
                "log": {
                    "entries": [
                        {
                            "request": {"url": f"{base}/api/text/more", "cookies": []},
                            "response": {"cookies": [{"name": "session", "value": SECRET_COOKIE}]},
                        }
                    ]
                }
            }
        )
    )
    assert await sent(service, service.base_url, cookies_file=path) == {"session": SECRET_COOKIE}


async def test_a_stored_secure_cookie_goes_over_https_only(
    home: Path, service: StandInService, tls_service: StandInService
) -> None:
    for stand_in in (service, tls_service):
        save_login(
            host="127.0.0.1",
            base_url=stand_in.base_url,
            cookies=[
                {
                    "name": "secure_only",
                    "value": SECRET_COOKIE,
                    "domain": "127.0.0.1",
                    "secure": True,
                    "expires": LATER,
                },
                {"name": "plain", "value": "anywhere", "domain": "127.0.0.1", "expires": LATER},
            ],
            user_agent=None,
            browser=None,
        )
    assert await sent(service, service.base_url) == {"plain": "anywhere"}
    await sent(tls_service, tls_service.base_url, verify=tls_service.ca_path)
    assert tls_service.requests[-1].cookies == {"secure_only": SECRET_COOKIE, "plain": "anywhere"}


def test_aichat_data_dir_wins_over_xdg_data_home(tmp_path: Path) -> None:
    environ = {
        "AICHAT_DATA_DIR": str(tmp_path / "chosen"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path / "home"),
    }
    assert data_dir(environ, "linux") == tmp_path / "chosen"
    assert store_path("127.0.0.1", environ).is_relative_to(tmp_path / "chosen")


def test_a_store_folder_others_can_read_is_closed_before_the_login_is_written(
    home: Path,
) -> None:
    """A ``cookies`` folder left group- and world-readable (made by hand, or by an older
    version) is made the user's alone before a login is written into it."""
    folder = store_path("127.0.0.1").parent
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    save_login(
        host="127.0.0.1",
        base_url="http://127.0.0.1:1",
        cookies=[{"name": "session", "value": SECRET_COOKIE, "domain": "127.0.0.1"}],
        user_agent=None,
        browser=None,
    )
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "name", ["__Secure-next-auth.session-token", "__Host-session", "__secure-x"]
)
async def test_a_cookie_whose_name_says_secure_never_goes_over_plain_http(
    name: str, tmp_path: Path, service: StandInService, tls_service: StandInService
) -> None:
    """A ``__Secure-`` or ``__Host-`` cookie exists only with the Secure flag (browsers match the
    prefix in any case): a hand-written export that left the flag out must not send it in clear."""
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps([{"name": name, "value": SECRET_COOKIE, "domain": "127.0.0.1"}]))
    with pytest.raises(errors.MissingCookiesError) as caught:
        await sent(service, service.base_url, cookies_file=path)
    assert service.requests == []
    assert SECRET_COOKIE not in str(caught.value)
    await sent(tls_service, tls_service.base_url, cookies_file=path, verify=tls_service.ca_path)
    assert tls_service.requests[-1].cookies == {name: SECRET_COOKIE}
