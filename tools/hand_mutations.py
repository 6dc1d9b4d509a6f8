"""Hand-written mutations: plausible bugs a person could write, each an exact text replacement.

Data for ``python tools/audit_mutations.py --hand`` (the runner lives there). Each entry is
``(name, file, regression, old, new)``: ``old`` must occur exactly once in ``file``. A mutant is
run against ``MODULE_TESTS[file][0]`` (the module's own tests), and if those pass, against
``MODULE_TESTS[file][1]`` (a wider set); it survives only if both pass.

The bugs are the kinds an audit found the suite letting through (issue 29): a dropped check, a
swapped precedence, a limit off by one, a secret left out of the scrubber, a cookie kept for the
wrong host; not operator flips. ``server/*`` is left out on purpose (being rewritten). Lines of
``cli/*`` and ``_aichat.py`` that others were rewriting at the time were avoided where possible.
"""

from __future__ import annotations

FILES = "aichat_provider/cookies/_files.py"
STORE = "aichat_provider/cookies/_store.py"
DIRS = "aichat_provider/_dirs.py"
BROWSERS = "aichat_provider/cookies/_browsers.py"
PROFILES = "aichat_provider/cookies/_profiles.py"
COMMON = "aichat_provider/cli/_common.py"
ASK = "aichat_provider/cli/ask.py"
CHAT = "aichat_provider/cli/chat.py"
RESPONSES = "aichat_provider/_responses.py"
RETRY = "aichat_provider/_retry.py"
OPTIONS = "aichat_provider/_options.py"
AICHAT = "aichat_provider/_aichat.py"
LOGIN = "aichat_provider/_login/__init__.py"
LOGIN_BROWSER = "aichat_provider/_login/_browser.py"
LOGIN_FIND = "aichat_provider/_login/_find.py"
INTEGRATIONS = "aichat_provider/integrations/_common.py"
G4F = "aichat_provider/integrations/g4f.py"
LANGCHAIN = "aichat_provider/integrations/langchain.py"
LITELLM = "aichat_provider/integrations/litellm.py"
LLM = "aichat_provider/integrations/llm.py"
LOGS = "aichat_provider/cli/_logs.py"
CONFIG = "aichat_provider/cli/_config.py"
CONFIG_COMMAND = "aichat_provider/cli/config.py"

_COOKIE_WIDER = (
    "tests/cookies/test_sources.py",
    "tests/cookies/test_jar.py",
    "tests/provider/test_hostile_input.py",
)
_CLI = (
    "tests/cli/test_commands.py",
    "tests/cli/test_basics.py",
    "tests/cli/test_streams.py",
    "tests/cli/test_terminal_output.py",
    "tests/cli/test_logout_and_chat.py",
)
_PROVIDER = (
    "tests/provider/test_errors.py",
    "tests/provider/test_wire.py",
    "tests/provider/test_retries.py",
    "tests/provider/test_attempts.py",
    "tests/provider/test_plans.py",
    "tests/provider/test_validation.py",
)
_INTEGRATIONS = (
    "tests/integrations/test_option_models.py",
    "tests/integrations/test_registry.py",
)

#: file -> (its own tests, the wider set tried on the mutants those let through)
MODULE_TESTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    FILES: (
        (
            "tests/cookies/test_file_details.py",
            "tests/cookies/test_files.py",
            "tests/cookies/test_file_kinds.py",
            "tests/cookies/test_har.py",
        ),
        ("tests/cookies/test_store.py", *_COOKIE_WIDER),
    ),
    STORE: (
        ("tests/cookies/test_file_details.py", "tests/cookies/test_store.py"),
        ("tests/cookies/test_files.py", *_COOKIE_WIDER, "tests/cli/test_logout_and_chat.py"),
    ),
    DIRS: (
        ("tests/cookies/test_file_details.py", "tests/cookies/test_store.py"),
        ("tests/cli/test_config_file.py", "tests/cli/test_conversations.py"),
    ),
    BROWSERS: (
        (
            "tests/cookies/test_profile_order.py",
            "tests/cookies/test_browser_edges.py",
            "tests/cookies/test_reasons.py",
            "tests/cookies/test_profiles.py",
        ),
        (*_COOKIE_WIDER, "tests/cookies/test_real_browsers.py", "tests/cli/test_doctor.py"),
    ),
    PROFILES: (
        (
            "tests/cookies/test_profile_order.py",
            "tests/cookies/test_profiles.py",
            "tests/cookies/test_browser_edges.py",
        ),
        (
            "tests/cookies/test_reasons.py",
            *_COOKIE_WIDER,
            "tests/cookies/test_real_browsers.py",
            "tests/package/test_options.py",
        ),
    ),
    COMMON: (
        (
            "tests/cli/test_flag_values.py",
            "tests/cli/test_terminal_output.py",
            "tests/cli/test_streams.py",
            "tests/cli/test_commands.py",
        ),
        (
            *_CLI,
            "tests/package/test_options.py",
            "tests/cli/test_conversations.py",
            "tests/cli/test_log_and_config_details.py",
        ),
    ),
    ASK: (
        ("tests/cli/test_flag_values.py", "tests/cli/test_commands.py", "tests/cli/test_basics.py"),
        _CLI,
    ),
    CHAT: (("tests/cli/test_logout_and_chat.py",), _CLI),
    RESPONSES: (
        (
            "tests/provider/test_precedence_and_limits.py",
            "tests/provider/test_retries.py",
            "tests/provider/test_redact.py",
            "tests/provider/test_errors.py",
        ),
        (*_PROVIDER, "tests/provider/test_fault_matrix.py", "tests/provider/test_hostile_input.py"),
    ),
    RETRY: (
        (
            "tests/provider/test_precedence_and_limits.py",
            "tests/provider/test_retries.py",
            "tests/provider/test_attempts.py",
        ),
        (*_PROVIDER, "tests/provider/test_fault_matrix.py"),
    ),
    OPTIONS: (
        (
            "tests/provider/test_precedence_and_limits.py",
            "tests/package/test_options.py",
            "tests/provider/test_validation.py",
            "tests/reliability/test_fuzz.py",
        ),
        (*_PROVIDER, "tests/provider/test_hostile_input.py", "tests/cli/test_commands.py"),
    ),
    AICHAT: (
        (
            "tests/provider/test_precedence_and_limits.py",
            "tests/provider/test_wire.py",
            "tests/provider/test_plans.py",
            "tests/provider/test_errors.py",
        ),
        (
            *_PROVIDER,
            "tests/cookies/test_sources.py",
            "tests/cookies/test_store.py",
            # the refresh with real Chromium: the one test that sees a successful renewal
            "tests/login/test_login.py::test_an_expired_clearance_is_renewed_and_the_call_succeeds",
        ),
    ),
    LOGIN: (
        (
            "tests/provider/test_precedence_and_limits.py::"
            "test_the_refresh_needs_this_hosts_own_login_profile",
            "tests/login/test_login_guards.py",
            "tests/login/test_login.py",
        ),
        ("tests/login/test_find.py", *_CLI),
    ),
    LOGIN_BROWSER: (
        ("tests/login/test_login_guards.py", "tests/login/test_login.py"),
        ("tests/login/test_find.py",),
    ),
    LOGIN_FIND: (("tests/login/test_find.py",), ("tests/login/test_login.py",)),
    INTEGRATIONS: (
        ("tests/integrations/test_langchain.py", "tests/integrations/test_llm.py"),
        ("tests/integrations/test_litellm.py", "tests/integrations/test_g4f.py", *_INTEGRATIONS),
    ),
    G4F: (
        ("tests/integrations/test_g4f.py", "tests/integrations/test_g4f_by_name.py"),
        _INTEGRATIONS,
    ),
    LANGCHAIN: (("tests/integrations/test_langchain.py",), _INTEGRATIONS),
    LITELLM: (("tests/integrations/test_litellm.py",), _INTEGRATIONS),
    LLM: (("tests/integrations/test_llm.py",), _INTEGRATIONS),
    LOGS: (
        ("tests/cli/test_conversations.py", "tests/cli/test_log_and_config_details.py"),
        _CLI,
    ),
    CONFIG: (
        ("tests/cli/test_config_file.py", "tests/cli/test_log_and_config_details.py"),
        (*_CLI, "tests/cli/test_conversations.py"),
    ),
    CONFIG_COMMAND: (
        ("tests/cli/test_config_file.py", "tests/cli/test_log_and_config_details.py"),
        _CLI,
    ),
}

MUTATIONS: tuple[tuple[str, str, str, str, str], ...] = (
    # --- cookies/_files.py ---------------------------------------------------------------------
    (
        "files-bom-kept",
        FILES,
        "a cookies file saved with a UTF-8 BOM loses its first line",
        'else "utf-8-sig"',
        'else "utf-8"',
    ),
    (
        "files-subdomains-inverted",
        FILES,
        "the include-subdomains column of cookies.txt is read backwards",
        'host_only=subdomains.strip().upper() != "TRUE",',
        'host_only=subdomains.strip().upper() == "TRUE",',
    ),
    (
        "files-subdomains-ignored",
        FILES,
        "every cookies.txt cookie is host-only, whatever its include-subdomains column says",
        'host_only=subdomains.strip().upper() != "TRUE",',
        "host_only=True,",
    ),
    (
        "files-json-host-ignored",
        FILES,
        "a JSON export that names the domain `host` (Firefox add-ons) has no domain",
        'domain = item.get("domain", item.get("host", ""))',
        'domain = item.get("domain", "")',
    ),
    (
        "files-session-ignored",
        FILES,
        "`session: true` in a JSON export is ignored (its placeholder expiry is used)",
        '    if item.get("session") is True:\n        return None\n',
        "",
    ),
    (
        "files-secure-column-ignored",
        FILES,
        "cookies.txt's secure column is dropped: a Secure cookie goes over plain http",
        'secure=secure.strip().upper() == "TRUE",',
        "secure=False,",
    ),
    (
        "files-json-secure-ignored",
        FILES,
        "a JSON export's `secure` is dropped",
        'secure=item.get("secure") is True,',
        "secure=False,",
    ),
    (
        "files-httponly-lines-skipped",
        FILES,
        "`#HttpOnly_` lines of cookies.txt are taken for comments (session cookies lost)",
        'if line.startswith("#HttpOnly_"):',
        'if line.startswith("#HttpOnly_ "):',
    ),
    (
        "files-size-limit-off-by-one",
        FILES,
        "a cookies file one byte over the limit is read",
        "    if len(data) > limit:\n",
        "    if len(data) > limit + 1:\n",
    ),
    (
        "files-special-file-read",
        FILES,
        "a FIFO or device is read as a cookies file",
        "        if not stat.S_ISREG(mode):\n",
        "        if stat.S_ISSOCK(mode):\n",
    ),
    (
        "files-selenium-expiry-ignored",
        FILES,
        "Selenium's `expiry` key is not read: its expired cookies are kept as session cookies",
        'for key in ("expirationDate", "expires", "expiry"):',
        'for key in ("expirationDate", "expires"):',
    ),
    (
        "files-har-foreign-domain",
        FILES,
        "a HAR response from another site may set the API host's cookies",
        "    if domain and not _may_set_domain(domain, url, host):\n        return None\n",
        "",
    ),
    (
        "files-json-hostonly-ignored",
        FILES,
        "a JSON export's `hostOnly: true` is ignored: the cookie reaches subdomains",
        "host_only=host_only if isinstance(host_only, bool) else None,",
        "host_only=None,",
    ),
    (
        "files-har-default-path",
        FILES,
        "a HAR Set-Cookie without Path gets the request path with its trailing slash",
        'return path[: path.rindex("/")]',
        'return path[: path.rindex("/") + 1]',
    ),
    (
        "files-six-fields-refused",
        FILES,
        "a cookies.txt line whose empty value lost its tab is refused",
        '        if len(fields) == 6:\n            fields.append("")',
        '        if len(fields) == 5:\n            fields.append("")',
    ),
    (
        "files-har-request-not-secure",
        FILES,
        "cookies a HAR saw sent over https are kept as not Secure",
        "host_only=True, secure=request.https)",
        "host_only=True, secure=False)",
    ),
    # --- cookies/_store.py ---------------------------------------------------------------------
    (
        "store-drops-expiry",
        STORE,
        "save_login drops every cookie's expiry: stored cookies never expire",
        '        "expires": expiry,\n',
        '        "expires": None,\n',
    ),
    (
        "store-load-drops-expiry",
        STORE,
        "a stored cookie's expiry is not read back: expired cookies are sent",
        "expires=float(expires) if isinstance(expires, (int, float)) else None,",
        "expires=None,",
    ),
    (
        "store-keeps-other-hosts",
        STORE,
        "save_login keeps cookies of other hosts (written to the store)",
        '    entries = [entry for entry in entries if kept.get(entry["name"]) == entry["value"]]\n',
        "",
    ),
    (
        "store-host-only-lost",
        STORE,
        "a host-only cookie is stored as a domain cookie (reaches every subdomain)",
        '"hostOnly": not domain.startswith("."),',
        '"hostOnly": False,',
    ),
    (
        "store-secure-lost",
        STORE,
        "a Secure cookie is stored as not Secure",
        '"secure": bool(cookie.get("secure")),',
        '"secure": False,',
    ),
    (
        "store-session-cookie-expired",
        STORE,
        "a CDP session cookie (expires -1) is stored as expired",
        "if expires > 0 else None",
        "if expires != 0 else None",
    ),
    (
        "store-file-world-readable",
        STORE,
        "the store file is written 0644",
        "os.fchmod(descriptor, 0o600)",
        "os.fchmod(descriptor, 0o644)",
    ),
    (
        "store-folders-group-readable",
        STORE,
        "folders below the data directory stay readable by others",
        "_check_folder(current, info, closed=0o077)",
        "_check_folder(current, info, closed=0o022)",
    ),
    (
        "store-symlink-followed",
        STORE,
        "a symbolic link in the store's path is followed",
        "            if stat.S_ISLNK(info.st_mode):\n",
        "            if stat.S_ISLNK(info.st_mode) and current == root:\n",
    ),
    (
        "store-version-unchecked",
        STORE,
        "a store file of another format version is read",
        'if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:',
        "if not isinstance(data, dict):",
    ),
    (
        "store-user-agent-unchecked",
        STORE,
        "a stored user agent with a newline is sent in a header",
        "if user_agent is not None and (not isinstance(user_agent, str) or not "
        "is_sendable(user_agent)):",
        "if user_agent is not None and not isinstance(user_agent, str):",
    ),
    (
        "store-host-path-unsanitised",
        STORE,
        "the host is used as a file name as it is (`../`)",
        'safe = re.sub(r"[^a-z0-9.\\-]", "_", host.lower())',
        "safe = host.lower()",
    ),
    (
        "store-xdg-relative",
        DIRS,
        "a relative XDG_DATA_HOME is used (against the spec)",
        "base = Path(xdg) if xdg and Path(xdg).is_absolute() else",
        "base = Path(xdg) if xdg else",
    ),
    (
        "store-xdg-beats-override",
        STORE,
        "XDG_DATA_HOME wins over AICHAT_DATA_DIR",
        "override = environ.get(_constants.ENV_DATA_DIR)",
        'override = None if environ.get("XDG_DATA_HOME") else environ.get(_constants.ENV_DATA_DIR)',
    ),
    (
        "store-damaged-expiry-accepted",
        STORE,
        "a stored expiry that is not a number is accepted",
        '            entry.get("expires") is not None and _finite(entry.get("expires")) is None\n',
        "            False\n",
    ),
    # --- cookies/_browsers.py -------------------------------------------------------------------
    (
        "browsers-keyring-ends-search",
        BROWSERS,
        "one keyring-locked Chromium profile ends the search of the others",
        "            reasons.append(needed.why)\n            continue\n",
        "            reasons.append(needed.why)\n            break\n",
    ),
    (
        "browsers-failure-ends-search",
        BROWSERS,
        "one unreadable profile ends the search of the others",
        "            reasons.append(describe_browser_failure(exc))\n            continue\n",
        "            return None, None, describe_browser_failure(exc)\n",
    ),
    (
        "browsers-empty-browser-wins",
        BROWSERS,
        "the first browser read ends the search even with no cookie for the host",
        "        if selected is not None and selected.values:\n",
        "        if selected is not None:\n",
    ),
    (
        "browsers-search-term-host-only",
        BROWSERS,
        "cookies set on the parent domain are not searched for",
        'return ".".join(labels[-2:]) if len(labels) > 2 else host',
        "return host",
    ),
    (
        "browsers-firefox-milliseconds",
        BROWSERS,
        "Firefox's millisecond expiry is taken as seconds (expired cookies live for ever)",
        "expires = normalise_expiry(float(cookie.expires)) if cookie.expires else None",
        "expires = float(cookie.expires) if cookie.expires else None",
    ),
    (
        "browsers-secure-dropped",
        BROWSERS,
        "a browser's Secure cookie is sent over plain http",
        "secure=bool(cookie.secure),",
        "secure=False,",
    ),
    (
        "browsers-path-dropped",
        BROWSERS,
        "a browser cookie's path is dropped",
        'path=cookie.path or "/",',
        'path="/",',
    ),
    (
        "browsers-stale-bus-no-fallback",
        BROWSERS,
        "a stale D-Bus address does not fall back to reading without the keyring",
        "if isinstance(exc, (ConnectionError, FileNotFoundError, TimeoutError, PermissionError)):",
        "if isinstance(exc, (ConnectionError, TimeoutError, PermissionError)):",
    ),
    (
        "browsers-locked-keyring-called-missing",
        BROWSERS,
        "a locked keyring is described as a missing D-Bus session",
        'if isinstance(exc, KeyError) and "DBUS_SESSION_BUS_ADDRESS" in str(exc):',
        "if isinstance(exc, KeyError):",
    ),
    (
        "browsers-last-reason-wins",
        BROWSERS,
        "an empty profile's reason hides the keyring reason of another",
        "    return informative[0] if informative else plain\n",
        "    return reasons[-1]\n",
    ),
    (
        "browsers-leading-dot-host",
        BROWSERS,
        "get_cookies('.chat-gpt.org') keeps the leading dot",
        'host = domain_name.strip().lstrip(".").lower()',
        "host = domain_name.strip().lower()",
    ),
    (
        "browsers-failure-text-shown",
        BROWSERS,
        "a loader's exception text (which may quote cookie bytes) becomes the reason",
        'text = str(exc) if type(exc).__name__ == "BrowserCookieError" else ""',
        "text = str(exc)",
    ),
    (
        "browsers-unsendable-ends-search",
        BROWSERS,
        "a profile holding an unsendable cookie ends the search of the others",
        "            reasons.append(_UNSENDABLE)\n            continue\n",
        "            return None, None, _UNSENDABLE\n",
    ),
    # --- cookies/_profiles.py -------------------------------------------------------------------
    (
        "profiles-firefox-alphabetical",
        PROFILES,
        "Firefox folders are read alphabetically before the profile in use",
        'for folder in [*_listed_firefox_profiles(root), *sorted(root.glob("*/"))]:',
        'for folder in [*sorted(root.glob("*/")), *_listed_firefox_profiles(root)]:',
    ),
    (
        "profiles-default-before-installs",
        PROFILES,
        "the profile marked Default=1 comes before the one installs.ini says is in use",
        "ordered = [*in_use, *marked, *others]",
        "ordered = [*marked, *in_use, *others]",
    ),
    (
        "profiles-isrelative-ignored",
        PROFILES,
        "an absolute profile path in profiles.ini is taken as relative",
        "locations[path] = root / path if relative else Path(path)",
        "locations[path] = root / path",
    ),
    (
        "profiles-chromium-last-used-ignored",
        PROFILES,
        "Chromium's last used profile is not read first",
        "        folders.sort(key=lambda p: p.name != last_used)\n",
        "        folders.sort(key=lambda p: p.name)\n",
    ),
    (
        "profiles-network-cookies-missed",
        PROFILES,
        "Chromium's newer Network/Cookies database is not looked for",
        'for cookie_file in (folder / "Network" / "Cookies", folder / "Cookies"):',
        'for cookie_file in (folder / "Cookies",):',
    ),
    (
        "profiles-xdg-firefox-missed",
        PROFILES,
        "Firefox 147+'s XDG profile folder is not looked in",
        '                    ".config/mozilla/firefox",\n                    ".mozilla/firefox",\n',
        '                    ".mozilla/firefox",\n',
    ),
    (
        "profiles-name-case",
        PROFILES,
        "browser='Firefox' is refused",
        "        key = name.strip().lower()\n",
        "        key = name.strip()\n",
    ),
    (
        "profiles-ini-install-sections-ignored",
        PROFILES,
        "profiles.ini's [Install...] sections are not read",
        'if parser is installs or section.startswith("Install"):',
        "if parser is installs:",
    ),
    (
        "profiles-windows-key-file-lost",
        PROFILES,
        "Chromium on Windows gets no Local State key file",
        "key_file if windows and key_file.is_file() else None,",
        "None,",
    ),
    (
        "profiles-windows-appdata-ignored",
        PROFILES,
        "a Windows root under %APPDATA% is looked for in the home folder",
        'if platform == WINDOWS and base in ("APPDATA", "LOCALAPPDATA"):',
        'if platform == WINDOWS and base == "LOCALAPPDATA":',
    ),
    (
        "profiles-dedupe-lost",
        PROFILES,
        "browser=['firefox', 'firefox'] reads Firefox twice",
        "        if key not in chosen:\n            chosen.append(key)\n",
        "        chosen.append(key)\n",
    ),
    # --- cli/_common.py ---------------------------------------------------------------------
    (
        "common-rejected-cookies-exit-1",
        COMMON,
        "rejected cookies exit 1 instead of 3",
        "        error, (errors.MissingCookiesError, errors.AuthenticationError, "
        "errors.LoginError)\n",
        "        error, (errors.MissingCookiesError, errors.LoginError)\n",
    ),
    (
        "common-cloudflare-exit-1",
        COMMON,
        "a Cloudflare challenge exits 1 instead of 4",
        "if isinstance(error, (errors.RateLimitError, errors.CloudflareError)):",
        "if isinstance(error, errors.RateLimitError):",
    ),
    (
        "common-timeout-exit-1",
        COMMON,
        "a timeout exits 1 instead of 5",
        "if isinstance(error, (errors.ProviderConnectionError, errors.ProviderTimeoutError)):",
        "if isinstance(error, errors.ProviderConnectionError):",
    ),
    (
        "common-c1-controls-obeyed",
        COMMON,
        "DEL and the C1 controls (U+009B starts a CSI) reach the terminal",
        r'_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")',
        r'_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)")',
    ),
    (
        "common-carriage-return-obeyed",
        COMMON,
        "a lone CR reaches the terminal (overwrites the line)",
        r'_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")',
        r'_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")',
    ),
    (
        "common-no-color-ignored",
        COMMON,
        "NO_COLOR is ignored",
        ' and not os.environ.get("NO_COLOR")',
        "",
    ),
    (
        "common-error-not-one-line",
        COMMON,
        "an error quoting the service reaches stderr with its controls",
        'print(f"{prefix} {one_line(text)}", file=stream, flush=True)',
        'print(f"{prefix} {text}", file=stream, flush=True)',
    ),
    (
        "common-json-on-terminal-caret",
        COMMON,
        "--json on a terminal is written in cat -v notation (no longer the same JSON value)",
        "text = _json_shown(text) if is_json else shown(text)",
        "text = shown(text)",
    ),
    (
        "common-system-ignored",
        COMMON,
        "--system is not sent",
        '    head = [{"role": "system", "content": system}] if system else []\n',
        "    head = []\n",
    ),
    (
        "common-zero-flag-dropped",
        COMMON,
        "--temperature 0 is dropped (the default 0.5 is sent)",
        "        if value is None:\n            continue\n        if option.name == ",
        "        if not value:\n            continue\n        if option.name == ",
    ),
    (
        "common-spinner-when-redirected",
        COMMON,
        "the spinner is written to a redirected stderr",
        "if stderr is not None and stderr.isatty() else None",
        "if stderr is not None else None",
    ),
    (
        "common-short-write-ignored",
        COMMON,
        "a write that wrote nothing is taken for success",
        '            if not written:\n                raise OSError("nothing could be written")\n',
        "            if not written:\n                break\n",
    ),
    (
        "common-headers-flag-dropped",
        COMMON,
        "--header values are not passed on",
        '        if option.name == "headers":\n            value = dict(value)\n',
        '        if option.name == "headers":\n            continue\n',
    ),
    # --- cli/ask.py -----------------------------------------------------------------------
    (
        "ask-dash-literal",
        ASK,
        "`aichat -` sends '-' as the prompt",
        'if argument not in (None, "-"):',
        "if argument is not None:",
    ),
    (
        "ask-blank-prompt-sent",
        ASK,
        "a prompt of spaces is sent",
        "    if not prompt.strip():\n",
        "    if not prompt:\n",
    ),
    (
        "ask-piped-stdin-chats",
        ASK,
        "with no prompt and piped stdin the chat starts instead of reading the pipe",
        "on_terminal = sys.stdin is not None and sys.stdin.isatty()",
        "on_terminal = sys.stdin is not None",
    ),
    (
        "ask-error-exit-1",
        ASK,
        "every provider error exits 1",
        "    code = exit_code_for(error)\n",
        "    code = 1\n",
    ),
    (
        "ask-json-no-attempts",
        ASK,
        "--json reports attempts as 1",
        '"attempts": answer.attempts,',
        '"attempts": 1,',
    ),
    (
        "ask-stdin-not-utf8-crash",
        ASK,
        "non-UTF-8 standard input is not reported as such",
        '        raise errors.InvalidRequestError("standard input is not UTF-8 text.") from None\n',
        "        raise\n",
    ),
    # --- cli/chat.py ----------------------------------------------------------------------
    (
        "chat-history-not-sent",
        CHAT,
        "each chat turn is sent without the conversation so far",
        "messages = conversation(system, history, text)",
        "messages = conversation(system, [], text)",
    ),
    (
        "chat-reset-ignored",
        CHAT,
        "/reset does not clear the conversation",
        "            history = []\n            thread = Thread(new_conversation_id())\n",
        "            thread = Thread(new_conversation_id())\n",
    ),
    (
        "chat-system-cannot-clear",
        CHAT,
        "/system alone does not clear the system message",
        'system = text[len("/system") :].strip() or None',
        'system = text[len("/system") :].strip() or system',
    ),
    (
        "chat-failed-turn-ends",
        CHAT,
        "a failed turn ends the chat",
        "            report_error(error)\n            continue\n",
        "            report_error(error)\n            return 1\n",
    ),
    (
        "chat-unknown-command-sent",
        CHAT,
        "an unknown /command is sent to the service",
        '        if text.startswith("/"):\n',
        '        if text.startswith("//"):\n',
    ),
    (
        "chat-bad-line-ends",
        CHAT,
        "a line that is not UTF-8 ends the chat",
        '            report_error("that line is not UTF-8 text; type it again.")\n            '
        "continue\n",
        '            report_error("that line is not UTF-8 text; type it again.")\n            '
        "return EXIT_USAGE\n",
    ),
    (
        "chat-failed-answer-in-history",
        CHAT,
        "a turn that failed still goes into the history (as an empty answer)",
        "        except errors.ProviderError as error:\n            report_error(error)\n"
        "            continue\n",
        "        except errors.ProviderError as error:\n            report_error(error)\n"
        '            history.append({"role": "user", "content": text})\n'
        "            continue\n",
    ),
    # --- _responses.py --------------------------------------------------------------------
    (
        "responses-excerpt-cut-before-scrub",
        RESPONSES,
        "the body excerpt is cut before it is scrubbed (part of a secret at the cut survives)",
        '    text = scrub(body[: limit * 16].decode("utf-8", errors="replace"))\n'
        '    text = re.sub(r"\\s+", " ", text).strip()\n'
        '    return text if len(text) <= limit else text[: limit - 3] + "..."\n',
        '    text = body[: limit * 16].decode("utf-8", errors="replace")\n'
        '    text = re.sub(r"\\s+", " ", text).strip()\n'
        '    return scrub(text if len(text) <= limit else text[: limit - 3] + "...")\n',
    ),
    (
        "responses-excerpt-unscrubbed",
        RESPONSES,
        "the body excerpt is not scrubbed",
        '    text = scrub(body[: limit * 16].decode("utf-8", errors="replace"))\n',
        '    text = body[: limit * 16].decode("utf-8", errors="replace")\n',
    ),
    (
        "responses-retry-after-negative",
        RESPONSES,
        "a Retry-After date in the past gives a negative wait",
        "    return max(0.0, seconds)\n",
        "    return seconds\n",
    ),
    (
        "responses-cf-header-ignored",
        RESPONSES,
        "`cf-mitigated: challenge` alone is not a challenge",
        '    if reply.header("cf-mitigated").lower() == "challenge":\n        return True\n',
        "",
    ),
    (
        "responses-cf-429-missed",
        RESPONSES,
        "a challenge page with 429 is taken for rate limiting",
        "if reply.status_code not in (403, 429, 503):",
        "if reply.status_code not in (403, 503):",
    ),
    (
        "responses-403-not-auth",
        RESPONSES,
        "403 is not an authentication error",
        "    if status in (401, 403):\n",
        "    if status == 401:\n",
    ),
    (
        "responses-redirect-ok",
        RESPONSES,
        "a 3xx counts as success",
        "    if 200 <= status < 300:\n",
        "    if 200 <= status < 400:\n",
    ),
    (
        "responses-location-unscrubbed",
        RESPONSES,
        "a redirect's Location is shown without scrubbing",
        'target = scrub(reply.header("location"))',
        'target = reply.header("location")',
    ),
    (
        "responses-429-retry-after-lost",
        RESPONSES,
        "RateLimitError loses Retry-After",
        "            retry_after=retry_after,\n            status_code=status,\n"
        "            body_excerpt=excerpt,\n        )\n    if status >= 500:",
        "            retry_after=None,\n            status_code=status,\n"
        "            body_excerpt=excerpt,\n        )\n    if status >= 500:",
    ),
    (
        "responses-naive-date-accepted",
        RESPONSES,
        "a Retry-After date without a zone is read as local time",
        "        if when.tzinfo is None:\n            return None\n",
        "",
    ),
    (
        "responses-location-query-shown",
        RESPONSES,
        "a redirect's message shows the whole target (its query may carry a session id)",
        'where = f"to {target_host or target_path[:100] or \'elsewhere\'}" if target else ""',
        'where = f"to {target}" if target else ""',
    ),
    # --- _retry.py ------------------------------------------------------------------------
    (
        "retry-after-over-limit-waited",
        RETRY,
        "a Retry-After over the limit is waited out (capped) instead of raised at once",
        "return retry_after if retry_after <= self.retry_after_limit else None",
        "return min(retry_after, self.retry_after_limit)",
    ),
    (
        "retry-cloudflare-retried",
        RETRY,
        "a Cloudflare challenge (503) is retried",
        "    if isinstance(error, CloudflareError):\n        return False\n",
        "",
    ),
    (
        "retry-4xx-retried",
        RETRY,
        "every 4xx is retried",
        "return error.status_code >= 500",
        "return error.status_code >= 400",
    ),
    (
        "retry-tls-retried",
        RETRY,
        "a TLS verification failure is retried",
        "return error.transient",
        "return True",
    ),
    (
        "retry-one-too-many",
        RETRY,
        "max_retries=N makes N+1 retries",
        "if retries_done >= self.max_retries or not is_retryable(error):",
        "if retries_done > self.max_retries or not is_retryable(error):",
    ),
    (
        "retry-backoff-uncapped",
        RETRY,
        "the backoff is not capped at max_delay",
        "backoff = min(self.initial_delay * 2.0**retries_done, self.max_delay)",
        "backoff = self.initial_delay * 2.0**retries_done",
    ),
    (
        "retry-attempts-off-by-one",
        RETRY,
        "the final error counts one attempt too few",
        "error.attempts = retries_done + 1",
        "error.attempts = retries_done",
    ),
    (
        "retry-rate-limit-not-retried",
        RETRY,
        "429 is not retried",
        "    if isinstance(error, RateLimitError):\n        return True\n",
        "",
    ),
    # --- _options.py ----------------------------------------------------------------------
    (
        "options-temperature-zero-refused",
        OPTIONS,
        "temperature=0 is refused",
        '_number("temperature", _constants.DEFAULT_TEMPERATURE, 0, 2),',
        '_number("temperature", _constants.DEFAULT_TEMPERATURE, 0, 2, low_allowed=False),',
    ),
    (
        "options-top-p-over-one",
        OPTIONS,
        "top_p up to 2 is accepted",
        '_number("top_p", _constants.DEFAULT_TOP_P, 0, 1),',
        '_number("top_p", _constants.DEFAULT_TOP_P, 0, 2),',
    ),
    (
        "options-negative-penalty-refused",
        OPTIONS,
        "a negative presence_penalty is refused",
        '_number("presence_penalty", _constants.DEFAULT_PRESENCE_PENALTY, -2, 2),',
        '_number("presence_penalty", _constants.DEFAULT_PRESENCE_PENALTY, 0, 2),',
    ),
    (
        "options-bool-as-number",
        OPTIONS,
        "temperature=True is taken as 1",
        "        if isinstance(value, bool) or not isinstance(value, (int, float)):\n"
        '            raise InvalidRequestError(f"{name} must be {kind}',
        "        if not isinstance(value, (int, float)):\n"
        '            raise InvalidRequestError(f"{name} must be {kind}',
    ),
    (
        "options-refresh-any-text-on",
        OPTIONS,
        "AICHAT_REFRESH_COOKIES=false turns the refresh on",
        "        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:\n"
        "            return value.strip().lower() in _TRUE\n",
        "        if isinstance(value, str):\n            return bool(value.strip())\n",
    ),
    (
        "options-refresh-false-refused",
        OPTIONS,
        "AICHAT_REFRESH_COOKIES=false is refused",
        '_FALSE = frozenset({"", "0", "false", "no", "off"})',
        '_FALSE = frozenset({"", "0", "no", "off"})',
    ),
    (
        "options-environment-beats-argument",
        OPTIONS,
        "an environment variable overrides the call's own argument",
        "        if kwargs.get(name) is None:\n"
        "            try:\n"
        "                values[name] = parse[name](environ.get(variable) or None)\n",
        "        if environ.get(variable) or kwargs.get(name) is None:\n"
        "            try:\n"
        "                values[name] = parse[name](environ.get(variable) or None)\n",
    ),
    (
        "options-empty-environment-used",
        OPTIONS,
        "an empty AICHAT_* variable is used as a value",
        "values[name] = parse[name](environ.get(variable) or None)",
        "values[name] = parse[name](environ.get(variable))",
    ),
    (
        "options-call-user-agent-as-environment",
        OPTIONS,
        "the call's user_agent counts as the environment's (the store's wins over it)",
        '        kwargs.get("user_agent") is None and values["user_agent"] is not None\n',
        '        values["user_agent"] is not None\n',
    ),
    (
        "options-secrets-no-proxy",
        OPTIONS,
        "the proxy password is left out of the call's secrets",
        "found = [*(self.cookies or {}).values(), *url_secrets(self.proxy)]",
        "found = [*(self.cookies or {}).values()]",
    ),
    (
        "options-proxy-in-repr",
        OPTIONS,
        "the proxy (with its password) is shown in RequestOptions' repr",
        '        flag="--proxy",\n        secret=True,\n',
        '        flag="--proxy",\n',
    ),
    (
        "options-jar-not-filtered",
        OPTIONS,
        "a CookieJar argument is not filtered by the API URL (other hosts' cookies sent)",
        'values["cookies"] = cookies_from_argument(values["cookies"], '
        'url=values["base_url"].api_url)',
        'values["cookies"] = cookies_from_argument(values["cookies"], url="")',
    ),
    (
        "options-lowercase-cookie-header",
        OPTIONS,
        "a lower-case `cookie` header is accepted in headers=",
        '        if name.lower() == "cookie":\n',
        '        if name == "Cookie":\n',
    ),
    (
        "options-header-injection",
        OPTIONS,
        "a header value with CR/LF is accepted",
        "        if not isinstance(header_value, str) or not is_sendable(header_value):\n",
        "        if not isinstance(header_value, str):\n",
    ),
    (
        "options-missing-ca-bundle",
        OPTIONS,
        "verify= a missing CA bundle path is accepted",
        'if not isinstance(path, str) or "\\x00" in path or not os.path.isfile(path):',
        'if not isinstance(path, str) or "\\x00" in path:',
    ),
    (
        "options-positional-proxy-ignored",
        OPTIONS,
        "the positional proxy argument is ignored",
        '    if proxy is not None:\n        values["proxy"] = parse_proxy(proxy)\n',
        "",
    ),
    (
        "options-timeout-zero",
        OPTIONS,
        "timeout=0 is accepted",
        "    low_allowed=False,\n",
        "    low_allowed=True,\n",
    ),
    (
        "options-blank-user-agent",
        OPTIONS,
        "a blank user_agent is accepted",
        "    if not isinstance(value, str) or not value.strip():\n"
        '        raise InvalidRequestError("user_agent must be a non-empty string.")',
        "    if not isinstance(value, str):\n"
        '        raise InvalidRequestError("user_agent must be a non-empty string.")',
    ),
    (
        "options-max-retries-unbounded",
        OPTIONS,
        "max_retries has no upper limit",
        "        or not 0 <= value <= _constants.MAX_RETRIES_LIMIT\n",
        "        or value < 0\n",
    ),
    (
        "options-verify-false-silent",
        OPTIONS,
        "verify=False logs no warning",
        '    if values["verify"] is False:\n',
        '    if values["verify"] is False and values["proxy"]:\n',
    ),
    # --- _aichat.py -----------------------------------------------------------------------
    (
        "aichat-scrubber-no-call-secrets",
        AICHAT,
        "the scrubber leaves out the call's secrets (the proxy password)",
        "scrub = Scrubber((*cookies.cookies.values(), *options.secrets))",
        "scrub = Scrubber(cookies.cookies.values())",
    ),
    (
        "aichat-store-agent-beats-call",
        AICHAT,
        "the stored user agent wins over the call's",
        "if cookies.user_agent and (agent is None or options.user_agent_from_environment):",
        "if cookies.user_agent:",
    ),
    (
        "aichat-environment-agent-beats-store",
        AICHAT,
        "AICHAT_USER_AGENT wins over the user agent stored with the cookies",
        "if cookies.user_agent and (agent is None or options.user_agent_from_environment):",
        "if cookies.user_agent and agent is None:",
    ),
    (
        "aichat-rejected-cookies-kept",
        AICHAT,
        "cookies the service rejected stay cached",
        "            resolved.rejected(options.api_url)\n",
        "",
    ),
    (
        "aichat-refresh-on-cloudflare-skipped",
        AICHAT,
        "refresh_cookies does not renew on a Cloudflare challenge",
        "            if not options.refresh_cookies:\n",
        "            if not options.refresh_cookies or isinstance(error, CloudflareError):\n",
    ),
    (
        "aichat-attempts-before-refresh-lost",
        AICHAT,
        "the attempts before a refresh are not counted",
        "            attempts += first\n",
        "",
    ),
    (
        "aichat-client-hints-kept",
        AICHAT,
        "a user_agent override keeps the impersonated browser's client hints",
        "        for hint in _CLIENT_HINTS:\n            headers[hint] = None\n",
        "",
    ),
    (
        "aichat-extra-header-case",
        AICHAT,
        "an extra `User-Agent` header is added beside the default instead of replacing it",
        "headers.update({name.lower(): value for name, value in extra})",
        "headers.update(dict(extra))",
    ),
    (
        "aichat-plan-ca-bundle-unchecked",
        AICHAT,
        "a CA bundle removed after the first call is not reported",
        "    if type(verify) is str and not os.path.isfile(verify):\n",
        "    if False:\n",
    ),
    (
        "aichat-plan-ignores-environment",
        AICHAT,
        "a changed AICHAT_* variable is ignored by later calls (cached plan)",
        '            parts.append(value)\n            if name == "cookies_file" and value',
        '            parts.append(None)\n            if name == "cookies_file" and value',
    ),
    (
        "aichat-plan-true-is-one",
        AICHAT,
        "a cached plan for temperature=1 answers temperature=True",
        "            parts += (name, kind, value)\n            if kind is float",
        "            parts += (name, value)\n            if kind is float",
    ),
    (
        "aichat-plan-verify-false-cached",
        AICHAT,
        "verify=False warns on the first call only",
        '    if kwargs.get("verify", True) is False:\n        return None\n',
        "",
    ),
    (
        "aichat-answer-error-unscrubbed",
        AICHAT,
        "a 2xx reply's excerpt is not scrubbed",
        '"body_excerpt": body_excerpt(reply.body, scrub),',
        '"body_excerpt": body_excerpt(reply.body, Scrubber()),',
    ),
    (
        "aichat-home-not-in-plan",
        AICHAT,
        "cookies_file='~/x' keeps the first call's HOME",
        '    if home:\n        parts.append(environ.get("HOME"))\n',
        "",
    ),
    (
        "aichat-refusal-text-unshown",
        AICHAT,
        "the service's own refusal text is not in the message",
        'return ResponseError(f"The service reported a failure: {said}", **facts)',
        'return ResponseError("The service reported a failure.", **facts)',
    ),
    # --- _login ---------------------------------------------------------------------------
    (
        "login-profile-folder-0755",
        LOGIN_BROWSER,
        "the login's browser profile folder is created 0755",
        "await asyncio.to_thread(private_folder, profile)",
        "await asyncio.to_thread(profile.mkdir, 0o755, True, True)",
    ),
    (
        "login-saves-after-challenge",
        LOGIN,
        "login saves cookies after a challenge without cf_clearance",
        'if seen.blocked or (seen.challenged and "cf_clearance" not in seen.names):',
        "if seen.blocked:",
    ),
    (
        "login-done-without-clearance",
        LOGIN_BROWSER,
        "a visit that saw a challenge is done without cf_clearance",
        '        and (not seen.challenged or "cf_clearance" in names)\n',
        "",
    ),
    (
        "login-wait-for-ignored",
        LOGIN,
        "--wait-for cookies are not required before saving",
        "missing = sorted(set(wait_for) - seen.names)",
        "missing: list[str] = []",
    ),
    (
        "login-saves-nothing",
        LOGIN,
        "a login with no cookie at all is saved",
        "if missing or not seen.names:",
        "if missing:",
    ),
    (
        "login-store-cache-stale",
        LOGIN,
        "calls keep the cookies cached before the login",
        "    store_cache.recheck(store_path(endpoints.host))\n",
        "",
    ),
    (
        "login-env-browser-ignored",
        LOGIN,
        "AICHAT_BROWSER is ignored",
        "named = browser or os.environ.get(_constants.ENV_BROWSER)",
        "named = browser",
    ),
    (
        "login-env-browser-beats-argument",
        LOGIN,
        "AICHAT_BROWSER wins over the browser argument",
        "named = browser or os.environ.get(_constants.ENV_BROWSER)",
        "named = os.environ.get(_constants.ENV_BROWSER) or browser",
    ),
    (
        "login-env-base-url-ignored",
        LOGIN,
        "login ignores AICHAT_BASE_URL",
        "parse_base_url(base_url or os.environ.get(_constants.ENV_BASE_URL) or None)",
        "parse_base_url(base_url or None)",
    ),
    (
        "login-challenge-forgotten",
        LOGIN_BROWSER,
        "a challenge seen earlier in the visit is forgotten once the page moves on",
        "seen.challenged = seen.challenged or blocked",
        "seen.challenged = blocked",
    ),
    (
        "login-headless-agent-says-headless",
        LOGIN_BROWSER,
        "the headless refresh sends 'HeadlessChrome' in its user agent",
        'return agent.replace("HeadlessChrome/", "Chrome/")',
        "return agent",
    ),
    (
        "login-user-agent-not-saved",
        LOGIN,
        "the browser's user agent is not saved with its cookies",
        "        user_agent=seen.user_agent,\n",
        "        user_agent=None,\n",
    ),
    (
        "login-renewals-not-shared",
        LOGIN,
        "concurrent refreshes each start a browser",
        "        future = _renewals.get(endpoints.host)\n",
        "        future = None\n",
    ),
    (
        "login-renew-without-profile",
        LOGIN,
        "a refresh without a login profile starts a browser anyway",
        "    if not await asyncio.to_thread(browser_profile_dir(endpoints.host).is_dir):\n",
        "    if not await asyncio.to_thread(browser_profile_dir(endpoints.host).parent.is_dir):\n",
    ),
    (
        "login-missing-browser-path-accepted",
        LOGIN,
        "a browser path that does not exist is accepted",
        "        if not path.is_file():\n",
        "        if not path.parent.is_dir():\n",
    ),
    (
        "find-not-executable",
        LOGIN_FIND,
        "a browser file without the execute bit is chosen",
        "if candidate.is_file() and os.access(candidate, os.X_OK):",
        "if candidate.is_file():",
    ),
    (
        "find-macos-home-applications-missed",
        LOGIN_FIND,
        "~/Applications is not searched on macOS",
        "        return [Path(place) for place in MACOS_PLACES] + [\n"
        '            home / place.lstrip("/") for place in MACOS_PLACES\n        ]\n',
        "        return [Path(place) for place in MACOS_PLACES]\n",
    ),
    (
        "find-path-ignored",
        LOGIN_FIND,
        "browsers on PATH are not looked for",
        "        found = shutil.which(name, path=search)\n",
        "        found = None\n",
    ),
    (
        "find-windows-empty-variable",
        LOGIN_FIND,
        "an unset Windows folder variable raises KeyError",
        "for base, rest in WINDOWS_PLACES if environ.get(base)]",
        "for base, rest in WINDOWS_PLACES]",
    ),
    # --- integrations ---------------------------------------------------------------------
    (
        "integrations-none-overrides",
        INTEGRATIONS,
        "a None in a later source wipes an option given earlier",
        "            if name in OPTION_NAMES and value is not None:\n",
        "            if name in OPTION_NAMES:\n",
    ),
    (
        "integrations-earlier-source-wins",
        INTEGRATIONS,
        "the model's field beats the call's own argument",
        "    for source in sources:\n",
        "    for source in reversed(sources):\n",
    ),
    (
        "integrations-fields-lost",
        INTEGRATIONS,
        "a framework error loses status_code, retry_after and the other fields",
        "    copy.__dict__.update(error.__dict__)\n",
        "",
    ),
    (
        "litellm-auth-not-auth",
        LITELLM,
        "rejected cookies are not litellm.AuthenticationError",
        "if isinstance(error, (errors.MissingCookiesError, errors.AuthenticationError)):",
        "if isinstance(error, errors.MissingCookiesError):",
    ),
    (
        "litellm-retry-after-lost",
        LITELLM,
        "litellm.RateLimitError loses Retry-After",
        'headers = {"retry-after": f"{wait:g}"} if wait is not None else None',
        "headers = None",
    ),
    (
        "litellm-api-base-ignored",
        LITELLM,
        "LiteLLM's api_base is ignored",
        '"base_url": call.get("api_base"),',
        '"base_url": None,',
    ),
    (
        "litellm-timeout-ignored",
        LITELLM,
        "LiteLLM's timeout is ignored",
        '"timeout": timeout if isinstance(timeout, (int, float)) else None,',
        '"timeout": None,',
    ),
    (
        "litellm-model-not-found-bad-request",
        LITELLM,
        "an unsupported model is BadRequest instead of NotFound",
        "    if isinstance(error, errors.ModelNotSupportedError):\n"
        "        return litellm_errors.NotFoundError(**names)\n",
        "",
    ),
    (
        "litellm-headers-ignored",
        LITELLM,
        "LiteLLM's headers are not sent",
        '"headers": call.get("headers") or None,',
        '"headers": None,',
    ),
    (
        "llm-secret-options-offered",
        LLM,
        "llm -o offers the secret options (llm logs every prompt's options)",
        "option.text_name: option for option in OPTIONS if option.text_name and not option.secret",
        "option.text_name: option for option in OPTIONS if option.text_name",
    ),
    (
        "llm-repeatable-not-split",
        LLM,
        "-o browser chrome,firefox is one name",
        '            value = [part.strip() for part in value.split(",") if part.strip()]\n',
        "            value = [value]\n",
    ),
    (
        "llm-history-parts-joined-wrong",
        LLM,
        "a message's text parts are joined with spaces",
        '"content": "".join(texts)',
        '"content": " ".join(texts)',
    ),
    (
        "llm-error-not-model-error",
        LLM,
        "failures are not llm.ModelError",
        "    return also_a(error, llm.ModelError)\n",
        "    return error\n",
    ),
    (
        "g4f-server-keeps-everything",
        G4F,
        "gpt4free's server passes every request field (cookies_file, base_url) to the provider",
        "kept: Any = {name: given[name] for name in REQUEST_OPTIONS if name in given}",
        "kept: Any = given",
    ),
    (
        "g4f-server-allows-cookies-file",
        G4F,
        "a request to gpt4free's server may choose the cookies file",
        'REQUEST_OPTIONS = frozenset({"temperature", "top_p", "presence_penalty", '
        '"frequency_penalty"})',
        'REQUEST_OPTIONS = frozenset({"temperature", "top_p", "presence_penalty", '
        '"frequency_penalty", "cookies_file"})',
    ),
    (
        "g4f-missing-cookies-not-auth",
        G4F,
        "missing cookies are not gpt4free's MissingAuthError",
        '    (errors.MissingCookiesError, "MissingAuthError"),\n',
        "",
    ),
    (
        "g4f-rate-limit-not-rate-limit",
        G4F,
        "429 is not gpt4free's RateLimitError",
        '    (errors.RateLimitError, "RateLimitError"),\n',
        "",
    ),
    (
        "g4f-workers-word-allowed",
        G4F,
        "--workers with a non-number is taken as one worker",
        "return int(value) if value.isdigit() else 2",
        "return int(value) if value.isdigit() else 1",
    ),
    (
        "g4f-reload-allowed",
        G4F,
        "--reload is allowed (its new processes lack Aichat)",
        "if any(arg in _NEW_PROCESSES for arg in args) or _workers(args) > 1:",
        "if _workers(args) > 1:",
    ),
    (
        "g4f-server-registers-plain",
        G4F,
        "register(server=True) registers the class that takes every option",
        "provider = AichatForServers if server else Aichat",
        "provider = Aichat",
    ),
    (
        "langchain-stop-at-start-ignored",
        INTEGRATIONS,
        "a stop sequence at position 0 is ignored",
        "(index := answer.find(word)) >= 0]",
        "(index := answer.find(word)) > 0]",
    ),
    (
        "langchain-last-stop-wins",
        INTEGRATIONS,
        "the answer is cut at the last stop sequence found, not the first",
        "return answer[: min(ends)] if ends else answer",
        "return answer[: max(ends)] if ends else answer",
    ),
    (
        "langchain-secrets-to-callbacks",
        LANGCHAIN,
        "a call's cookies reach LangChain's callbacks and tracers",
        '"[redacted]" if name in SECRET_OPTIONS and value is not None else value',
        "value",
    ),
    (
        "langchain-secret-field-repr",
        LANGCHAIN,
        "ChatAichat's repr shows its cookies",
        "repr=not option.secret",
        "repr=True",
    ),
    (
        "langchain-field-beats-call",
        LANGCHAIN,
        "the model's field beats the call's argument",
        "return _to_messages(messages), provider_options(self.__dict__, call)",
        "return _to_messages(messages), provider_options(call, self.__dict__)",
    ),
    (
        "langchain-error-not-langchain",
        LANGCHAIN,
        "rejected cookies are not LangChain's authentication error",
        "    (errors.AuthenticationError, langchain_errors.ModelAuthenticationError),\n",
        "",
    ),
    # --- cli/_logs.py, cli/_config.py, cli/config.py (the log and the config file) ----------
    (
        "logs-file-world-readable",
        LOGS,
        "the log (prompts and answers) is created 0644",
        "descriptor = os.open(path, flags, 0o600)",
        "descriptor = os.open(path, flags, 0o644)",
    ),
    (
        "logs-continue-oldest",
        LOGS,
        "-c goes on with the first conversation logged, not the latest",
        "SELECT conversation_id FROM exchanges ORDER BY id DESC LIMIT 1",
        "SELECT conversation_id FROM exchanges ORDER BY id LIMIT 1",
    ),
    (
        "logs-continue-latest-started",
        LOGS,
        "-c goes on with the conversation started last, not the one last added to",
        "SELECT conversation_id FROM exchanges ORDER BY id DESC LIMIT 1",
        "SELECT id FROM conversations ORDER BY started DESC LIMIT 1",
    ),
    (
        "logs-cid-prefix-ambiguous",
        LOGS,
        "--cid with the start of two conversations' ids goes on with one of them",
        '"SELECT id FROM conversations WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2"',
        '"SELECT id FROM conversations WHERE substr(id, 1, length(?1)) = ?1 LIMIT 1"',
    ),
    (
        "common-logged-address-environment-first",
        COMMON,
        "the log names AICHAT_BASE_URL's address when --base-url named another",
        'kwargs.get("base_url")\n        or os.environ.get(_constants.ENV_BASE_URL)\n',
        'os.environ.get(_constants.ENV_BASE_URL)\n        or kwargs.get("base_url")\n',
    ),
    (
        "config-beats-environment",
        CONFIG,
        "a config file's value beats the environment variable",
        "            continue\n"
        "        if setting.env and environ.get(setting.env):\n"
        "            continue\n",
        "            continue\n",
    ),
    (
        "config-beats-flag",
        CONFIG,
        "a config file's value beats the flag given",
        "if not hasattr(args, setting.dest) or getattr(args, setting.dest) is not None:",
        "if not hasattr(args, setting.dest):",
    ),
    (
        "config-source-config-first",
        CONFIG,
        "`config get --source` names the config file when the environment sets the key",
        "    if setting.env and environ.get(setting.env):\n        return Effective(",
        "    if key not in config and setting.env and environ.get(setting.env):\n"
        "        return Effective(",
    ),
    (
        "config-file-world-readable",
        CONFIG,
        "the config file (it may hold a proxy password) is written 0644",
        '    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)\n',
        '    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)\n'
        "    os.chmod(temporary, 0o644)\n",
    ),
    (
        "config-get-key-shows-password",
        CONFIG_COMMAND,
        "`config get proxy` prints the proxy's password",
        "print(shown(redact_url(text) if setting.secret else text))",
        "print(shown(text))",
    ),
    (
        "config-get-all-shows-password",
        CONFIG_COMMAND,
        "`config get` (every key) prints the proxy's password",
        "return redact_url(text) if setting.secret else text",
        "return text",
    ),
)
