"""``aichat serve`` as the tests run it: the real command in a child process, reached over HTTP."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aichat_provider.testing import StandInService
from support.secrets import SECRET_COOKIE, subprocess_env

API_KEY = "sk-test-key-5f1e2d"


#: Linux's TCP_ESTABLISHED.
ESTABLISHED = 1


def tcp_state(client: socket.socket) -> int:
    """The kernel's state of a client's TCP connection (Linux's ``tcpi_state``): a reset by the
    server shows here without a read, which would be progress for a server watching reads."""
    return client.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    port: int
    process: subprocess.Popen[str]
    log: Path
    api_key: str | None = API_KEY

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def raw(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        timeout: float = 30,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request with the key and a JSON content type unless ``headers`` say otherwise
        (a header given as "" is left out)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            defaults = {"Content-Type": "application/json"}
            if self.api_key:
                defaults["Authorization"] = f"Bearer {self.api_key}"
            merged = {**defaults, **(headers or {})}
            connection.request(
                method, path, body=body, headers={k: v for k, v in merged.items() if v != ""}
            )
            response = connection.getresponse()
            headers_seen = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers_seen, response.read()
        finally:
            connection.close()

    def post_json(
        self, path: str, data: object, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        status, seen, body = self.raw("POST", path, json.dumps(data).encode(), headers)
        return status, seen, json.loads(body)

    def stop(self, *, timeout: float = 30) -> None:
        """SIGTERM, and wait for a clean exit (Uvicorn ends by re-raising the signal it drained
        on, so the process ends "killed by SIGTERM" after its shutdown)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        assert code in (0, -signal.SIGTERM), self.log_text()
        assert "Finished server process" in self.log_text()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def cookies_file(directory: Path, domain: str = "127.0.0.1") -> Path:
    path = directory / "cookies.json"
    path.write_text(json.dumps([{"name": "session", "value": SECRET_COOKIE, "domain": domain}]))
    return path


def serve_stand_in(upstream: StandInService, folder: Path, *args: str, **options: Any) -> Server:
    """``start_server`` in front of ``upstream``, with a cookies file for it, the home and the log
    in ``folder``."""
    home = folder / "home"
    home.mkdir(exist_ok=True)
    return start_server(
        home,
        "--base-url",
        upstream.base_url,
        "--cookies-file",
        str(cookies_file(folder)),
        *args,
        log=folder / "server.log",
        **options,
    )


def start_server(
    home: Path,
    *args: str,
    log: Path,
    api_key: str | None = API_KEY,
    env: dict[str, str] | None = None,
    ready_path: str = "/health",
) -> Server:
    """``python -m aichat_provider serve ARGS`` on a free port, once it answers ``ready_path``."""
    port = free_port()
    key_args = ("--api-key", api_key) if api_key else ()
    process = subprocess.Popen(
        [sys.executable, "-m", "aichat_provider", "serve", "--port", str(port), *key_args, *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        env={**subprocess_env(home), **(env or {})},
    )
    server = Server(port, process, log, api_key)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_text = server.log_text()
            raise AssertionError(f"the server exited with {process.returncode}:\n{log_text}")
        try:
            status, _, _ = server.raw("GET", ready_path, timeout=5)
        except OSError:
            time.sleep(0.05)  # not listening yet
            continue
        if status == 200:
            return server
    process.kill()
    raise AssertionError(f"the server did not start:\n{server.log_text()}")
