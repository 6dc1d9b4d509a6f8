"""Which stored cookies go with a request: the rules a browser applies, one by one."""

from __future__ import annotations

import time

import pytest

from aichat_provider import errors
from aichat_provider.cookies._jar import MAX_EXPIRY, make_cookie, normalise_expiry, select_cookies

HOUR = 3600.0


def sent(url: str, *cookies: object) -> dict[str, str]:
    return select_cookies(cookies, url).values  # type: ignore[arg-type]


def test_expiry_normalisation() -> None:
    assert normalise_expiry(0) is None
    assert normalise_expiry(-1) is None
    assert normalise_expiry(1_800_000_000) == 1_800_000_000
    assert normalise_expiry(1_800_000_000_000) == 1_800_000_000  # Firefox's milliseconds
    assert normalise_expiry(float("inf")) == MAX_EXPIRY
    assert normalise_expiry(1e30) == MAX_EXPIRY
    assert normalise_expiry(MAX_EXPIRY) == MAX_EXPIRY
    assert normalise_expiry(normalise_expiry(1e12) or 0) == 1e9  # twice changes nothing
    with pytest.raises(ValueError, match="not a number"):
        normalise_expiry(float("nan"))


def test_host_only_and_domain_cookies() -> None:
    own = make_cookie("own", "o", domain="chat.site.example")
    parent = make_cookie("parent", "p", domain=".site.example")
    sibling = make_cookie("sibling", "s", domain="other.site.example")
    assert sent("https://chat.site.example/api/text", own, parent, sibling) == {
        "own": "o",
        "parent": "p",
    }
    assert sent("https://sub.chat.site.example/api/text", own, parent) == {"parent": "p"}
    assert sent("https://site.example/api/text", parent) == {"parent": "p"}
    assert sent("https://example/api/text", make_cookie("p", "1", domain=".example")) == {"p": "1"}
    assert sent("https://notsite.example/api/text", parent) == {}
    forced = make_cookie("forced", "f", domain="chat.example", host_only=False)
    assert sent("https://a.chat.example/x", forced) == {"forced": "f"}


def test_path_secure_and_expiry() -> None:
    now = time.time()
    cookies = [
        make_cookie("root", "r", domain="h.example", path="/"),
        make_cookie("api", "a", domain="h.example", path="/api"),
        make_cookie("apis", "x", domain="h.example", path="/apis"),  # not a prefix on a boundary
        make_cookie("chat", "c", domain="h.example", path="/chat"),
        make_cookie("secure", "s", domain="h.example", secure=True),
        make_cookie("live", "l", domain="h.example", expires=now + HOUR),
        make_cookie("dead", "d", domain="h.example", expires=now - 1),
        make_cookie("bad_path", "b", domain="h.example", path="relative"),
    ]
    assert sent("http://h.example/api/text", *cookies) == {
        "api": "a",
        "root": "r",
        "live": "l",
        "bad_path": "b",
    }
    assert "secure" in sent("https://h.example/api/text", *cookies)
    selected = select_cookies(cookies, "http://h.example/api/text")
    assert selected.skipped == {"path": ["apis", "chat"], "https": ["secure"], "expired": ["dead"]}
    assert selected.expiries["live"] == pytest.approx(now + HOUR, abs=1)
    assert selected.expiries["root"] is None


def test_the_longest_path_wins_a_shared_name() -> None:
    cookies = [
        make_cookie("id", "root", domain="h.example", path="/"),
        make_cookie("id", "api", domain="h.example", path="/api"),
    ]
    assert sent("http://h.example/api/text", *cookies) == {"id": "api"}


def test_dotless_hosts_and_ip_addresses() -> None:
    assert sent("http://localhost:8/api/text", make_cookie("a", "1", domain="localhost")) == {
        "a": "1"
    }
    assert sent("http://[::1]:8/x", make_cookie("v6", "1", domain="::1")) == {"v6": "1"}
    assert sent("http://127.0.0.1/x", make_cookie("no", "1", domain=".0.0.1")) == {}
    assert sent("http://127.0.0.1/x", make_cookie("none", "1", domain="")) == {"none": "1"}


def test_why_nothing_is_sent() -> None:
    now = time.time()
    host = "h.example"
    expired = select_cookies(
        [make_cookie("old", "1", domain=host, expires=now - 5)], f"http://{host}/api/text"
    )
    assert (
        expired.why_none(host)
        == f"its cookies for {host} have expired (old); log in to {host} again"
    )
    secure = select_cookies([make_cookie("s", "1", domain=host, secure=True)], f"http://{host}/x")
    assert "Secure (sent over https only)" in secure.why_none(host)
    path = select_cookies([make_cookie("p", "1", domain=host, path="/chat")], f"http://{host}/api")
    assert "other paths" in path.why_none(host)
    other = select_cookies([make_cookie("o", "1", domain="www.h.example")], f"http://{host}/x")
    assert (
        select_cookies([make_cookie("z", "1", domain="a.example")], "http://z.example/").why_none(
            "z.example"
        )
        == "it has cookies only for a.example, not for z.example; check base_url"
    )
    assert (
        other.why_none(host)
        == f"it has cookies only for www.h.example, not for {host}; check base_url"
    )
    assert select_cookies([], f"http://{host}/").why_none(host) == f"no cookies for {host}"


def test_a_cookie_that_would_be_sent_but_cannot_travel() -> None:
    bad = make_cookie("bad", "line\nbreak", domain="h.example")
    with pytest.raises(errors.InvalidRequestError, match="cookie 'bad'"):
        select_cookies([bad], "http://h.example/")
    elsewhere = make_cookie("bad", "line\nbreak", domain="other.example")
    assert select_cookies([elsewhere], "http://h.example/").values == {}  # never looked at


def test_skipped_cookies_are_named_by_the_first_rule_that_keeps_them_back() -> None:
    now = time.time()
    cookies = [
        make_cookie("secure_live", "1", domain="h.example", secure=True, expires=now + HOUR),
        make_cookie("parent", "2", domain=".h.example", path="/chat"),
        make_cookie("elsewhere", "3", domain="a.example"),
    ]
    selected = select_cookies(cookies, "http://z.h.example/api/text")
    assert selected.skipped == {"host": ["h.example", "a.example"], "path": ["parent"]}
    on_ip = select_cookies(
        [make_cookie("dotted", "4", domain=".0.0.1")], "http://127.0.0.1/api/text"
    )
    assert on_ip.skipped == {"host": ["0.0.1"]}
    over_http = select_cookies(cookies[:1], "http://h.example/api/text")
    assert over_http.skipped == {"https": ["secure_live"]}


def test_a_host_that_only_ends_like_the_domain_is_told_it_is_another_host() -> None:
    """evilchat-gpt.org is not under .chat-gpt.org: the reason given is the host (the match is
    on a dot boundary), with the advice to check base_url, not "other paths"."""
    parent = make_cookie("cf_clearance", "1", domain=".chat-gpt.org")
    selected = select_cookies([parent], "https://evilchat-gpt.org/api/text")
    assert selected.values == {}
    assert selected.skipped == {"host": ["chat-gpt.org"]}
    assert selected.why_none("evilchat-gpt.org") == (
        "it has cookies only for chat-gpt.org, not for evilchat-gpt.org; check base_url"
    )


def test_cookies_after_an_unusable_one_and_after_a_shared_name_still_count() -> None:
    from http.cookiejar import Cookie

    no_value = Cookie(
        0,
        "empty",
        None,
        None,
        False,
        "h.example",
        False,
        False,
        "/",
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )
    cookies = [
        no_value,
        make_cookie("id", "root", domain="h.example", path="/"),
        make_cookie("id", "api", domain="h.example", path="/api"),
        make_cookie("last", "l", domain="h.example"),
    ]
    assert sent("http://h.example/api/text", *cookies) == {"id": "api", "last": "l"}


def test_long_lists_of_names_are_cut_in_messages() -> None:
    now = time.time()
    old = [make_cookie(f"old{i}", "1", domain="h.example", expires=now - 5) for i in range(7)]
    reason = select_cookies(old, "http://h.example/").why_none("h.example")
    assert "(old0, old1, old2, old3, old4)" in reason
    others = [make_cookie("x", "1", domain=f"{letter}.example") for letter in "abcde"]
    reason = select_cookies(others, "http://h.example/").why_none("h.example")
    assert "only for a.example, b.example, c.example, not" in reason


def test_over_https_a_secure_cookie_kept_back_is_named_for_its_path() -> None:
    """Over https, Secure is no reason to keep a cookie back: the message names the real rule."""
    cookie = make_cookie("secure_chat", "1", domain="h.example", path="/chat", secure=True)
    assert select_cookies([cookie], "https://h.example/api/text").skipped == {
        "path": ["secure_chat"]
    }
    assert select_cookies([cookie], "http://h.example/api/text").skipped == {
        "https": ["secure_chat"]
    }


@pytest.mark.parametrize(
    "expires",
    [10**400, float("nan"), "soon", object()],
    ids=["too-large-for-a-float", "nan", "text", "object"],
)
def test_an_expiry_that_is_no_date_makes_a_session_cookie(expires: object) -> None:
    """A jar built by hand can hold anything in ``expires``: the cookie is sent as a session
    cookie, neither dropped nor a traceback."""
    cookie = make_cookie("odd", "v", domain="h.example")
    cookie.expires = expires  # type: ignore[assignment]
    selected = select_cookies([cookie], "http://h.example/api/text")
    assert selected.values == {"odd": "v"}
    assert selected.expiries == {"odd": None}


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://chat-gpt.org/api/text", ".org"),
        ("https://chat-gpt.org/api/text", ".ORG"),
        ("https://chat.co.uk/api/text", ".co.uk"),
        ("http://localhost:8/api/text", ".local"),
        ("http://localhost:8/api/text", ".localhost.local"),
        ("http://aichat:8/api/text", ".aichat.local"),
    ],
)
def test_a_cookie_for_a_whole_top_level_domain_or_suffix_is_never_sent(
    url: str, domain: str
) -> None:
    """No browser keeps a cookie for ``.org`` (or sends ``.local`` ones to ``localhost``, which
    http.cookiejar calls ``localhost.local``): such a cookie in a file is another site's."""
    wide = make_cookie("wide", "w", domain=domain)
    own = make_cookie("own", "o", domain=url.split("/")[2].split(":")[0])
    selected = select_cookies([wide, own], url)
    assert selected.values == {"own": "o"}
    bare = domain.lstrip(".").lower()
    assert selected.skipped == {"suffix": [bare]}
    host = url.split("/")[2].split(":")[0]
    assert select_cookies([wide], url).why_none(host) == (
        f"its cookies for {host} are set for all of .{bare}, which a browser never sends; "
        f"export them again from a browser logged in to {host}"
    )


def test_a_parent_domain_and_the_standard_librarys_own_name_for_a_dotless_host_still_count() -> (
    None
):
    """``.chat-gpt.org`` reaches ``api.chat-gpt.org``; a CookieJar filled by urllib keeps the
    cookies of ``localhost`` as ``localhost.local``."""
    parent = make_cookie("parent", "p", domain=".chat-gpt.org")
    assert sent("https://api.chat-gpt.org/api/text", parent) == {"parent": "p"}
    assert sent("https://chat.example.co.uk/x", make_cookie("p", "1", domain=".example.co.uk")) == {
        "p": "1"
    }
    jar_name = make_cookie("jar", "j", domain="localhost.local")
    assert sent("http://localhost:8/api/text", jar_name) == {"jar": "j"}
    dotted = make_cookie("dotted", "d", domain=".localhost")
    assert sent("http://localhost:8/api/text", dotted) == {"dotted": "d"}


def test_a_hand_built_jar_cookie_for_a_top_level_domain_is_never_sent() -> None:
    """A CookieJar built by hand may say ``domain_specified`` without the leading dot."""
    from http.cookiejar import Cookie

    wide = Cookie(
        0, "wide", "w", None, False, "org", True, False, "/", True, False, None, False, None,
        None, {},
    )  # fmt: skip
    other = make_cookie("other", "x", domain="other.example")
    selected = select_cookies([wide, other], "https://chat-gpt.org/api/text")
    assert selected.values == {}
    assert selected.skipped == {"suffix": ["org"], "host": ["other.example"]}
    local = select_cookies([other], "http://localhost:8/api/text")
    assert local.skipped == {"host": ["other.example"]}


def test_a_secure_or_host_prefix_makes_a_cookie_secure() -> None:
    """RFC 6265bis: ``__Secure-`` and ``__Host-`` cookies (the prefix in any case) are Secure."""
    cookies = [
        make_cookie("__Secure-a", "1", domain="h.example"),
        make_cookie("__HOST-b", "2", domain="h.example"),
        make_cookie("plain", "3", domain="h.example"),
    ]
    over_http = select_cookies(cookies, "http://h.example/api/text")
    assert over_http.values == {"plain": "3"}
    assert over_http.skipped == {"https": ["__Secure-a", "__HOST-b"]}
    assert sent("https://h.example/api/text", *cookies) == {
        "__Secure-a": "1",
        "__HOST-b": "2",
        "plain": "3",
    }


def test_of_two_cookies_of_one_name_the_longer_path_then_the_first_listed_is_sent() -> None:
    """As a browser orders them (and chrome.cookies.getAll lists them): the longer path first,
    then the older, which an export lists first; whichever domain the file names first."""
    theme = make_cookie("theme", "dark", domain=".h.example")
    first = make_cookie("session", "first", domain="h.example")
    second = make_cookie("session", "second", domain=".h.example")
    longer = make_cookie("session", "longer", domain=".h.example", path="/api")
    assert sent("http://h.example/api/text", theme, first, second) == {
        "theme": "dark",
        "session": "first",
    }
    assert sent("http://h.example/api/text", second, first) == {"session": "second"}
    # the same domain, path and name: the later one replaces the earlier, as in a browser
    replaced = make_cookie("session", "replaced", domain=".h.example")
    assert sent("http://h.example/api/text", theme, replaced, second) == {
        "theme": "dark",
        "session": "second",
    }
    assert sent("http://h.example/api/text", theme, first, second, longer) == {
        "session": "longer",
        "theme": "dark",
    }
