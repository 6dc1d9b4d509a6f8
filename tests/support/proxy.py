"""A small HTTP CONNECT proxy on 127.0.0.1 for the tests, with optional Basic authentication."""

from __future__ import annotations

import asyncio
import base64
import contextlib

from aichat_provider.testing import LoopServer


class ConnectProxy(LoopServer):
    """Tunnels ``CONNECT host:port`` requests. ``refuse=True`` answers every CONNECT with 403."""

    def __init__(
        self, *, username: str | None = None, password: str | None = None, refuse: bool = False
    ) -> None:
        super().__init__("test-connect-proxy")
        self.username = username
        self.password = password
        self.refuse = refuse
        self.tunnels: list[str] = []
        self.rejected_auth = 0

    def __enter__(self) -> ConnectProxy:
        self.serve(self._handle, "127.0.0.1")
        return self

    @property
    def url(self) -> str:
        credentials = f"{self.username}:{self.password}@" if self.username else ""
        return f"http://{credentials}127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines if line)
            }
            if method != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            if self.refuse:
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            if self.username is not None:
                expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
                if headers.get("proxy-authorization") != f"Basic {expected}":
                    self.rejected_auth += 1
                    writer.write(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="test"\r\n'
                        b"Content-Length: 0\r\n\r\n"
                    )
                    return
            host, _, port = target.rpartition(":")
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            self.tunnels.append(target)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
