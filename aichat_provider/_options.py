"""Every keyword argument of a provider call, declared once.

:data:`OPTIONS` is the single table: name, type, default, range, environment variable, help,
command-line flag and what the request body calls it. The validation below, the request body,
``Aichat.parameters`` (and so gpt4free's ``params`` and ``get_parameters()``), the ``aichat``
command's flags, LangChain's ``ChatAichat`` fields, the ``llm`` plugin's ``-o`` options and the
argument table of the docs (docs/python.md) are derived from it, with its descriptions.

Two declarations repeat its names, because mypy cannot read a class made at run time:
:class:`AichatOptions` types what callers may pass (``**kwargs: Unpack[AichatOptions]``) and
:class:`RequestOptions` what the parsers give. Tests keep both in step with the table. Adding an
option is an entry in the table, a line in each of the two, and its default in ``_constants``.

Everything here is checked before any network or file I/O, so a bad call fails fast with an
:class:`~aichat_provider.errors.InvalidRequestError` and nothing is half-done.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from . import _constants
from ._messages import format_prompt
from ._redact import url_secrets
from ._urls import Endpoints, parse_base_url, parse_proxy
from .cookies._argument import cookies_from_argument
from .cookies._profiles import parse_browsers
from .cookies._values import is_sendable, is_token
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
    """One keyword argument: how it is checked, documented and offered on the command line and
    to the frameworks (LangChain's fields, ``llm -o``), all from this one entry."""

    name: str
    #: The type as people read it (``params``, ``get_parameters()``, the docs).
    annotation: str
    #: The value used when the argument is absent (None where it depends on the environment).
    default: object
    #: The "default" column of the docs' argument table.
    default_text: str
    #: One sentence for the docs, ``--help`` and the frameworks' option descriptions
    #: (Markdown backticks are dropped outside the docs).
    help: str
    parse: Callable[[object], T]
    env: str | None = None
    #: The ``aichat`` flag, e.g. ``--top-p``; None for arguments only Python code can give. The
    #: ``llm`` plugin offers the same options under the same names (``-o top_p``).
    flag: str | None = None
    #: What the flag's text is converted with before ``parse``; None makes it a switch.
    flag_type: Callable[[str], object] | None = str
    #: Whether the flag may be repeated (its values are collected in a list; ``llm -o`` takes
    #: them separated by commas).
    repeatable: bool = False
    #: Which commands offer the flag: "connection" ones every command that talks to the service,
    #: "request" ones the commands that ask a question.
    scope: str = "connection"
    #: Help for the flag where it takes something narrower than the keyword argument
    #: (``--ca-bundle`` is a path, ``verify`` also True or False).
    flag_help: str | None = None
    #: The value may hold a cookie, a proxy password or an Authorization header: it stays out of
    #: reprs and framework callbacks, and out of ``llm``, which logs every prompt's options.
    secret: bool = False
    #: The field of the request's JSON body that carries the value as it is.
    payload_key: str | None = None

    @property
    def description(self) -> str:
        """The keyword argument's help as plain text, with its default."""
        return self._with_default(_plain(self.help))

    @property
    def text_name(self) -> str | None:
        """Its name where values are text: the flag's, as ``llm -o`` spells it (``ca_bundle``)."""
        return self.flag[2:].replace("-", "_") if self.flag else None

    def text_help(self, several: str) -> str:
        """The help where values are text (``--help``, ``llm -o``); ``several`` says how a
        repeatable option takes more than one value."""
        text = self.description if self.flag_help is None else _plain(self.flag_help)
        return f"{text} ({several})" if self.repeatable else text

    @property
    def cli_help(self) -> str:
        return self.text_help("repeatable").replace("%", "%%")

    def _with_default(self, text: str) -> str:
        if self.default_text == "`None`":
            return text
        return f"{text} (default: {_plain(self.default_text)})"


def _plain(markdown: str) -> str:
    return markdown.replace("`", "")


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


def _number(
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    kind: str = "a number",
    low_allowed: bool = True,
    limits: str | None = None,
) -> Callable[[object], float]:
    """A parser of a number from ``low`` to ``high`` (``low`` itself refused unless
    ``low_allowed``); ``kind`` and ``limits`` are what its messages call a valid value."""
    limits = limits or f"between {low:g} and {high:g}"

    def parse(value: object) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidRequestError(f"{name} must be {kind}, not {type(value).__name__}.")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if (
            not math.isfinite(number)
            or not low <= number <= high
            or (number == low and not low_allowed)
        ):
            raise InvalidRequestError(f"{name} must be {limits}; got {_short(value)}.")
        return number

    return parse


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


parse_timeout = _number(
    "timeout",
    _constants.DEFAULT_TIMEOUT,
    0,
    _constants.MAX_TIMEOUT,
    kind="a number of seconds",
    low_allowed=False,
    limits=f"a positive number of seconds up to {_constants.MAX_TIMEOUT:g}",
)


def parse_max_retries(value: object) -> int:
    if value is None:
        return _constants.DEFAULT_MAX_RETRIES
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= _constants.MAX_RETRIES_LIMIT
    ):
        raise InvalidRequestError(
            f"max_retries must be a whole number from 0 to {_constants.MAX_RETRIES_LIMIT}; "
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
        if isinstance(text, str) and not text.strip():
            raise InvalidRequestError(
                "cookies_file is blank; give the path of a cookies file, or leave it out."
            )
        if not isinstance(text, str) or "\x00" in text:
            raise InvalidRequestError("cookies_file must be a path without NUL characters.")
        # os.path.expanduser leaves "~nobody" as it is; Path.expanduser raises RuntimeError
        return Path(os.path.expanduser(text))
    raise InvalidRequestError(f"cookies_file must be a path, not {type(value).__name__}.")


def parse_impersonate(value: object) -> str:
    if value is None:
        return _constants.DEFAULT_IMPERSONATE
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
        if name.lower() in _FRAMING_HEADERS:
            raise InvalidRequestError(
                f"header {name!r} cannot be set: curl sets it from the body it sends (another "
                "value would make the server wait for bytes never sent); leave it out."
            )
        if not isinstance(header_value, str) or not is_sendable(header_value):
            raise InvalidRequestError(
                f"header {name!r} must have a printable ASCII value (no control characters)."
            )
        headers[name] = header_value
    return headers


#: Headers that frame the request body, which curl writes to match the body it sends.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


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
        secret=True,
    ),
    Option(
        "cookies",
        "dict | CookieJar | str | None",
        None,
        "`None`",
        "a dict, an `http.cookiejar.CookieJar` (only the cookies a browser would send to the "
        'API URL are used) or a `"a=1; b=2"` string',
        parse_cookies,
        secret=True,
    ),
    Option(
        "cookies_file",
        "str | PathLike | None",
        None,
        f"`${_constants.ENV_COOKIES_FILE}`",
        "a Netscape `cookies.txt`, a JSON export (a list of `{name, value, domain, ...}`), "
        "Playwright's storage state or a HAR recording",
        parse_cookies_file,
        env=_constants.ENV_COOKIES_FILE,
        flag="--cookies-file",
    ),
    Option(
        "browser",
        "str | list[str] | None",
        None,
        "all supported",
        "a name or list of names to read cookies from: "
        + ", ".join(f"`{name}`" for name in _constants.SUPPORTED_BROWSERS)
        + "; `[]` reads none",
        parse_browsers,
        flag="--browser",
        repeatable=True,
        flag_help="a browser to read cookies from instead of all of them",
    ),
    Option(
        "temperature",
        "float",
        _constants.DEFAULT_TEMPERATURE,
        f"`{_constants.DEFAULT_TEMPERATURE:g}`",
        "sampling temperature, 0 to 2",
        _number("temperature", _constants.DEFAULT_TEMPERATURE, 0, 2),
        flag="--temperature",
        flag_type=float,
        scope="request",
        payload_key="temperature",
    ),
    Option(
        "top_p",
        "float",
        _constants.DEFAULT_TOP_P,
        f"`{_constants.DEFAULT_TOP_P:g}`",
        "nucleus sampling, 0 to 1",
        _number("top_p", _constants.DEFAULT_TOP_P, 0, 1),
        flag="--top-p",
        flag_type=float,
        scope="request",
        payload_key="top_p",
    ),
    Option(
        "presence_penalty",
        "float",
        _constants.DEFAULT_PRESENCE_PENALTY,
        f"`{_constants.DEFAULT_PRESENCE_PENALTY:g}`",
        "-2 to 2",
        _number("presence_penalty", _constants.DEFAULT_PRESENCE_PENALTY, -2, 2),
        flag="--presence-penalty",
        flag_type=float,
        scope="request",
        payload_key="presence_penalty",
    ),
    Option(
        "frequency_penalty",
        "float",
        _constants.DEFAULT_FREQUENCY_PENALTY,
        f"`{_constants.DEFAULT_FREQUENCY_PENALTY:g}`",
        "-2 to 2",
        _number("frequency_penalty", _constants.DEFAULT_FREQUENCY_PENALTY, -2, 2),
        flag="--frequency-penalty",
        flag_type=float,
        scope="request",
        payload_key="frequency_penalty",
    ),
    Option(
        "timeout",
        "float",
        _constants.DEFAULT_TIMEOUT,
        f"`{_constants.DEFAULT_TIMEOUT:g}`",
        "seconds for one attempt, from asking for a connection to the last byte of the answer",
        parse_timeout,
        flag="--timeout",
        flag_type=float,
    ),
    Option(
        "max_retries",
        "int",
        _constants.DEFAULT_MAX_RETRIES,
        f"`{_constants.DEFAULT_MAX_RETRIES}`",
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
        _constants.DEFAULT_IMPERSONATE,
        f'`"{_constants.DEFAULT_IMPERSONATE}"`',
        "curl_cffi browser target (`chrome` is its newest Chrome); the user agent and client "
        "hints follow it",
        parse_impersonate,
        flag="--impersonate",
    ),
    Option(
        "user_agent",
        "str | None",
        None,
        f"`${_constants.ENV_USER_AGENT}`, else the impersonated browser's",
        "set it to the browser that earned your `cf_clearance` cookie",
        parse_user_agent,
        env=_constants.ENV_USER_AGENT,
        flag="--user-agent",
    ),
    Option(
        "headers",
        "dict | None",
        None,
        "`None`",
        "extra headers, merged over the defaults (a `Cookie` header is refused: use `cookies`; "
        "so are `Content-Length` and `Transfer-Encoding`, which curl sets)",
        parse_headers,
        flag="--header",
        flag_type=_header_flag,
        repeatable=True,
        flag_help="an extra header, 'Name: value'",
        secret=True,
    ),
    Option(
        "verify",
        "bool | str | PathLike",
        True,
        "`True`",
        "TLS verification, or the path of a CA bundle; `False` logs a warning",
        parse_verify,
        flag="--ca-bundle",
        flag_help="a CA bundle file that verifies the service's TLS certificate",
    ),
    Option(
        "base_url",
        "str | None",
        _constants.DEFAULT_BASE_URL,
        f"`${_constants.ENV_BASE_URL}`, else `{_constants.DEFAULT_BASE_URL}`",
        "where a chat-gpt.org-compatible API lives (`POST {base_url}/api/text`)",
        _base_url,
        env=_constants.ENV_BASE_URL,
        flag="--base-url",
    ),
    Option(
        "refresh_cookies",
        "bool",
        False,
        f"`${_constants.ENV_REFRESH_COOKIES}`, else `False`",
        "on a Cloudflare challenge or rejected cookies, renew the cookies with one headless "
        "visit of the browser profile `aichat login` made, and try once more (needs the "
        "`login` extra)",
        parse_switch("refresh_cookies"),
        env=_constants.ENV_REFRESH_COOKIES,
        flag="--refresh",
        flag_type=None,
    ),
)

#: ``name -> (annotation, default)``, as gpt4free's ``params``/``get_parameters()`` show them.
PARAMETERS: dict[str, tuple[str, object]] = {
    option.name: (option.annotation, option.default) for option in OPTIONS
}
#: ``(option name, JSON field)`` of the options the request body carries as they are.
PAYLOAD_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (option.name, option.payload_key) for option in OPTIONS if option.payload_key
)
_SECRET = frozenset(option.name for option in OPTIONS if option.secret)


@dataclass(slots=True, repr=False)
class RequestOptions:
    """One call's validated settings: a field per option of :data:`OPTIONS` (the types mypy
    checks; the values and their defaults come from the table, and a test keeps the fields and
    the table in step). Built once per call and not changed after (slots, not frozen: it is on
    the hot path)."""

    model: str
    prompt: str
    proxy: str | None
    cookies: dict[str, str] | None
    cookies_file: Path | None
    browser: tuple[str, ...]
    temperature: float
    top_p: float
    presence_penalty: float
    frequency_penalty: float
    timeout: float
    max_retries: int
    impersonate: str
    user_agent: str | None
    headers: dict[str, str]
    verify: bool | str
    base_url: Endpoints
    refresh_cookies: bool
    #: Whether ``user_agent`` came from the environment rather than the call (a user agent the
    #: cookie store saved with its cookies wins over the environment's, not over the call's).
    user_agent_from_environment: bool = False

    def __repr__(self) -> str:
        """The settings, secret options (cookies, headers, the proxy) left out."""
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in self.__dataclass_fields__
            if name not in _SECRET
        )
        return f"RequestOptions({shown})"

    @property
    def host(self) -> str:
        return self.base_url.host

    @property
    def api_url(self) -> str:
        return self.base_url.api_url

    @property
    def secrets(self) -> list[str]:
        """The strings of this call that must never be shown: cookie values, the proxy's
        credentials and every extra header's value, also without a scheme such as ``Bearer``
        (an Authorization header, an API key)."""
        found = [*(self.cookies or {}).values(), *url_secrets(self.proxy)]
        for value in self.headers.values():
            found += (value, value.partition(" ")[2].strip())
        return found


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
            try:
                values[name] = parse[name](environ.get(variable) or None)
            except InvalidRequestError as error:  # the call gave no such argument: say where
                error.message = (
                    f"{variable}: {error.message} Fix or unset that environment variable, or "
                    "give the setting in the call (it wins over the variable)."
                )
                error.args = (error.message,)
                raise
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
