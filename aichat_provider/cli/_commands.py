"""The commands' names, one-line summaries and exit codes, and the environment they read: what
``aichat --help`` shows without importing any command."""

from __future__ import annotations

# typing is not imported at run time: it would be most of `aichat --version`'s imports
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
EXIT_COOKIES: Final = 3
EXIT_BLOCKED: Final = 4
EXIT_NETWORK: Final = 5
#: The login extra, a display or the cli extra is missing: install or set it up first.
EXIT_SETUP: Final = 6
#: ``aichat serve`` could not start (its port is in use, its extra is missing).
EXIT_SERVER: Final = 7
EXIT_INTERRUPTED: Final = 130

#: In the order ``aichat --help`` lists them.
SUMMARIES: Final = {
    "ask": "Ask one question and print the answer (the default: aichat PROMPT).",
    "chat": "Chat in the terminal; the whole conversation is sent each turn.",
    "logs": "List, search and show the logged conversations.",
    "config": "Read and set the defaults in the config file.",
    "doctor": "Check cookies, browsers, DNS, TLS and the proxy, then make one test request.",
    "serve": "Serve an OpenAI-compatible API and a chat page (needs the server extra).",
    "login": "Sign in and pass the site's check in your browser; save the cookies.",
    "logout": "Forget the cookies 'aichat login' saved, and its browser profile.",
    "completion": "Print a shell completion script for bash, zsh or fish.",
}

EXIT_MEANINGS: Final = {
    0: "success",
    1: "any other failure (including an answer that could not be written out)",
    2: "usage error or invalid input",
    3: "cookies missing or rejected",
    4: "rate limited or stopped by a Cloudflare challenge",
    5: "network failure or timeout",
    6: "something to install or set up first: the login extra, a display, the cli extra",
    7: "the server could not start (port in use, server extra missing)",
    130: "interrupted (Ctrl-C)",
}
#: The codes each command can end with.
EXIT_CODES_OF: Final = {
    "ask": (0, 1, 2, 3, 4, 5, 130),
    "chat": (0, 1, 2, 130),
    "logs": (0, 1, 2),
    "config": (0, 1, 2),
    "doctor": (0, 1, 2, 3, 4, 5, 130),
    "serve": (0, 2, 7, 130),
    "login": (0, 1, 2, 3, 6, 130),
    "logout": (0, 1, 2),
    "completion": (0, 2, 6),
}

ENVIRONMENT: Final = (
    ("AICHAT_COOKIES_FILE", "a cookies.txt or JSON export to read cookies from (--cookies-file)"),
    ("AICHAT_BASE_URL", "the service's address (--base-url)"),
    ("AICHAT_USER_AGENT", "the user agent to send (--user-agent)"),
    ("AICHAT_REFRESH_COOKIES", "1: renew rejected cookies with a headless visit (--refresh)"),
    ("AICHAT_BROWSER", "the browser 'aichat login' starts (--browser-path)"),
    ("AICHAT_DATA_DIR", "where the login cookies and the log are kept"),
    ("AICHAT_CONFIG_FILE", "the config file to use instead of the default one"),
    ("AICHAT_API_KEY", "the key 'aichat serve' requires (--api-key)"),
    ("AICHAT_CORS_ORIGINS", "web pages 'aichat serve' lets call it (--cors-origin)"),
    ("AICHAT_ALLOWED_HOSTS", "Host names 'aichat serve' answers besides loopback (--allowed-host)"),
    ("NO_COLOR", "any value: no colours and no Markdown rendering"),
)


def exit_codes_text(codes: tuple[int, ...] | None = None) -> str:
    chosen = codes or tuple(EXIT_MEANINGS)
    return "exit codes:\n" + "\n".join(f"  {code:<4} {EXIT_MEANINGS[code]}" for code in chosen)


def environment_text() -> str:
    return "environment:\n" + "\n".join(f"  {name:<23} {what}" for name, what in ENVIRONMENT)
