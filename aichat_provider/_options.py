"""Turning ``create_async``'s arguments into one validated, immutable options object.

Everything here is checked before any network or file I/O, so a bad call fails fast with an
:class:`~aichat_provider.errors.InvalidRequestError` and nothing is half-done.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import _config
from ._cookies import UNSENDABLE, cookies_from_argument
from ._messages import format_prompt
from ._redact import redact_url
from .errors import InvalidRequestError, ModelNotSupportedError

logger = logging.getLogger("aichat_provider")

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_IMPERSONATE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

#: The keyword arguments ``create_async`` understands; anything else is ignored (gpt4free passes
#: many that mean nothing to this provider).
KNOWN_KWARGS = frozenset(
    {
        "cookies",
        "cookies_file",
        "browser",
        "temperature",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
        "timeout",
        "max_retries",
        "impersonate",
        "user_agent",
        "headers",
        "verify",
        "base_url",
    }
)


@dataclass(frozen=True)
class Sampling:
    temperature: float = _config.DEFAULT_TEMPERATURE
    top_p: float = _config.DEFAULT_TOP_P
    presence_penalty: float = _config.DEFAULT_PRESENCE_PENALTY
    frequency_penalty: float = _config.DEFAULT_FREQUENCY_PENALTY


@dataclass(frozen=True)
class RequestOptions:
    """One call's validated settings. ``repr`` hides cookies, headers and the proxy's password."""

    model: str
    prompt: str
    base_url: str
    proxy: str | None = field(default=None, repr=False)
    cookies: dict[str, str] | None = field(default=None, repr=False)
    cookies_file: Path | None = None
    browsers: tuple[str, ...] = _config.SUPPORTED_BROWSERS
    sampling: Sampling = field(default_factory=Sampling)
    timeout: float = _config.DEFAULT_TIMEOUT
    max_retries: int = _config.DEFAULT_MAX_RETRIES
    impersonate: str = _config.DEFAULT_IMPERSONATE
    user_agent: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    verify: bool | str = True

    @property
    def host(self) -> str:
        return _endpoints(self.base_url)[0]

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the API, the ``Origin`` a browser would send."""
        return _endpoints(self.base_url)[1]

    @property
    def api_url(self) -> str:
        return _endpoints(self.base_url)[2]

    @property
    def shown_proxy(self) -> str | None:
        return None if self.proxy is None else redact_url(self.proxy)


def parse_options(
    model: object,
    messages: object,
    proxy: object,
    kwargs: Mapping[str, Any],
    *,
    models: Sequence[str],
    default_model: str,
) -> RequestOptions:
    """Validate a ``create_async`` call. Raises InvalidRequestError (or ModelNotSupportedError)."""
    unknown = sorted(set(kwargs) - KNOWN_KWARGS)
    if unknown:
        logger.debug("ignoring keyword arguments this provider does not use: %s", unknown)
    base_url = parse_base_url(_from_env(kwargs.get("base_url"), _config.ENV_BASE_URL))
    host = _endpoints(base_url)[0]
    cookies = kwargs.get("cookies")
    return RequestOptions(
        model=parse_model(model, models, default_model),
        prompt=format_prompt(messages),  # type: ignore[arg-type]  # validated inside
        base_url=base_url,
        proxy=parse_proxy(proxy),
        cookies=None if cookies is None else cookies_from_argument(cookies, host=host),
        cookies_file=parse_cookies_file(
            _from_env(kwargs.get("cookies_file"), _config.ENV_COOKIES_FILE)
        ),
        browsers=parse_browsers(kwargs.get("browser")),
        sampling=Sampling(
            temperature=_number(kwargs, "temperature", _config.DEFAULT_TEMPERATURE, 0, 2),
            top_p=_number(kwargs, "top_p", _config.DEFAULT_TOP_P, 0, 1),
            presence_penalty=_number(
                kwargs, "presence_penalty", _config.DEFAULT_PRESENCE_PENALTY, -2, 2
            ),
            frequency_penalty=_number(
                kwargs, "frequency_penalty", _config.DEFAULT_FREQUENCY_PENALTY, -2, 2
            ),
        ),
        timeout=parse_timeout(kwargs.get("timeout")),
        max_retries=parse_max_retries(kwargs.get("max_retries")),
        impersonate=parse_impersonate(kwargs.get("impersonate")),
        user_agent=parse_user_agent(_from_env(kwargs.get("user_agent"), _config.ENV_USER_AGENT)),
        headers=parse_headers(kwargs.get("headers")),
        verify=parse_verify(kwargs.get("verify", True)),
    )


def _from_env(value: object, variable: str) -> object:
    if value is None:
        return os.environ.get(variable) or None
    return value


def parse_model(model: object, models: Sequence[str], default_model: str) -> str:
    if model is None or model == "":
        return default_model
    if not isinstance(model, str):
        raise InvalidRequestError(f"model must be a string, not {type(model).__name__}.")
    if model not in models:
        raise ModelNotSupportedError(
            f"Model {model[:80]!r} is not supported by this provider; use one of: "
            f"{', '.join(models)} (or '' for the default).",
            model=model,
        )
    return model


def _number(kwargs: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = kwargs.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(f"{name} must be a number, not {type(value).__name__}.")
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidRequestError(f"{name} must be between {low:g} and {high:g}; got {value!r}.")
    return float(value)


def parse_timeout(value: object) -> float:
    if value is None:
        return _config.DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"timeout must be a number of seconds, not {type(value).__name__}."
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidRequestError(f"timeout must be a positive number of seconds; got {value!r}.")
    return float(value)


def parse_max_retries(value: object) -> int:
    if value is None:
        return _config.DEFAULT_MAX_RETRIES
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"max_retries must be a whole number >= 0; got {value!r}.")
    return value


def parse_base_url(value: object) -> str:
    if value is None:
        return _config.DEFAULT_BASE_URL
    if not isinstance(value, str):
        raise InvalidRequestError(f"base_url must be a string, not {type(value).__name__}.")
    return _parse_base_url(value)


@lru_cache(maxsize=64)
def _endpoints(base_url: str) -> tuple[str, str, str]:
    """The host, the origin and the API URL of a validated ``base_url``."""
    parts = urlsplit(base_url)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}", f"{base_url}/api/text"


@lru_cache(maxsize=64)  # an app sends every call to the same few URLs
def _parse_base_url(value: str) -> str:
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise InvalidRequestError(f"base_url {redact_url(value)!r} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"base_url must be an http:// or https:// URL with a host; got {redact_url(value)!r}."
        )
    if parts.username or parts.password:
        raise InvalidRequestError("base_url must not contain a user name or password.")
    if parts.query or parts.fragment:
        raise InvalidRequestError("base_url must not have a query string or fragment.")
    del port  # parsed only to validate it
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def parse_proxy(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"proxy must be a URL string, not {type(value).__name__}.")
    shown = redact_url(value)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise InvalidRequestError(f"proxy {shown!r} is not a valid URL (bad port?).") from None
    if parts.scheme.lower() not in PROXY_SCHEMES:
        raise InvalidRequestError(
            f"proxy {shown!r} must start with one of {', '.join(s + '://' for s in PROXY_SCHEMES)}."
        )
    if not parts.hostname:
        raise InvalidRequestError(f"proxy {shown!r} has no host.")
    if re.search(r"[^\x21-\x7e]", value):
        raise InvalidRequestError(
            f"proxy {shown!r} contains white space, control or non-ASCII characters."
        )
    del port
    return value


def parse_cookies_file(value: object) -> Path | None:
    if value is None or value == "":
        return None
    if isinstance(value, (str, os.PathLike)):
        return Path(value).expanduser()
    raise InvalidRequestError(f"cookies_file must be a path, not {type(value).__name__}.")


def parse_browsers(value: object) -> tuple[str, ...]:
    if value is None:
        return _config.SUPPORTED_BROWSERS
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise InvalidRequestError("browser must be a browser name or a list of names.")
    chosen: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key not in _config.SUPPORTED_BROWSERS:
            raise InvalidRequestError(
                f"browser {name[:40]!r} is not supported; use one of: "
                f"{', '.join(_config.SUPPORTED_BROWSERS)}."
            )
        if key not in chosen:
            chosen.append(key)
    return tuple(chosen)


def parse_impersonate(value: object) -> str:
    if value is None:
        return _config.DEFAULT_IMPERSONATE
    if not isinstance(value, str) or not _IMPERSONATE.match(value):
        raise InvalidRequestError(
            "impersonate must be a curl_cffi browser target such as 'chrome' or 'chrome131'."
        )
    return value


def parse_user_agent(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError("user_agent must be a non-empty string.")
    if UNSENDABLE.search(value):
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
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise InvalidRequestError(f"header name {str(name)[:64]!r} is not valid.")
        if name.lower() == "cookie":
            raise InvalidRequestError(
                "Pass cookies with cookies=..., not as a Cookie header, so they are only sent "
                "to the API host and never shown in errors."
            )
        if not isinstance(header_value, str) or UNSENDABLE.search(header_value):
            raise InvalidRequestError(
                f"header {name!r} must have a printable ASCII value (no control characters)."
            )
        headers[name] = header_value
    return headers


def parse_verify(value: object) -> bool | str:
    if isinstance(value, bool):
        if not value:
            logger.warning(
                "TLS certificate verification is off (verify is False); the connection to the "
                "service and its cookies can be intercepted."
            )
        return value
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not os.path.isfile(path):
            raise InvalidRequestError(f"verify={path!r}: no CA bundle file at that path.")
        return str(path)
    raise InvalidRequestError("verify must be True, False or the path of a CA bundle file.")
