"""The server's configuration: who may call it (API key, origins, Host names) and how it calls
its providers. Checked when the server starts, so a mistake stops it instead of failing every
request."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import _constants
from .._options import parse_options
from ..cookies._files import read_cookies_file
from ..errors import ProviderError
from ..registry import ProviderRegistry, registry

#: The server's configuration handed to ``--workers`` processes (JSON; private to the package).
WORKER_CONFIG_VARIABLE = "_AICHAT_SERVE_CONFIG"


class ServerConfigError(ValueError):
    """The server's own configuration is wrong (``aichat serve`` exits 2 with the message)."""


@dataclass
class ServerConfig:
    """How the server admits requests and calls its providers.

    ``provider_kwargs`` holds the ``create_async`` keyword arguments every call gets
    (``cookies_file``, ``browser``, ``proxy``, ``base_url``, ...); a request can never set them.
    ``cors_origins`` are the web pages (``https://app.example``, or ``*``) allowed to call the
    server from another origin; ``allowed_hosts`` the ``Host`` names accepted besides
    ``127.0.0.1``, ``localhost`` and ``::1`` (``*`` for any), which is what stops DNS
    rebinding.
    """

    api_key: str | None = None
    provider_kwargs: dict[str, Any] = field(default_factory=dict)
    max_body_bytes: int = _constants.SERVER_MAX_BODY_BYTES
    registry: ProviderRegistry = registry
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    graceful_timeout: float = _constants.SERVER_GRACEFUL_TIMEOUT
    max_choices: int = _constants.SERVER_MAX_CHOICES

    def __post_init__(self) -> None:
        self.cors_origins = tuple(normalise_origin(origin) for origin in self.cors_origins)
        self.allowed_hosts = tuple(normalise_host(host) for host in self.allowed_hosts)
        if self.api_key is not None and (not self.api_key or not self.api_key.isprintable()):
            raise ServerConfigError("The API key must be printable text, not empty.")
        if not 1 <= self.max_choices <= 128:
            raise ServerConfigError("max_choices must be between 1 and 128.")
        if not 0 <= self.graceful_timeout <= _constants.MAX_TIMEOUT:
            raise ServerConfigError("The graceful timeout must be between 0 s and a day.")
        if self.max_body_bytes < 1024:
            raise ServerConfigError("The largest request body must be at least 1024 bytes.")

    def __repr__(self) -> str:  # no key, no proxy password, no cookie
        return (
            f"ServerConfig(api_key={'set' if self.api_key else None}, "
            f"cors_origins={self.cors_origins!r}, allowed_hosts={self.allowed_hosts!r}, ...)"
        )

    @classmethod
    def from_environment(cls) -> ServerConfig:
        """``AICHAT_API_KEY``, ``AICHAT_CORS_ORIGINS`` and ``AICHAT_ALLOWED_HOSTS``; or, in a
        ``--workers`` process, the configuration ``aichat serve`` was given."""
        handed_over = os.environ.get(WORKER_CONFIG_VARIABLE)
        if handed_over:
            return cls.from_json(handed_over)
        return cls(
            api_key=os.environ.get(_constants.ENV_API_KEY) or None,
            cors_origins=environment_list(_constants.ENV_CORS_ORIGINS),
            allowed_hosts=environment_list(_constants.ENV_ALLOWED_HOSTS),
        )

    def to_json(self) -> str:
        """Everything but the registry (a worker process uses its own, found the same way)."""
        handed = {item.name: getattr(self, item.name) for item in fields(self)}
        del handed["registry"]
        try:
            return json.dumps(handed)
        except (TypeError, ValueError) as exc:
            raise ServerConfigError(
                f"This configuration cannot go to worker processes: {exc}"
            ) from None

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        data = json.loads(text)
        data["cors_origins"], data["allowed_hosts"] = (
            tuple(data["cors_origins"]),
            tuple(data["allowed_hosts"]),
        )
        return cls(**data)

    def check(self) -> None:
        """Check the provider options (the package's own, whichever registered provider serves a
        request) and read the cookies file now, as the first request would.

        Raises ServerConfigError with the message a person at the terminal needs.
        """
        kwargs = dict(self.provider_kwargs)
        proxy = kwargs.pop("proxy", None)
        try:
            # The options are checked, not a model: any name stands for the one a request asks.
            options = parse_options(
                "any",
                [{"role": "user", "content": "check"}],
                proxy,
                kwargs,
                models=["any"],
                default_model="any",
            )
            if options.cookies_file is not None:
                read_cookies_file(Path(options.cookies_file), options.api_url)
        except ProviderError as error:
            raise ServerConfigError(str(error)) from None


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, as browsers send ``Origin``; or ``*``."""
    if origin == "*":
        return origin
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ServerConfigError(
            f"{origin!r} is not an origin; give scheme, host and port only, "
            "like https://app.example or http://localhost:3000."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ServerConfigError(f"{origin!r} is not an origin (no query, fragment or user).")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def normalise_host(host: str) -> str:
    """A Host name as the server compares it: lower case, no port, IPv6 without brackets."""
    value = host.strip().lower()
    if value == "*":
        return value
    if not value or any(char in value for char in "/@?# ") or not value.isprintable():
        raise ServerConfigError(f"{host!r} is not a host name.")
    return value.strip("[]")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def environment_list(variable: str) -> tuple[str, ...]:
    """A comma-separated environment variable's items."""
    value = os.environ.get(variable, "")
    return tuple(part.strip() for part in value.split(",") if part.strip())
