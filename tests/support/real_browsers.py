"""Real headless Chromium and Firefox ESR, driven the way a person's browser would be used.

Each writes a real profile in a test home directory: Chromium with ``--user-data-dir`` where a
desktop Chromium keeps it (``~/.config/chromium``) and the basic password store (``v10`` cookies,
as on servers and minimal desktops); Firefox creates its own profile on first start, where a
fresh Firefox does (``~/.config/mozilla/firefox``). Both are closed the clean way, so their cookie
stores are flushed: Chromium over the DevTools protocol (``Browser.close``), Firefox over WebDriver
BiDi (``browser.close``). A SIGTERM would lose the cookies of the last ~30 s.

Also here: :class:`CookieSite`, a page on 127.0.0.1 that sets cookies by ``Set-Cookie`` and by
JavaScript, with whatever attributes a test asks for.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

from aichat_provider.testing import LoopServer

from .browsers import chromium, firefox

#: Flags that keep Chromium off the network and quiet on a closed machine.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--password-store=basic",
)
START_TIMEOUT = 60.0


def browser_environment(home: Path, **extra: str) -> dict[str, str]:
    """A browser's environment: the test home, no D-Bus session, no proxy."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DBUS_SESSION_BUS_ADDRESS"
        and not key.startswith("XDG_")  # browsers find ~/.config from HOME, as on a desktop
        and "proxy" not in key.lower()
    }
    env.update({"HOME": str(home), **extra})
    return env


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.1)


class _Browser:
    process: subprocess.Popen[bytes]
    socket: ClientConnection
    _next_id = 0

    def _call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        self.socket.send(
            json.dumps({"id": self._next_id, "method": method, "params": params or {}})
        )
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == self._next_id:
                if "error" in message and message.get("type") != "success":
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def wait_for_cookies(self, *names: str, timeout: float = 30) -> list[dict[str, Any]]:
        """The browser's cookies once all of ``names`` are among them (in memory)."""

        def present() -> list[dict[str, Any]] | None:
            cookies = self.cookies()
            return cookies if set(names) <= {c["name"] for c in cookies} else None

        found: list[dict[str, Any]] = wait_until(present, timeout, f"cookies {names}")
        return found

    def cookies(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _stop(self, close: Callable[[], None]) -> None:
        try:
            close()
        finally:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.socket.close()

    def __enter__(self) -> _Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.close()

    def close(self) -> None:
        raise NotImplementedError


class RealChromium(_Browser):
    """Headless Chromium with its profile where a desktop Chromium keeps it."""

    def __init__(self, home: Path, url: str, *, env: dict[str, str] | None = None) -> None:
        self.user_data_dir = home / ".config" / "chromium"
        self.user_data_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.user_data_dir / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.user_data_dir}",
                "--remote-debugging-port=0",
                url,
            ],
            env=env or browser_environment(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        text = wait_until(
            lambda: port_file.exists() and port_file.read_text().strip(),
            START_TIMEOUT,
            "Chromium's DevTools port",
        )
        port = text.splitlines()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=10) as reply:
            self.version = json.load(reply)
        self.socket = connect(self.version["webSocketDebuggerUrl"], max_size=None).__enter__()

    @property
    def user_agent(self) -> str:
        return str(self.version["User-Agent"])

    def cookies(self) -> list[dict[str, Any]]:
        cookies: list[dict[str, Any]] = self._call("Storage.getCookies")["cookies"]
        return cookies

    def close(self) -> None:
        """``Browser.close``: Chromium writes its cookie store before it exits."""
        self._stop(lambda: self._call("Browser.close"))


class RealFirefox(_Browser):
    """Headless Firefox ESR, started the way a person starts it: it makes its own profile."""

    def __init__(
        self, home: Path, url: str, *, args: Sequence[str] = (), env: dict[str, str] | None = None
    ) -> None:
        self.process = subprocess.Popen(
            [firefox(), "--headless", "--remote-debugging-port", "0", *args, url],
            env=env or browser_environment(home, MOZ_CRASHREPORTER_DISABLE="1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert self.process.stderr is not None
        address = self._read_bidi_address(self.process.stderr)
        self.socket = connect(f"{address}/session", max_size=None).__enter__()
        capabilities = self._call("session.new", {"capabilities": {}})["capabilities"]
        self.profile = Path(capabilities["moz:profile"])
        self.user_agent = str(capabilities["userAgent"])

    @staticmethod
    def _read_bidi_address(stderr: Any) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = stderr.readline().decode(errors="replace")
            if not line:
                break
            match = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
            if match:
                return match.group(1)
        raise TimeoutError("Firefox did not open its WebDriver BiDi port")

    def cookies(self) -> list[dict[str, Any]]:
        cookies: list[dict[str, Any]] = self._call("storage.getCookies")["cookies"]
        return [{**c, "value": c["value"]["value"]} for c in cookies]

    def close(self) -> None:
        """``browser.close``: Firefox writes its cookie database and exits."""
        self._stop(lambda: self._call("browser.close"))


class CookieSite(LoopServer):
    """A page on 127.0.0.1 that sets the cookies a test asks for.

    ``headers`` are ``Set-Cookie`` values; ``scripts`` are ``document.cookie`` assignments made
    by the page's JavaScript; ``churn`` makes the script set and reset a throw-away cookie that
    many times, which makes Chromium write its cookie store at once instead of within ~30 s.
    """

    def __init__(
        self, headers: Sequence[str] = (), scripts: Sequence[str] = (), churn: int = 0
    ) -> None:
        super().__init__("test-cookie-site")
        self.headers = list(headers)
        self.scripts = list(scripts)
        self.churn = churn
        self.visits = 0

    def __enter__(self) -> CookieSite:
        self.serve(self._handle, "127.0.0.1")
        return self

    def url(self, host: str = "127.0.0.1", path: str = "/chat") -> str:
        return f"http://{host}:{self.port}{path}"

    def _page(self) -> bytes:
        lines = [f"document.cookie = {json.dumps(script)};" for script in self.scripts]
        if self.churn:
            lines.append(
                f"for (let i = 0; i < {self.churn}; i++) "
                "{ document.cookie = 'churn=' + i + '; path=/churn'; }"
            )
        lines.append("document.title = 'cookies set';")
        script = "\n".join(lines)
        page = f"<!DOCTYPE html><html><body><p>cookies</p><script>{script}</script></body></html>"
        return page.encode()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
            self.visits += 1
            body = self._page() if not path.startswith(b"/favicon") else b""
            status = b"200 OK" if body else b"404 Not Found"
            lines = [b"HTTP/1.1 " + status, b"Content-Type: text/html; charset=utf-8"]
            lines += [f"Set-Cookie: {header}".encode() for header in self.headers if body]
            lines += [f"Content-Length: {len(body)}".encode(), b"Cache-Control: no-store"]
            writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            await writer.drain()
