"""HAR recordings: each entry's cookies count only where a browser would have stored them.

Regression tests for the security issue's HAR item: a HAR whose response from ``evil.example``
set ``session`` with ``Domain`` = the API host (or ``.host``, or a longer ``Path``) replaced the
user's own session, so prompts went to another person's account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aichat_provider import Aichat
from aichat_provider.cookies._files import read_cookies_file
from aichat_provider.testing import StandInService
from support.secrets import USER

OWN = "users-own-session-4c1d"
ATTACKER = "attackers-session-9e2b"


def har(*entries: dict[str, Any]) -> str:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "t"}, "entries": entries}})


def entry(
    url: str, *, sent: dict[str, str] | None = None, set_: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One request to ``url`` that sent the ``sent`` cookies and whose response set ``set_``."""
    return {
        "request": {
            "method": "GET",
            "url": url,
            "cookies": [{"name": k, "value": v} for k, v in (sent or {}).items()],
            "headers": [],
        },
        "response": {"status": 200, "cookies": set_ or []},
    }


async def sent_with(text: str, tmp_path: Path, service: StandInService) -> dict[str, str]:
    path = tmp_path / "recording.har"
    path.write_text(text)
    await Aichat.create_async(
        "", USER, cookies_file=path, base_url=service.base_url, browser=[], max_retries=0
    )
    return service.requests[-1].cookies


def own_cookie(base: str, how: str) -> dict[str, Any]:
    """The entry holding the user's own cookie: sent to the API host, or set by it."""
    if how == "sent":
        return entry(f"{base}/api/text", sent={"session": OWN})
    return entry(f"{base}/", set_=[{"name": "session", "value": OWN, "path": "/"}])


#: What ``evil.example``'s response sets, ``{host}`` standing for the API host.
FIXATIONS = {
    "domain": {"domain": "{host}", "path": "/"},
    "leading dot": {"domain": ".{host}", "path": "/"},
    "longer path": {"domain": "{host}", "path": "/api"},
    "longer path, dot": {"domain": ".{host}", "path": "/api/text"},
    "host field": {"host": "{host}"},
}


@pytest.mark.parametrize("evil_first", [False, True], ids=["evil-last", "evil-first"])
@pytest.mark.parametrize("how", ["sent", "set"])
@pytest.mark.parametrize("fixation", list(FIXATIONS))
async def test_the_har_fixation_sends_the_users_own_cookie(
    fixation: str, how: str, evil_first: bool, tmp_path: Path, service: StandInService
) -> None:
    base = service.base_url.removesuffix("/")
    host = "127.0.0.1"
    evil_cookie = {"name": "session", "value": ATTACKER}
    evil_cookie.update({k: v.format(host=host) for k, v in FIXATIONS[fixation].items()})
    evil = entry("https://evil.example/", set_=[evil_cookie])
    own = own_cookie(base, how)
    entries = [evil, own] if evil_first else [own, evil]
    assert await sent_with(har(*entries), tmp_path, service) == {"session": OWN}


async def test_another_sites_cookies_never_reach_the_api_host(
    tmp_path: Path, service: StandInService
) -> None:
    base = service.base_url.removesuffix("/")
    text = har(
        entry(
            "https://evil.example/page",
            sent={"tracker": "t"},
            set_=[
                {"name": "plain", "value": "p"},  # no Domain: evil.example's alone
                {"name": "own_domain", "value": "o", "domain": ".evil.example"},
                {"name": "ip_domain", "value": "i", "domain": "127.0.0.1", "path": "/"},
            ],
        ),
        # a host name ending in the API address is not a subdomain of an IP address
        entry(
            "http://x.127.0.0.1/", set_=[{"name": "dotted", "value": "d", "domain": "127.0.0.1"}]
        ),
        # the API address itself may name itself
        entry(f"{base}/", set_=[{"name": "session", "value": OWN, "domain": "127.0.0.1"}]),
    )
    assert await sent_with(text, tmp_path, service) == {"session": OWN}


# Host names cannot reach the local stand-in, so these ask read_cookies_file (what the provider
# and the server call) which cookies go to a named API host.


def chosen(text: str, tmp_path: Path, url: str = "https://chat-gpt.org/api/text") -> dict[str, str]:
    path = tmp_path / "named.har"
    path.write_text(text)
    return read_cookies_file(path, url).values


@pytest.mark.parametrize("fixation", list(FIXATIONS))
def test_the_fixation_by_name(fixation: str, tmp_path: Path) -> None:
    evil_cookie = {"name": "session", "value": ATTACKER}
    evil_cookie.update({k: v.format(host="chat-gpt.org") for k, v in FIXATIONS[fixation].items()})
    for evil_url in (
        "https://evil.example/",
        "https://xchat-gpt.org/",
        "https://chat-gpt.org.evil/",
    ):
        text = har(
            entry(evil_url, set_=[evil_cookie]),
            entry("https://chat-gpt.org/api/text", sent={"session": OWN}),
            entry(evil_url, set_=[evil_cookie]),
        )
        assert chosen(text, tmp_path) == {"session": OWN}, evil_url


def test_a_subdomain_may_set_a_cookie_for_its_parent(tmp_path: Path) -> None:
    """RFC 6265 5.3 step 6: www.chat-gpt.org may set Domain=chat-gpt.org, as browsers accept."""
    text = har(
        entry(
            "https://www.chat-gpt.org/login",
            set_=[
                {"name": "parent", "value": "p", "domain": "chat-gpt.org", "path": "/"},
                {"name": "dotted", "value": "d", "domain": ".chat-gpt.org", "path": "/"},
                {"name": "www_only", "value": "w", "path": "/"},  # host-only for www
                {"name": "sibling", "value": "s", "domain": "api.chat-gpt.org", "path": "/"},
                {"name": "suffix", "value": "x", "domain": "org", "path": "/"},
                {"name": "dot_suffix", "value": "x", "domain": ".org", "path": "/"},
            ],
        )
    )
    assert chosen(text, tmp_path) == {"parent": "p", "dotted": "d"}
    # a sibling host is not the setter's parent: www may not set a cookie for api
    assert chosen(text, tmp_path, "https://api.chat-gpt.org/api/text") == {
        "parent": "p",
        "dotted": "d",
    }


def test_a_cookie_without_domain_stays_with_the_host_that_set_it(tmp_path: Path) -> None:
    text = har(
        entry("https://chat-gpt.org/", set_=[{"name": "own", "value": "o", "path": "/"}]),
        entry(
            "https://chat-gpt.org/",
            set_=[{"name": "shared", "value": "s", "domain": "chat-gpt.org"}],
        ),
    )
    assert chosen(text, tmp_path) == {"own": "o", "shared": "s"}
    # a Domain attribute makes a domain cookie; without one, the cookie is the host's alone
    assert chosen(text, tmp_path, "https://api.chat-gpt.org/api/text") == {"shared": "s"}


def test_a_cookie_without_path_belongs_to_the_directory_that_set_it(tmp_path: Path) -> None:
    """RFC 6265 5.1.4: the default path is the request path up to its last slash."""
    text = har(
        entry("https://chat-gpt.org/auth/callback", set_=[{"name": "auth", "value": "a"}]),
        entry("https://chat-gpt.org/api/login", set_=[{"name": "api", "value": "b"}]),
        entry("https://chat-gpt.org/start", set_=[{"name": "root", "value": "r"}]),
        entry("https://chat-gpt.org", set_=[{"name": "bare", "value": "n"}]),
        entry("https://chat-gpt.org/x/y", set_=[{"name": "odd", "value": "o", "path": "x"}]),
    )
    assert chosen(text, tmp_path) == {"api": "b", "root": "r", "bare": "n"}
    assert chosen(text, tmp_path, "https://chat-gpt.org/x/y/z") == {
        "root": "r",
        "bare": "n",
        "odd": "o",
    }


def test_a_country_suffix_is_nobodys_parent_domain(tmp_path: Path) -> None:
    text = har(
        entry(
            "https://evil.co.uk/",
            set_=[{"name": "session", "value": ATTACKER, "domain": ".co.uk", "path": "/"}],
        ),
        entry(
            "https://www.chat.co.uk/",
            set_=[{"name": "parent", "value": "p", "domain": "chat.co.uk", "path": "/"}],
        ),
    )
    assert chosen(text, tmp_path, "https://chat.co.uk/api/text") == {"parent": "p"}


def test_an_address_is_no_host_names_subdomain(tmp_path: Path) -> None:
    text = har(entry("http://10.0.0.1/", set_=[{"name": "n", "value": "v", "domain": "0.0.1"}]))
    assert chosen(text, tmp_path, "http://0.0.1/api/text") == {}


def test_cookies_a_request_sent_belong_to_that_requests_host(tmp_path: Path) -> None:
    text = har(
        entry("https://evil.example/", sent={"session": ATTACKER}),
        {
            "request": {
                "url": "https://evil.example/x",
                "headers": [{"name": "Cookie", "value": f"session={ATTACKER}"}],
            }
        },
    )
    assert chosen(text, tmp_path) == {}
    text = har(
        entry("https://chat-gpt.org/api/text", sent={"session": OWN}),
        entry("https://evil.example/", sent={"session": ATTACKER}),
    )
    assert chosen(text, tmp_path) == {"session": OWN}


def test_an_entry_without_a_scheme_sets_no_domain_cookie(tmp_path: Path) -> None:
    text = har(
        entry("//chat-gpt.org/", set_=[{"name": "n", "value": "v", "domain": "chat-gpt.org"}])
    )
    assert chosen(text, tmp_path) == {}


async def test_a_login_recorded_after_the_old_session_was_sent_gives_the_new_one(
    tmp_path: Path, service: StandInService
) -> None:
    """A HAR of a sign-in: the page sent the old ``session``, then the login's response set a
    new one for the whole domain. The browser now holds the new one; the old went out before
    (and the service refused it)."""
    base = f"http://chat.localhost:{service.port}"
    path = tmp_path / "login.har"
    path.write_text(
        har(
            entry(f"{base}/chat", sent={"session": "old"}),
            entry(
                f"{base}/login",
                set_=[{"name": "session", "value": OWN, "domain": "chat.localhost", "path": "/"}],
            ),
        )
    )
    await Aichat.create_async("", USER, cookies_file=path, base_url=base, browser=[], max_retries=0)
    assert service.requests[-1].cookies == {"session": OWN}


def test_a_later_set_cookie_replaces_what_earlier_requests_sent_where_it_would_go(
    tmp_path: Path,
) -> None:
    old = entry("https://chat-gpt.org/api/text", sent={"session": "old"})
    new = {"name": "session", "value": OWN, "domain": "chat-gpt.org", "path": "/"}
    # the site's own response, or a sibling's for the parent domain (as browsers accept)
    for setter in ("https://chat-gpt.org/login", "https://www.chat-gpt.org/login"):
        assert chosen(har(old, entry(setter, set_=[new])), tmp_path) == {"session": OWN}
    # a cookie for /chat would not have gone with the request to /api/text: both are kept
    chat_only = dict(new, path="/chat")
    text = har(old, entry("https://chat-gpt.org/login", set_=[chat_only]))
    assert chosen(text, tmp_path) == {"session": "old"}
    # a logout that expires the cookie leaves none
    gone = dict(new, value="", expires="2001-01-01T00:00:00Z")
    assert chosen(har(old, entry("https://chat-gpt.org/logout", set_=[gone])), tmp_path) == {}
    # and a later request that sent another value wins over an earlier Set-Cookie
    again = entry("https://chat-gpt.org/api/text", sent={"session": "newest"})
    text = har(old, entry("https://chat-gpt.org/login", set_=[new]), again)
    assert chosen(text, tmp_path) == {"session": "newest"}


def test_a_request_shows_which_cookies_the_browser_still_held(tmp_path: Path) -> None:
    """A request that sent a name twice (a domain cookie and the subdomain's own) keeps both; an
    http request's cookie says nothing of a Secure one, which would not have gone with it."""
    login = entry(
        "https://chat-gpt.org/login",
        set_=[{"name": "session", "value": OWN, "domain": "chat-gpt.org", "path": "/"}],
    )
    both = entry("https://www.chat-gpt.org/")
    both["request"]["cookies"] = [
        {"name": "session", "value": OWN},
        {"name": "session", "value": "www-own"},
    ]
    assert chosen(har(login, both), tmp_path) == {"session": OWN}
    assert chosen(har(login, both), tmp_path, "https://www.chat-gpt.org/api/text") == {
        "session": OWN
    }
    secure_login = entry(
        "https://chat-gpt.org/login",
        set_=[{"name": "session", "value": OWN, "domain": "chat-gpt.org", "secure": True}],
    )
    plain = entry("http://chat-gpt.org/", sent={"session": "plain"})
    assert chosen(har(secure_login, plain), tmp_path) == {"session": OWN}
