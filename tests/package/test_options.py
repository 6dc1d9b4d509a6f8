"""The options are declared once: validation, parameters, CLI flags and the docs agree."""

from __future__ import annotations

import dataclasses
import http.cookiejar
import os
import types
from collections.abc import Mapping, Sequence
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from aichat_provider import Aichat, AichatOptions, errors
from aichat_provider._options import OPTIONS, RequestOptions
from aichat_provider.cli import build_parser
from aichat_provider.cli._common import provider_kwargs
from aichat_provider.testing import StandInService
from support.docs import built_page, hooks, page_text
from support.secrets import USER

OPTION_NAMES = [option.name for option in OPTIONS]

#: A value each option must refuse before any I/O, and a word its message must contain.
BAD_VALUES: dict[str, tuple[object, str]] = {
    "proxy": ("ftp://proxy.example:21", "proxy"),
    "cookies": (42, "cookies"),
    "cookies_file": (3.5, "cookies_file"),
    "browser": ("netscape-navigator", "browser"),
    "temperature": (2.5, "temperature"),
    "top_p": (-0.1, "top_p"),
    "presence_penalty": (3, "presence_penalty"),
    "frequency_penalty": ("high", "frequency_penalty"),
    "timeout": (0, "timeout"),
    "max_retries": (-1, "max_retries"),
    "impersonate": ("chrome 131", "impersonate"),
    "user_agent": ("Agent\r\nX-Injected: 1", "user_agent"),
    "headers": ({"X-A": "b\nc"}, "header"),
    "verify": ("/nonexistent/ca.pem", "verify"),
    "base_url": ("ftp://example.com", "base_url"),
    "refresh_cookies": ("sometimes", "refresh_cookies"),
}

#: A value for each flag and what the keyword argument becomes.
FLAG_VALUES: dict[str, tuple[list[str], object]] = {
    "proxy": (["http://127.0.0.1:3128"], "http://127.0.0.1:3128"),
    "cookies_file": (["c.txt"], "c.txt"),
    "browser": (["firefox", "chrome"], ["firefox", "chrome"]),
    "temperature": (["0.7"], 0.7),
    "top_p": (["0.9"], 0.9),
    "presence_penalty": (["1"], 1.0),
    "frequency_penalty": (["-1"], -1.0),
    "timeout": (["30"], 30.0),
    "max_retries": (["4"], 4),
    "impersonate": (["chrome131"], "chrome131"),
    "user_agent": (["Agent/1"], "Agent/1"),
    "headers": (["X-A: 1", "X-B:2"], {"X-A": "1", "X-B": "2"}),
    "verify": (["/etc/ssl/ca.pem"], "/etc/ssl/ca.pem"),
    "base_url": (["http://127.0.0.1:9"], "http://127.0.0.1:9"),
    "refresh_cookies": ([], True),  # a switch: the flag alone
}


def test_the_provider_page_shows_the_declared_options() -> None:
    """The argument table is made from ``OPTIONS`` when the docs are built: the provider's page
    asks for it, and it holds every option with its default and help, in the table's order."""
    assert "\n<!-- generated: options -->\n" in page_text("python")
    table = hooks().options_table()
    assert table in built_page("python")
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["model", "messages", *OPTION_NAMES]
    for option, row in zip(OPTIONS, rows[2:], strict=True):
        assert row.startswith(f"| `{option.name}` | {option.default_text} | "), option.name


#: How the table writes the types the TypedDict gives (``params`` shows them to people).
_SHORT = {Mapping: "dict", Sequence: "list", os.PathLike: "PathLike", CookieJar: "CookieJar"}


def _written(hint: Any) -> str:
    if isinstance(hint, types.UnionType):
        return " | ".join(_written(member) for member in get_args(hint))
    if hint is type(None):
        return "None"
    origin = get_origin(hint) or hint
    if origin in (Sequence, list):
        return f"list[{_written(get_args(hint)[0])}]"
    return _SHORT.get(origin, getattr(origin, "__name__", str(origin)))


def test_typed_keywords_are_the_declared_options_with_the_same_types() -> None:
    """``AichatOptions`` is the one static declaration of what callers may pass (mypy cannot
    read a TypedDict made at run time): the same names as the table (``proxy`` is positional)
    in the same order, each with the type the table shows."""
    # The package checks for a CookieJar without importing http.cookiejar; the type is that class.
    hints = get_type_hints(AichatOptions, localns={"CookieJar": http.cookiejar.CookieJar})
    assert list(hints) == [name for name in OPTION_NAMES if name != "proxy"]
    for option in OPTIONS:
        if option.name != "proxy":
            assert _written(hints[option.name]) == option.annotation, option.name
    assert "kwargs" in get_type_hints(Aichat.create_async)  # typed through Unpack[AichatOptions]


def test_validated_settings_have_a_field_per_option() -> None:
    """``RequestOptions`` declares the validated types for mypy; the values come from the
    table's parsers, which must fill every field."""
    fields = [field.name for field in dataclasses.fields(RequestOptions)]
    assert fields == ["model", "prompt", *OPTION_NAMES, "user_agent_from_environment"]


def test_the_repr_of_validated_settings_leaves_the_secret_options_out() -> None:
    shown = repr(_options_with_secrets())
    for option in OPTIONS:
        assert (f" {option.name}=" in shown) is not option.secret, option.name
    for secret in ("cookie-value", "proxy-password", "Bearer"):
        assert secret not in shown


def test_parameters_params_and_get_parameters_come_from_the_table() -> None:
    assert list(Aichat.parameters) == OPTION_NAMES
    for option in OPTIONS:
        assert Aichat.parameters[option.name] == (option.annotation, option.default)
        assert f"    {option.name}: {option.annotation} = {option.default!r}" in Aichat.params
    found = Aichat.get_parameters()
    assert list(found) == ["model", "messages", *OPTION_NAMES]
    assert Aichat.get_parameters(as_json=True)["temperature"] == 0.5


def test_every_option_has_a_refusal_case() -> None:
    assert set(BAD_VALUES) == set(OPTION_NAMES)


@pytest.mark.parametrize("name", OPTION_NAMES)
async def test_every_option_is_validated_before_any_io(
    name: str, service: StandInService, tmp_path: Path
) -> None:
    value, word = BAD_VALUES[name]
    kwargs: dict[str, Any] = {"cookies": {"session": "x"}, "base_url": service.base_url}
    kwargs[name] = value
    proxy = kwargs.pop("proxy", None)
    with pytest.raises(errors.InvalidRequestError, match=word) as caught:
        await Aichat.create_async("", USER, proxy, **kwargs)
    assert caught.value.provider == "Aichat"
    assert service.requests == []


def test_every_flagged_option_has_a_flag_case() -> None:
    assert set(FLAG_VALUES) == {option.name for option in OPTIONS if option.flag}


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.flag], ids=lambda o: o.name)
def test_every_flag_becomes_its_keyword_argument(option: Any) -> None:
    values, expected = FLAG_VALUES[option.name]
    argv = ["ask", "hello"]
    for value in values:
        argv += [option.flag, value]
    if option.flag_type is None:
        argv.append(option.flag)
    args = build_parser().parse_args(argv)
    assert provider_kwargs(args) == {option.name: expected}
    assert option.flag in build_parser()._subparsers._group_actions[0].choices["ask"].format_help()  # type: ignore[union-attr]


def _options_with_secrets() -> RequestOptions:
    from aichat_provider._options import parse_options

    return parse_options(
        "",
        USER,
        "http://user:proxy-password@127.0.0.1:3128",
        {"cookies": {"session": "cookie-value"}, "headers": {"Authorization": "Bearer t"}},
        models=Aichat.models,
        default_model=Aichat.default_model,
    )
