"""What a cookie may be made of, and the header form."""

from __future__ import annotations

import pytest

from aichat_provider import errors
from aichat_provider.cookies._argument import cookies_from_argument
from aichat_provider.cookies._values import (
    check_cookie,
    cookie_header,
    is_sendable,
    is_token,
    parse_cookie_header,
)

URL = "http://127.0.0.1/api/text"


def test_tokens() -> None:
    assert is_token("session_id-2.x")
    assert is_token("!#$%&'*+-.^_`|~")
    for bad in ("", "a b", "a=b", "a;b", "a\n", "é", "a\t", "(a)", "a,b", '"a"'):
        assert not is_token(bad), bad


def test_sendable_header_values() -> None:
    assert is_sendable("")
    assert is_sendable("Mozilla/5.0 (X11; Linux) \t ~!")
    assert is_sendable(" ~")  # the first and the last printable ASCII character
    for bad in ("a\nb", "a\rb", "\x00", "\x1f", "\x7f", "é", "\ud800"):
        assert not is_sendable(bad), repr(bad)


@pytest.mark.parametrize(
    ("name", "value", "phrase"),
    [
        ("a b", "v", "'a b' is not a valid cookie name"),
        ("x" * 65 + " ", "v", "a name of 66 characters"),
        ("x" * 63 + " ", "v", "'" + "x" * 63 + " ' is not a valid"),  # 64 characters: shown
        ("line\nbreak", "v", "a name of 10 characters"),
        (5, "v", "a int is not a valid cookie name"),
        ("ok", 5, "must have a string value, not int"),
        ("ok", "a;b", "';' in its value"),
        ("ok", "caf\u00e9", "non-ASCII"),
        ("ok", "a\rb", "control character"),
    ],
)
def test_check_cookie_names_the_cookie_and_never_the_value(
    name: object, value: object, phrase: str
) -> None:
    with pytest.raises(errors.InvalidRequestError, match=phrase) as caught:
        check_cookie(name, value, where="cookies")
    if isinstance(value, str) and len(value) > 2:
        assert value not in str(caught.value)


def test_tab_and_printable_values_are_fine() -> None:
    assert check_cookie("ok", "a\tb c=d,e", where="x") == ("ok", "a\tb c=d,e")


def test_the_header_form() -> None:
    assert parse_cookie_header("  a=1; b = 2 ;;c=3=4; d=\n") == {
        "a": "1",
        "b": "2",
        "c": "3=4",
        "d": "",
    }
    assert cookie_header({"a": "1", "b": "2"}) == "a=1; b=2"
    with pytest.raises(errors.InvalidRequestError, match="part 2 has no '='") as caught:
        parse_cookie_header("a=1; s3cret-token-value")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "value", [{"ok": "v", "bad name": "v"}, {"ok": "new\nline"}, {1: "v"}, {"ok": None}]
)
def test_a_dict_argument_is_checked_cookie_by_cookie(value: dict[object, object]) -> None:
    with pytest.raises(errors.InvalidRequestError):
        cookies_from_argument(value, url=URL)


def test_the_argument_forms() -> None:
    assert cookies_from_argument({"a": "1"}, url=URL) == {"a": "1"}
    assert cookies_from_argument("a=1; b=2", url=URL) == {"a": "1", "b": "2"}
    with pytest.raises(errors.InvalidRequestError, match="must be a dict"):
        cookies_from_argument(["a=1"], url=URL)
