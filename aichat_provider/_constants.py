"""Defaults in one place, and the environment variables that override them."""

from __future__ import annotations

# typing is not imported at run time: it would be most of `aichat --version`'s imports
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

#: The package's version (``aichat_provider.__version__``; pyproject.toml says the same).
VERSION: Final = "0.1.0"

DEFAULT_BASE_URL: Final = "https://chat-gpt.org"
DEFAULT_MODEL: Final = "gpt-3.5-turbo"
SUPPORTED_MODELS: Final = ("gpt-3.5-turbo",)

#: Seconds for one attempt, connect plus the whole non-streamed answer. A long answer from the
#: service takes tens of seconds; gpt4free's 6 s cuts those off.
DEFAULT_TIMEOUT: Final = 120.0
DEFAULT_MAX_RETRIES: Final = 2
#: The largest ``timeout`` (a day) and ``max_retries`` accepted: beyond them a value is a mistake.
MAX_TIMEOUT: Final = 86400.0
MAX_RETRIES_LIMIT: Final = 100
#: curl_cffi resolves "chrome" to its newest Chrome target, with the matching user agent and
#: client hints, so the headers agree with the TLS fingerprint.
DEFAULT_IMPERSONATE: Final = "chrome"

DEFAULT_TEMPERATURE: Final = 0.5
DEFAULT_TOP_P: Final = 1.0
DEFAULT_PRESENCE_PENALTY: Final = 0.0
DEFAULT_FREQUENCY_PENALTY: Final = 0.0

#: Reply bodies larger than this (after decompression) are refused while they are read.
MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024
#: How much of an error body an exception keeps.
BODY_EXCERPT_CHARS: Final = 200

#: Retry backoff: the first wait, the longest wait, and the longest ``Retry-After`` waited out.
RETRY_INITIAL_DELAY: Final = 0.5
RETRY_MAX_DELAY: Final = 8.0
RETRY_AFTER_LIMIT: Final = 60.0

#: How long cookies read from a browser profile are reused before the profile is read again.
BROWSER_COOKIE_TTL: Final = 60.0
#: A cookies file is looked at again (its modification time, then its content if it changed)
#: at most this often.
COOKIES_FILE_RECHECK: Final = 1.0
#: A browser read that takes longer than this (a locked database, a keyring that never answers)
#: is given up.
BROWSER_LOAD_TIMEOUT: Final = 15.0

#: ``aichat serve``: the API key clients must send, and the largest request body it reads.
ENV_API_KEY: Final = "AICHAT_API_KEY"
SERVER_MAX_BODY_BYTES: Final = 1024 * 1024
#: Web pages (origins, comma-separated) allowed to call the server across origins, and Host names
#: accepted beyond the loopback ones (comma-separated; ``*`` for any).
ENV_CORS_ORIGINS: Final = "AICHAT_CORS_ORIGINS"
ENV_ALLOWED_HOSTS: Final = "AICHAT_ALLOWED_HOSTS"
#: The Host names a server bound to a loopback address answers by default (DNS rebinding).
LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1")
#: The most choices (``n``) or prompts one request may ask for: each is an upstream call.
SERVER_MAX_CHOICES: Final = 8
#: The longest ``Retry-After`` passed on to clients; longer waits are cut to this and marked
#: ``x-should-retry: false`` (the Node SDK sleeps any Retry-After in full before each retry).
SERVER_RETRY_AFTER_CAP: Final = RETRY_AFTER_LIMIT
#: JSON Schemas a request brings (``response_format``, tool parameters): how many tools it may
#: offer (OpenAI's own limit), how deep and how large its schemas may be (all of them together),
#: and the seconds a worker process may take to compile one or check an answer against it before
#: it is killed (a hostile pattern or reference fan-out costs the worker, not the server).
SERVER_MAX_TOOLS: Final = 128
SERVER_MAX_SCHEMA_DEPTH: Final = 64
SERVER_MAX_SCHEMA_NODES: Final = 50_000
SERVER_SCHEMA_TIMEOUT: Final = 2.0
SERVER_SCHEMA_WORKERS: Final = 2
#: On SIGTERM, seconds in-flight requests get to finish before they are answered 503.
SERVER_GRACEFUL_TIMEOUT: Final = 10.0
#: Seconds a client gets to send a request's head (from connecting, or from the previous
#: answer), and again its body; a connection that has not is closed (408 if it sent part).
SERVER_READ_TIMEOUT: Final = 10.0
#: The largest request head (request line and headers). Four times Node's default and a browser's
#: ``Cookie`` header for a host at its limits, yet small next to a connection's other buffers.
SERVER_MAX_HEAD_BYTES: Final = 64 * 1024

#: ``aichat login``: seconds to wait for the person to sign in; for the browser to start; between
#: looks at its cookies. The automatic refresh gives its headless visit REFRESH_TIMEOUT.
LOGIN_TIMEOUT: Final = 300.0
LOGIN_LAUNCH_TIMEOUT: Final = 30.0
LOGIN_POLL: Final = 0.25
#: After Enter in ``aichat login``: how long to keep looking for a page past the check.
LOGIN_FINAL_LOOK: Final = 3.0
REFRESH_TIMEOUT: Final = 60.0
#: A browser to use for ``aichat login`` instead of looking for one.
ENV_BROWSER: Final = "AICHAT_BROWSER"

#: Where the cookie store and the login browser profiles live (default: the user's data dir).
ENV_DATA_DIR: Final = "AICHAT_DATA_DIR"
#: "1" turns on the automatic cookie refresh (``refresh_cookies=True``).
ENV_REFRESH_COOKIES: Final = "AICHAT_REFRESH_COOKIES"

ENV_BASE_URL: Final = "AICHAT_BASE_URL"
ENV_COOKIES_FILE: Final = "AICHAT_COOKIES_FILE"
ENV_USER_AGENT: Final = "AICHAT_USER_AGENT"

#: Browsers that browser_cookie3 can read, in the order they are tried.
SUPPORTED_BROWSERS: Final = (
    "chrome",
    "chromium",
    "brave",
    "edge",
    "opera",
    "opera_gx",
    "vivaldi",
    "arc",
    "firefox",
    "librewolf",
    "safari",
    "lynx",
    "w3m",
)
