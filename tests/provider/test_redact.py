"""Removing secrets from text: by value, whole, and only what is a secret."""

from __future__ import annotations

import pytest

from aichat_provider._redact import MIN_SECRET_LENGTH, REDACTED, Scrubber, redact_url, url_secrets


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@proxy:3128", "http://[redacted]@proxy:3128"),
        ("socks5h://u:p@h", "socks5h://[redacted]@h"),
        ("user:pw@host:3128", "[redacted]@host:3128"),
        ("http:/user:pw@host", "[redacted]@host"),
        ("http://a@b@host/x", "http://[redacted]@host/x"),
        ("http://host:3128", "http://host:3128"),
        ("", ""),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_url_secrets_hold_every_form_of_the_credentials() -> None:
    secrets = set(url_secrets("http://user:pass%40word@proxy:3128"))
    assert {
        "http://user:pass%40word@proxy:3128",
        "user:pass%40word",
        "user",
        "pass%40word",
        "pass@word",  # decoded, as curl may echo it
    } <= secrets
    assert "http" not in secrets
    assert "proxy:3128" not in secrets
    assert "pa:ss" in url_secrets("http://user:pa:ss@proxy:1")  # a colon in the password
    scheme_less = set(url_secrets("user:hunter2@proxy:3128"))
    assert {"hunter2", "user:hunter2"} <= scheme_less
    assert url_secrets("http://proxy:3128") == []
    assert url_secrets(None) == []


def test_a_password_alone_in_a_message_is_removed() -> None:
    scrub = Scrubber(url_secrets("http://user:s3cret-pass@proxy:1"))
    assert (
        scrub("auth failed for s3cret-pass at proxy:1") == f"auth failed for {REDACTED} at proxy:1"
    )


def test_secrets_shorter_than_the_minimum_are_left_in_place() -> None:
    assert MIN_SECRET_LENGTH == 4  # the documented minimum: "1" or "ok" are not secrets
    just_long_enough = "wxyz"
    too_short = "abc"
    scrub = Scrubber([just_long_enough, too_short])
    assert scrub(f"<{just_long_enough}> <{too_short}>") == f"<{REDACTED}> <{too_short}>"
    assert bool(scrub) is True
    assert bool(Scrubber([too_short])) is False


def test_a_secret_that_contains_another_is_removed_whole() -> None:
    scrub = Scrubber(["token", "token-and-more"])
    assert scrub("got token-and-more and token") == f"got {REDACTED} and {REDACTED}"


def test_the_scrubber_shows_how_many_secrets_it_knows_never_which() -> None:
    scrub = Scrubber(["first-secret", "second-secret", "first-secret"])
    assert repr(scrub) == "Scrubber(<2 secrets>)"
    assert scrub("nothing to hide") == "nothing to hide"
