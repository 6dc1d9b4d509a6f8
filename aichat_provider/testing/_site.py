"""The stand-in's web pages: a Cloudflare-style challenge and a sign-in form.

Modelled on what a browser meets at the real site, so ``aichat login``, the automatic refresh and
your own code can be tested against them:

- :class:`Challenge`: ``GET /chat`` answers 403 with a "Just a moment..." page whose script waits
  a moment, checks that the browser does not declare itself automated (``navigator.webdriver``),
  sets a ``cf_clearance`` cookie bound to the browser's user agent, with a lifetime, and reloads.
  ``/api/text`` refuses a request without a valid ``cf_clearance`` for *its* user agent with the
  same page (and ``cf-mitigated: challenge``), as Cloudflare does.
- :class:`SignIn`: ``GET /chat`` without the session cookie shows a form; posting the right
  user name and password to ``/login`` sets the session cookie (``HttpOnly``). ``/api/text``
  answers 401 without it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from ._replies import RecordedRequest, Reply

CHALLENGE_COOKIE = "cf_clearance"


@dataclass(frozen=True)
class Challenge:
    """A Cloudflare-style check in front of the site and its API."""

    #: Seconds a ``cf_clearance`` stays valid.
    lifetime: float = 1800.0
    #: Seconds the page's script waits before it sets the cookie.
    delay: float = 1.0
    #: Refuse browsers that declare themselves automated (``navigator.webdriver``, or
    #: "HeadlessChrome" in the user agent), as Cloudflare does.
    refuse_automation: bool = True


@dataclass(frozen=True)
class SignIn:
    """A sign-in form in front of the site and its API."""

    username: str = "user"
    password: str = "password"  # noqa: S105  # a test fixture's credential
    cookie: str = "session"
    lifetime: float = 86400.0


class Site:
    """The pages and the checks of one stand-in (tokens signed with a per-run secret)."""

    def __init__(self, challenge: Challenge | None, sign_in: SignIn | None) -> None:
        self.challenge = challenge
        self.sign_in = sign_in
        self._secret = secrets.token_bytes(32)
        self._epoch = 0
        self._lock = threading.Lock()
        #: Challenge pages served for ``GET /chat`` (a browser's visits) and for the API.
        self.page_challenges = 0
        self.api_challenges = 0
        #: Successful sign-ins, and chat pages served past every check.
        self.sign_ins = 0
        self.chat_pages = 0

    # --- tokens ---------------------------------------------------------------------------

    def _sign(self, purpose: str, subject: str, expiry: int) -> str:
        message = f"{self._epoch}|{purpose}|{subject}|{expiry}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:40]

    def _token(self, purpose: str, subject: str, lifetime: float) -> str:
        expiry = int(time.time() + lifetime)
        return f"{expiry}.{self._sign(purpose, subject, expiry)}"

    def _valid(self, token: str | None, purpose: str, subject: str) -> bool:
        if not token:
            return False
        expiry_text, _, signature = token.partition(".")
        if not expiry_text.isdigit() or int(expiry_text) <= time.time():
            return False
        expected = self._sign(purpose, subject, int(expiry_text))
        return hmac.compare_digest(signature, expected)

    def revoke(self) -> None:
        """Make every token issued so far invalid (as when Cloudflare's clearance expires)."""
        with self._lock:
            self._epoch += 1

    def cleared(self, request: RecordedRequest) -> bool:
        user_agent = request.header("user-agent") or ""
        token = request.cookies.get(CHALLENGE_COOKIE)
        return self._valid(token, CHALLENGE_COOKIE, user_agent)

    def signed_in(self, request: RecordedRequest) -> bool:
        assert self.sign_in is not None
        token = request.cookies.get(self.sign_in.cookie)
        return self._valid(token, "session", self.sign_in.username)

    # --- what the stand-in answers -----------------------------------------------------------

    def page(self, request: RecordedRequest) -> Reply | None:
        """The answer for a page request, or None when the site has no opinion."""
        path = request.path.split("?")[0]
        if request.method == "POST" and path == "/login" and self.sign_in is not None:
            return self._log_in(request)
        if request.method != "GET" or path not in ("/", "/chat"):
            return None
        if self.challenge is not None and not self.cleared(request):
            with self._lock:
                self.page_challenges += 1
            return self._challenge_page(request)
        if self.sign_in is not None and not self.signed_in(request):
            return _html(200, _SIGN_IN_PAGE.format(error=""))
        with self._lock:
            self.chat_pages += 1
        return _html(200, _CHAT_PAGE)

    def guard_api(self, request: RecordedRequest) -> Reply | None:
        """The refusal an API request earns, or None when it may pass."""
        if self.challenge is not None and not self.cleared(request):
            with self._lock:
                self.api_challenges += 1
            return self._challenge_page(request)
        if self.sign_in is not None and not self.signed_in(request):
            return Reply.json({"error": "sign in first"}, status=401)
        return None

    def _challenge_page(self, request: RecordedRequest) -> Reply:
        assert self.challenge is not None
        user_agent = request.header("user-agent") or ""
        expiry, _, signature = self._token(
            CHALLENGE_COOKIE, user_agent, self.challenge.lifetime
        ).partition(".")
        script = _CHALLENGE_SCRIPT % {
            "expiry": json.dumps(expiry),
            "scrambled": json.dumps(signature[::-1]),
            "delay": int(self.challenge.delay * 1000),
            "lifetime": int(self.challenge.lifetime),
            "refuse": "true" if self.challenge.refuse_automation else "false",
        }
        body = _CHALLENGE_PAGE.replace("__SCRIPT__", script)
        reply = _html(403, body)
        return Reply(
            reply.status_code,
            reply.body,
            (*reply.headers, ("cf-mitigated", "challenge"), ("Server", "cloudflare")),
        )

    def _log_in(self, request: RecordedRequest) -> Reply:
        assert self.sign_in is not None
        form = parse_qs(request.body.decode("utf-8", "replace"))
        username = form.get("username", [""])[0]
        password = form.get("password", [""])[0]
        if (username, password) != (self.sign_in.username, self.sign_in.password):
            error = '<p class="error">Wrong user name or password.</p>'
            return _html(200, _SIGN_IN_PAGE.format(error=error))
        with self._lock:
            self.sign_ins += 1
        token = self._token("session", username, self.sign_in.lifetime)
        cookie = (
            f"{self.sign_in.cookie}={token}; Path=/; HttpOnly; SameSite=Lax; "
            f"Max-Age={int(self.sign_in.lifetime)}"
        )
        return Reply(303, b"", (("Location", "/chat"), ("Set-Cookie", cookie)))


def _html(status: int, page: str) -> Reply:
    return Reply.raw(page.encode(), status=status, content_type="text/html; charset=UTF-8")


_CHALLENGE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body>
<div class="main-wrapper"><h1>Checking your browser before accessing the site</h1>
<noscript>Enable JavaScript and cookies to continue</noscript>
<p id="status">Please wait...</p></div>
<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1" async></script>
<script>__SCRIPT__</script></body></html>"""

_CHALLENGE_SCRIPT = """
setTimeout(function () {
  if (%(refuse)s && (navigator.webdriver || /Headless/.test(navigator.userAgent))) {
    document.getElementById("status").textContent = "Blocked: an automated browser.";
    return;
  }
  var token = %(expiry)s + "." + %(scrambled)s.split("").reverse().join("");
  document.cookie = "cf_clearance=" + token + "; path=/; max-age=%(lifetime)d; samesite=lax";
  location.reload();
}, %(delay)d);
"""

_SIGN_IN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Sign in</title></head><body>
<h1>Sign in</h1>{error}<form method="post" action="/login">
<label>User name <input name="username" id="username" autocomplete="username"></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" id="sign-in">Sign in</button></form></body></html>"""

_CHAT_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Chat</title></head><body>
<h1 id="welcome">Welcome</h1><p>You are signed in.</p></body></html>"""
