"""Every keyword argument of a provider call, declared once.

:data:`OPTIONS` is the single table: name, type, default, range, environment variable, help and
command-line flag. The validation below, ``Aichat.parameters`` (and so gpt4free's ``params`` and
``get_parameters()``), the ``aichat`` command's flags and the README's argument table are derived
from it or checked against it by the tests. :class:`AichatOptions` types the same names for editors
and mypy (``**kwargs: Unpack[AichatOptions]``); a test keeps the two in step.

Everything here is checked before any network or file I/O, so a bad call fails fast with an
:class:`~aichat_provider.errors.InvalidRequestError` and nothing is half-done.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from . import _config
from ._messages import format_prompt
from ._redact import url_secrets
from ._urls import Endpoints, parse_base_url, parse_proxy
from .cookies import cookies_from_argument, is_sendable, is_token, parse_browsers
from .errors import InvalidRequestError, ModelNotSupportedError

if TYPE_CHECKING:
    from http.cookiejar import CookieJar
else:  # isinstance() checks without importing http.cookiejar
    from .cookies._jar import AnyCookieJar as CookieJar

logger = logging.getLogger("aichat_provider")

T = TypeVar("T")
_IMPERSONATE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class AichatOptions(TypedDict, total=False):
    """The keyword arguments of ``Aichat.create_async`` and ``Aichat.ask_async``.

    Other keywords are accepted and ignored at run time (gpt4free passes many), but a type
    checker flags them, which catches a misspelt ``temprature=``.
    """

    cookies: Mapping[str, str] | CookieJar | str | None
    cookies_file: str | os.PathLike[str] | None
    browser: str | Sequence[str] | None
    temperature: float
    top_p: float
    presence_penalty: float
    frequency_penalty: float
    timeout: float
    max_retries: int
    impersonate: str
    user_agent: str | None
    headers: Mapping[str, str] | None
    verify: bool | str | os.PathLike[str]
    base_url: str | None
    refresh_cookies: bool


@dataclass(frozen=True)
class Option(Generic[T]):
    """One keyword argument: how it is checked, documented and offered on the command line."""

    name: str
    #: The type as people read it (``params``, ``get_parameters()``, the README).
    annotation: str
    #: The value used when the argument is absent (None where it depends on the environment).
    default: object
    #: The README's "default" column.
    default_text: str
    #: One sentence for the README and ``--help`` (Markdown backticks are dropped in ``--help``).
    help: str
    parse: Callable[[object], T]
    env: str | None = None
    #: The ``aichat`` flag, e.g. ``--top-p``; None for arguments only Python code can give.
    flag: str | None = None
    #: What the flag's text is converted with before ``parse``; None makes it a switch.
    flag_type: Callable[[str], object] | None = str
    #: Whether the flag may be repeated (its values are collected in a list).
    repeatable: bool = False
    #: Which commands offer the flag: "connection" ones every command that talks to the service,
    #: "request" ones the commands that ask a question.
    scope: str = "connection"
    #: ``--help`` text where the flag differs from the keyword argument (``--ca-bundle``).
    flag_help: str | None = None

    @property
    def cli_help(self) -> str:
        text = (self.flag_help or self.help).replace("`", "").replace("%", "%%")
        if self.flag_help or self.default_text == "`None`":
            return text
        return f"{text} (default: {self.default_text.replace('`', '')})"


# --- parsers: each takes the raw argument (None when absent) ---------------------------------


def parse_model(model: object, models: Sequence[str], default_model: str) -> str:
    if model is None or model == "":
        return default_model
    if not isinstance(model, str):
        raise InvalidRequestError(f"model must be a string, not {type(model).__name__}.")
    if model not in models:
        shown = repr(model[:80]) if model.isprintable() else "that model"
        raise ModelNotSupportedError(
            f"Model {shown} is not supported by this provider; use one of: "
            f"{', '.join(models)} (or '' for the default).",
            model=model,
        )
    return model


def _number(name: str, default: float, low: float, high: float) -> Callable[[object], float]:
    def parse(value: object) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidRequestError(f"{name} must be a number, not {type(value).__name__}.")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number) or not low <= number <= high:
            raise InvalidRequestError(
                f"{name} must be between {low:g} and {high:g}; got {_short(value)}."
            )
        return number

    return parse


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_timeout(value: object) -> float:
    if value is None:
        return _config.DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"timeout must be a number of seconds, not {type(value).__name__}."
        )
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds) or not 0 < seconds <= _config.MAX_TIMEOUT:
        raise InvalidRequestError(
            f"timeout must be a positive number of seconds up to {_config.MAX_TIMEOUT:g}; "
            f"got {_short(value)}."
        )
    return seconds


def parse_max_retries(value: object) -> int:
    if value is None:
        return _config.DEFAULT_MAX_RETRIES
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= _config.MAX_RETRIES_LIMIT
    ):
        raise InvalidRequestError(
            f"max_retries must be a whole number from 0 to {_config.MAX_RETRIES_LIMIT}; "
            f"got {_short(value)}."
        )
    return value


def parse_cookies(value: object) -> dict[str, str] | CookieJar | None:
    """A dict or header string is checked now; a CookieJar is filtered by URL later."""
    if value is None or isinstance(value, CookieJar):
        return value
    return cookies_from_argument(value, url="")


def parse_cookies_file(value: object) -> Path | None:
    if value is None or value == "":
        return None
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if not isinstance(text, str) or "\x00" in text or not text.strip():
            raise InvalidRequestError("cookies_file must be a path without NUL characters.")
        # os.path.expanduser leaves "~nobody" as it is; Path.expanduser raises RuntimeError
        return Path(os.path.expanduser(text))
    raise InvalidRequestError(f"cookies_file must be a path, not {type(value).__name__}.")


def parse_impersonate(value: object) -> str:
    if value is None:
        return _config.DEFAULT_IMPERSONATE
    if not isinstance(value, str) or not _IMPERSONATE.fullmatch(value):
        raise InvalidRequestError(
            "impersonate must be a curl_cffi browser target such as 'chrome' or 'chrome131'."
        )
    return value


def parse_user_agent(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError("user_agent must be a non-empty string.")
    if not is_sendable(value):
        raise InvalidRequestError(
            "user_agent must be printable ASCII (no control characters or newlines)."
        )
    return value


def parse_headers(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidRequestError(f"headers must be a dict, not {type(value).__name__}.")
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not is_token(name):
            shown = repr(name) if isinstance(name, str) and name.isprintable() else "a name"
            raise InvalidRequestError(
                f"header name {shown[:66]} is not valid (letters, digits and !#$%&'*+-.^_`|~ only)."
            )
        if name.lower() == "cookie":
            raise InvalidRequestError(
                "Pass cookies with cookies=..., not as a Cookie header, so they are only sent "
                "to the API host and never shown in errors."
            )
        if not isinstance(header_value, str) or not is_sendable(header_value):
            raise InvalidRequestError(
                f"header {name!r} must have a printable ASCII value (no control characters)."
            )
        headers[name] = header_value
    return headers


def parse_verify(value: object) -> bool | str:
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not isinstance(path, str) or "\x00" in path or not os.path.isfile(path):
            raise InvalidRequestError(f"verify={_short(path)}: no CA bundle file at that path.")
        return path
    raise InvalidRequestError("verify must be True, False or the path of a CA bundle file.")


def parse_switch(name: str) -> Callable[[object], bool]:
    def parse(value: object) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise InvalidRequestError(f"{name} must be True or False; got {_short(value)}.")

    return parse


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _base_url(value: object) -> Endpoints:
    return parse_base_url(None if value == "" else value)


def _header_flag(text: str) -> tuple[str, str]:
    name, separator, value = text.partition(":")
    if not separator:
        raise ValueError("write a header as 'Name: value'")
    return name.strip(), value.strip()


# --- the table ------------------------------------------------------------------------------

OPTIONS: tuple[Option[Any], ...] = (
    Option(
        "proxy",
        "str | None",
        None,
        "`None`",
        "`http://`, `https://`, `socks5://` or `socks5h://` URL, `user:password@` allowed "
        "(percent-encoded: `@` as `%40`); used "
        "for all traffic, even for hosts in `$no_proxy`; without it the usual "
        "`HTTPS_PROXY`/`NO_PROXY` variables apply",
        parse_proxy,
        flag="--proxy",
    ),
    Option(
        "cookies",
        "dict | CookieJar | str | None",
        None,
        "`None`",
        "a dict, an `http.cookiejar.CookieJar` (only the cookies a browser would send to the "
        'API URL are used) or a `"a=1; b=2"` string',
        parse_cookies,
    ),
    Option(
        "cookies_file",
        "str | PathLike | None",
        None,
        f"`${_config.ENV_COOKIES_FILE}`",
        "a Netscape `cookies.txt`, a JSON export (a list of `{name, value, domain, ...}`), "
        "Playwright's storage state or a HAR recording",
        parse_cookies_file,
        env=_config.ENV_COOKIES_FILE,
        flag="--cookies-file",
    ),
    Option(
        "browser",
        "str | list[str] | None",
        None,
        "all supported",
        "a name or list of names to read cookies from: "
        + ", ".join(f"`{name}`" for name in _config.SUPPORTED_BROWSERS)
        + "; `[]` reads none",
        parse_browsers,
        flag="--browser",
        repeatable=True,
        flag_help="read cookies from this browser only (repeatable)",
    ),
    Option(
        "temperature",
        "float",
        _config.DEFAULT_TEMPERATURE,
        f"`{_config.DEFAULT_TEMPERATURE:g}`",
        "sampling temperature, 0 to 2",
        _number("temperature", _config.DEFAULT_TEMPERATURE, 0, 2),
        flag="--temperature",
        flag_type=float,
        scope="request",
    ),
    Option(
        "top_p",
        "float",
        _config.DEFAULT_TOP_P,
        f"`{_config.DEFAULT_TOP_P:g}`",
        "nucleus sampling, 0 to 1",
        _number("top_p", _config.DEFAULT_TOP_P, 0, 1),
        flag="--top-p",
        flag_type=float,
        scope="request",
    ),
    Option(
        "presence_penalty",
        "float",
        _config.DEFAULT_PRESENCE_PENALTY,
        f"`{_config.DEFAULT_PRESENCE_PENALTY:g}`",
        "-2 to 2",
        _number("presence_penalty", _config.DEFAULT_PRESENCE_PENALTY, -2, 2),
        flag="--presence-penalty",
        flag_type=float,
        scope="request",
    ),
    Option(
        "frequency_penalty",
        "float",
        _config.DEFAULT_FREQUENCY_PENALTY,
        f"`{_config.DEFAULT_FREQUENCY_PENALTY:g}`",
        "-2 to 2",
        _number("frequency_penalty", _config.DEFAULT_FREQUENCY_PENALTY, -2, 2),
        flag="--frequency-penalty",
        flag_type=float,
        scope="request",
    ),
    Option(
        "timeout",
        "float",
        _config.DEFAULT_TIMEOUT,
        f"`{_config.DEFAULT_TIMEOUT:g}`",
        "seconds for one attempt, from asking for a connection to the last byte of the answer",
        parse_timeout,
        flag="--timeout",
        flag_type=float,
    ),
    Option(
        "max_retries",
        "int",
        _config.DEFAULT_MAX_RETRIES,
        f"`{_config.DEFAULT_MAX_RETRIES}`",
        "retries on 429, 5xx and connection failures (not a TLS certificate or CA bundle that "
        "failed: it would fail again), with exponential backoff and jitter, or "
        "the server's `Retry-After`; a `Retry-After` over 60 s is not waited out, the error is "
        "raised at once (`RateLimitError` for a 429)",
        parse_max_retries,
        flag="--max-retries",
        flag_type=int,
    ),
    Option(
        "impersonate",
        "str",
        _config.DEFAULT_IMPERSONATE,
        f'`"{_config.DEFAULT_IMPERSONATE}"`',
        "curl_cffi browser target (`chrome` is its newest Chrome); the user agent and client "
        "hints follow it",
        parse_impersonate,
        flag="--impersonate",
    ),
    Option(
        "user_agent",
        "str | None",
        None,
        f"`${_config.ENV_USER_AGENT}`, else the impersonated browser's",
        "set it to the browser that earned your `cf_clearance` cookie",
        parse_user_agent,
        env=_config.ENV_USER_AGENT,
        flag="--user-agent",
    ),
    Option(
        "headers",
        "dict | None",
        None,
        "`None`",
        "extra headers, merged over the defaults (a `Cookie` header is refused: use `cookies`)",
        parse_headers,
        flag="--header",
        flag_type=_header_flag,
        repeatable=True,
        flag_help="an extra header, 'Name: value' (repeatable)",
    ),
    Option(
        "verify",
        "bool | str",
        True,
        "`True`",
        "TLS verification, or the path of a CA bundle; `False` logs a warning",
        parse_verify,
        flag="--ca-bundle",
        flag_help="a CA bundle file that verifies the service's TLS certificate",
    ),
    Option(
        "base_url",
        "str",
        _config.DEFAULT_BASE_URL,
        f"`${_config.ENV_BASE_URL}`, else `{_config.DEFAULT_BASE_URL}`",
        "where a chat-gpt.org-compatible API lives (`POST {base_url}/api/text`)",
        _base_url,
        env=_config.ENV_BASE_URL,
        flag="--base-url",
    ),
    Option(
        "refresh_cookies",
        "bool",
        False,
        f"`${_config.ENV_REFRESH_COOKIES}`, else `False`",
        "on a Cloudflare challenge or rejected cookies, renew the cookies with one headless "
        "visit of the browser profile `aichat login` made, and try once more (needs the "
        "`login` extra)",
        parse_switch("refresh_cookies"),
        env=_config.ENV_REFRESH_COOKIES,
        flag="--refresh",
        flag_type=None,
    ),
)

OPTION_BY_NAME: dict[str, Option[Any]] = {option.name: option for option in OPTIONS}
#: The keyword arguments a call understands; anything else is ignored.
KNOWN_KWARGS = frozenset(OPTION_BY_NAME) - {"proxy"}
#: ``name -> (annotation, default)``, as gpt4free's ``params``/``get_parameters()`` show them.
PARAMETERS: dict[str, tuple[str, object]] = {
    option.name: (option.annotation, option.default) for option in OPTIONS
}


@dataclass(slots=True)
class RequestOptions:
    """One call's validated settings, a field per option. ``repr`` hides cookies, headers and
    the proxy. Built once per call and not changed after (slots, not frozen: it is on the hot
    path)."""

    model: str
    prompt: str
    base_url: Endpoints
    proxy: str | None = field(default=None, repr=False)
    cookies: dict[str, str] | None = field(default=None, repr=False)
    cookies_file: Path | None = None
    browser: tuple[str, ...] = _config.SUPPORTED_BROWSERS
    temperature: float = _config.DEFAULT_TEMPERATURE
    top_p: float = _config.DEFAULT_TOP_P
    presence_penalty: float = _config.DEFAULT_PRESENCE_PENALTY
    frequency_penalty: float = _config.DEFAULT_FREQUENCY_PENALTY
    timeout: float = _config.DEFAULT_TIMEOUT
    max_retries: int = _config.DEFAULT_MAX_RETRIES
    impersonate: str = _config.DEFAULT_IMPERSONATE
    user_agent: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    verify: bool | str = True
    refresh_cookies: bool = False
    #: Whether ``user_agent`` came from the environment rather than the call (a user agent the
    #: cookie store saved with its cookies wins over the environment's, not over the call's).
    user_agent_from_environment: bool = False

    @property
    def host(self) -> str:
        return self.base_url.host

    @property
    def api_url(self) -> str:
        return self.base_url.api_url

    @property
    def secrets(self) -> list[str]:
        """The strings of this call that must never be shown."""
        return [*(self.cookies or {}).values(), *url_secrets(self.proxy)]


#: Each option's parser, and the value it gives for an absent argument (options read from the
#: environment are absent from the defaults: their value depends on it at every call).
_PARSE = {option.name: option.parse for option in OPTIONS}
_FROM_ENVIRONMENT = tuple((option.name, option.env) for option in OPTIONS if option.env)
_DEFAULTS = {option.name: option.parse(None) for option in OPTIONS if not option.env}


def parse_options(
    model: object,
    messages: object,
    proxy: object,
    kwargs: Mapping[str, Any],
    *,
    models: Sequence[str],
    default_model: str,
) -> RequestOptions:
    """Validate a call against :data:`OPTIONS`. Raises InvalidRequestError (or
    ModelNotSupportedError)."""
    values: dict[str, Any] = _DEFAULTS.copy()
    parse = _PARSE
    for name, raw in kwargs.items():
        if raw is not None and name in parse:
            values[name] = parse[name](raw)
        elif name not in parse:
            logger.debug("ignoring a keyword argument this provider does not use: %s", name)
    if proxy is not None:
        values["proxy"] = parse_proxy(proxy)
    environ = os.environ
    for name, variable in _FROM_ENVIRONMENT:
        if kwargs.get(name) is None:
            values[name] = parse[name](environ.get(variable) or None)
    values["user_agent_from_environment"] = (
        kwargs.get("user_agent") is None and values["user_agent"] is not None
    )
    if isinstance(values["cookies"], CookieJar):
        values["cookies"] = cookies_from_argument(values["cookies"], url=values["base_url"].api_url)
    if values["verify"] is False:
        logger.warning(
            "TLS certificate verification is off (verify is False); the connection to the "
            "service and its cookies can be intercepted."
        )
    return RequestOptions(
        model=parse_model(model, models, default_model),
        prompt=format_prompt(messages),  # type: ignore[arg-type]  # validated inside
        **values,
    )
