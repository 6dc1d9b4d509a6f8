"""The cookie store: what ``aichat login`` saved for a host, with the browser's user agent.

One JSON file per host in the user's data directory, mode 0600 in a 0700 folder, written whole
(a temporary file renamed over the old one) so a reader never sees half of it. The folders are
checked to be the user's own (and not symbolic links) before anything is read or written there:
in a shared data directory another user could otherwise plant a login or read the saved one.
A ``cf_clearance`` cookie is only valid with the browser that earned it, so the store keeps that
browser's exact user agent, and calls that use the stored cookies send it. Reading is blocking:
the provider does it in a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _constants
from .._dirs import user_dir
from ..errors import InvalidRequestError
from ._files import read_text_file
from ._jar import Selected, make_cookie, normalise_expiry, select_cookies
from ._values import check_cookie, is_sendable

if TYPE_CHECKING:  # imported when the store is read: see _jar
    from http.cookiejar import Cookie

FORMAT_VERSION = 1
#: A store file is small; a bigger one is not ours.
MAX_STORE_BYTES = 1024 * 1024


def data_dir(environ: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The user's data directory for this package (``AICHAT_DATA_DIR`` overrides it).

    The same folder platformdirs' ``user_data_dir("aichat-provider", appauthor=False)`` names
    (a test keeps the two in step): ``$XDG_DATA_HOME`` or ``~/.local/share`` on Linux,
    ``~/Library/Application Support`` on macOS, ``%LOCALAPPDATA%`` on Windows.
    """
    environ = os.environ if environ is None else environ
    override = environ.get(_constants.ENV_DATA_DIR)
    if override:
        return Path(override).expanduser()
    return user_dir("data", environ, platform)


def store_path(host: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where the login for ``host`` is kept."""
    safe = re.sub(r"[^a-z0-9.\-]", "_", host.lower())
    if not safe.strip("._"):
        raise InvalidRequestError(f"no cookie store for the host {host!r}")
    return data_dir(environ) / "cookies" / f"{safe}.json"


def browser_profile_dir(host: str, environ: Mapping[str, str] | None = None) -> Path:
    """The persistent browser profile ``aichat login`` uses for ``host`` (one per host, so no
    other host's call ever reads it)."""
    return data_dir(environ) / "browser-profiles" / store_path(host, environ).stem


@dataclass(frozen=True, repr=False)
class StoredLogin:
    """A login saved for one host: the cookies (with their attributes) and the user agent."""

    host: str
    base_url: str
    user_agent: str | None
    saved_at: float
    browser: str | None
    cookies: tuple[Cookie, ...]
    path: Path

    def __repr__(self) -> str:  # names only: values are secrets
        names = [cookie.name for cookie in self.cookies]
        return f"StoredLogin(host={self.host!r}, names={names}, saved_at={self.saved_at:.0f})"

    def select(self, url: str) -> Selected:
        """The stored cookies a browser would send to ``url``."""
        return select_cookies(self.cookies, url, where=f"cookie store {str(self.path)!r}")


def save_login(
    *,
    host: str,
    base_url: str,
    cookies: Iterable[Mapping[str, Any]],
    user_agent: str | None,
    browser: str | None,
    environ: Mapping[str, str] | None = None,
) -> StoredLogin:
    """Keep ``cookies`` (CDP-style dicts: name, value, domain, path, secure, expires) of ``host``
    and the user agent that earned them. Only cookies a browser would send to ``host`` are kept:
    its own, and those set for a parent domain."""
    entries = [_entry(cookie) for cookie in cookies]
    # Keep what a browser would send to the host (any path, https): its own cookies and those
    # of a parent domain, unexpired; a cookie the policy turns down is never written.
    kept = select_cookies(
        (_cookie(entry, host) for entry in entries), f"https://{host}/", any_path=True
    ).values
    entries = [entry for entry in entries if kept.get(entry["name"]) == entry["value"]]
    if user_agent is not None and not is_sendable(user_agent):
        raise InvalidRequestError("the browser's user agent cannot be sent in a header")
    path = store_path(host, environ)
    document = {
        "version": FORMAT_VERSION,
        "host": host,
        "base_url": base_url,
        "user_agent": user_agent,
        "browser": browser,
        "saved_at": time.time(),
        "cookies": entries,
    }
    _write_private(path, json.dumps(document, indent=2, ensure_ascii=True))
    loaded = load_login(host, environ)
    assert loaded is not None
    return loaded


def _entry(cookie: Mapping[str, Any]) -> dict[str, Any]:
    name, value = check_cookie(cookie.get("name"), cookie.get("value"), where="cookie store")
    domain = cookie.get("domain")
    path = cookie.get("path") or "/"
    if not isinstance(domain, str) or not domain or not isinstance(path, str):
        raise InvalidRequestError(f"cookie store: cookie {name!r} has no domain or path")
    expires = cookie.get("expires")
    if isinstance(expires, (int, float)) and not isinstance(expires, bool):
        expiry = normalise_expiry(float(expires)) if expires > 0 else None
    else:
        expiry = None
    return {
        "name": name,
        "value": value,
        "domain": domain,
        "hostOnly": not domain.startswith("."),
        "path": path,
        "secure": bool(cookie.get("secure")),
        "httpOnly": bool(cookie.get("httpOnly")),
        "expires": expiry,
    }


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this user only, replacing it whole."""
    private_folder(path.parent)
    import tempfile  # only when saving: not on the import path of every call

    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".saving-", suffix=".json")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def private_folder(
    folder: Path, environ: Mapping[str, str] | None = None, *, create: bool = True
) -> bool:
    """Whether ``folder`` exists (made, 0700, when ``create``), once it is checked to be safe.

    The data directory and each folder from it down to ``folder`` must belong to this user, and
    those below it must not be symbolic links; the data directory is closed to others' writes
    and the folders below it to others altogether. Raises InvalidRequestError otherwise.
    """
    if os.name != "posix":
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder.is_dir()
    root = data_dir(environ)
    if not folder.is_relative_to(root):
        root = folder.parent
    try:
        if create:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif not root.exists():
            return False
        _check_folder(root, os.stat(root), closed=0o022)
        current = root
        for part in folder.relative_to(root).parts:
            current = current / part
            if create:
                with contextlib.suppress(FileExistsError):
                    current.mkdir(mode=0o700)
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                return False
            if stat.S_ISLNK(info.st_mode):
                raise InvalidRequestError(
                    f"{str(current)!r} is a symbolic link; the login data is kept only in real "
                    "folders of your own: remove it, or point "
                    f"{_constants.ENV_DATA_DIR} at a folder of your own"
                )
            _check_folder(current, info, closed=0o077)
    except OSError as exc:
        raise InvalidRequestError(
            f"the data folder {str(folder)!r} cannot be used "
            f"({exc.strerror or type(exc).__name__}); point {_constants.ENV_DATA_DIR} at a folder "
            "of your own"
        ) from None
    return True


def _check_folder(folder: Path, info: os.stat_result, *, closed: int) -> None:
    if not stat.S_ISDIR(info.st_mode):
        raise InvalidRequestError(f"{str(folder)!r} is not a folder; remove it")
    if info.st_uid != os.geteuid():
        raise InvalidRequestError(
            f"{str(folder)!r} belongs to another user, who could read or replace the saved "
            f"login; point {_constants.ENV_DATA_DIR} at a folder of your own"
        )
    if stat.S_IMODE(info.st_mode) & closed:
        os.chmod(folder, stat.S_IMODE(info.st_mode) & ~closed)


def load_login(host: str, environ: Mapping[str, str] | None = None) -> StoredLogin | None:
    """The login saved for ``host``, or None. A damaged file raises InvalidRequestError."""
    path = store_path(host, environ)
    if not private_folder(path.parent, environ, create=False) or not path.exists():
        return None
    where = f"cookie store {str(path)!r}"
    text = read_text_file(path, what="cookie store", limit=MAX_STORE_BYTES)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise _damaged(where, "or from another version")
    user_agent = data.get("user_agent")
    if user_agent is not None and (not isinstance(user_agent, str) or not is_sendable(user_agent)):
        raise InvalidRequestError(f"{where} holds a user agent that cannot be sent")
    entries = data.get("cookies") or []
    if not isinstance(entries, list):
        raise _damaged(where, "(its cookies are not a list)")
    cookies = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _damaged(where, f"(cookie {index} is not an object)")
        check_cookie(entry.get("name"), entry.get("value"), where=where)
        # Every field a hand edit or a broken disk can spoil, checked here: a number past a
        # float's range, NaN, or a list for a domain would otherwise fail untyped further on.
        if any(not isinstance(entry.get(k) or "", str) for k in ("domain", "path")) or (
            entry.get("expires") is not None and _finite(entry.get("expires")) is None
        ):
            raise _damaged(where, f"(cookie {index} has a bad domain, path or expiry)")
        cookies.append(_cookie(entry, host))
    saved_at = data.get("saved_at")
    if saved_at is not None and _finite(saved_at) is None:
        raise _damaged(where, "(its time of saving is not a number)")
    return StoredLogin(
        host=str(data.get("host") or host),
        base_url=str(data.get("base_url") or ""),
        user_agent=user_agent,
        saved_at=_finite(saved_at) or 0.0,
        browser=data.get("browser") if isinstance(data.get("browser"), str) else None,
        cookies=tuple(cookies),
        path=path,
    )


def _damaged(where: str, what: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"{where} is damaged {what}; run 'aichat logout' and 'aichat login' again"
    )


def _finite(value: object) -> float | None:
    """``value`` as a finite float, or None (not a number, NaN, infinite, past a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _cookie(entry: Mapping[str, Any], host: str) -> Cookie:
    expires = entry.get("expires")
    return make_cookie(
        str(entry["name"]),
        str(entry["value"]),
        domain=str(entry.get("domain") or host),
        host_only=bool(entry.get("hostOnly", True)),
        path=str(entry.get("path") or "/"),
        secure=bool(entry.get("secure")),
        expires=float(expires) if isinstance(expires, (int, float)) else None,
    )


def forget_login(host: str, environ: Mapping[str, str] | None = None) -> bool:
    """Delete what was saved for ``host``; False if there was nothing."""
    path = store_path(host, environ)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def stored_hosts(environ: Mapping[str, str] | None = None) -> list[str]:
    """The hosts the store holds a login for."""
    folder = data_dir(environ) / "cookies"
    if not folder.is_dir():
        return []
    return sorted(path.stem for path in folder.glob("*.json"))
