"""The chat page's files: read once from the package's ``static`` folder, gzipped once when
that makes them smaller, served with headers that keep the page to itself."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from importlib import resources

from starlette.responses import Response

PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}
#: What the page's folder may serve, by suffix; anything else there (licences, notes) is not.
PAGE_TYPES = {
    "html": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "svg": "image/svg+xml",
    "ico": "image/x-icon",
    "png": "image/png",
}
#: Files of the page's folder served at the root, where browsers look for them.
ROOT_FILES = {"index.html": "/", "favicon.ico": "/favicon.ico"}


@dataclass(frozen=True)
class PageFile:
    """A file of the chat page, read once, and gzipped once when that makes it smaller (the
    page's vendored libraries are ~260 KB as they are, ~100 KB gzipped)."""

    body: bytes
    gzipped: bytes | None
    kind: str

    def response(self, accept_encoding: str) -> Response:
        """The file, gzipped when the client accepts it."""
        if self.gzipped is None:
            return Response(self.body, media_type=self.kind, headers=PAGE_HEADERS)
        headers = {**PAGE_HEADERS, "vary": "accept-encoding"}
        if _accepts_gzip(accept_encoding):
            headers["content-encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.kind, headers=headers)
        return Response(self.body, media_type=self.kind, headers=headers)


def _page_file(body: bytes, kind: str) -> PageFile:
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return PageFile(body, packed if len(packed) < len(body) else None, kind)


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip`` or ``*``, with a quality above 0)."""
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        if coding.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=")
            return not params.strip() or quality.strip("0.") != ""
    return False


def static_files() -> dict[str, PageFile]:
    """The chat page's folder and its subfolders, read once: any page file put there is served
    at ``/static/PATH`` (``index.html`` at ``/`` and ``favicon.ico`` at ``/favicon.ico``
    instead); files of other kinds (licences, notes) are not."""
    folder = resources.files(__package__) / "static"
    files: dict[str, PageFile] = {}
    pending = [(folder, "")]
    while pending:
        current, prefix = pending.pop()
        for entry in current.iterdir():
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                pending.append((entry, f"{prefix}{entry.name}/"))
                continue
            kind = PAGE_TYPES.get(entry.name.rpartition(".")[2])
            if kind is None:
                continue
            page_file = _page_file(entry.read_bytes(), kind)
            if prefix == "" and entry.name in ROOT_FILES:
                files[ROOT_FILES[entry.name]] = page_file
            else:
                files[f"/static/{prefix}{entry.name}"] = page_file
    return files
