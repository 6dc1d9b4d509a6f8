"""Where the service's cookies come from: the call's argument, a cookies file, the store
``aichat login`` fills, the browsers on this machine.

Public here is only :func:`get_cookies` (also exported by ``aichat_provider``); the rest is
private and imported from the modules below, one job each: ``_values`` (names, values, the
header form), ``_argument`` (the ``cookies`` argument), ``_jar`` (which cookies a browser would
send, by ``http.cookiejar``'s policy), ``_files`` (cookies files), ``_store`` (what
``aichat login`` saved), ``_profiles`` and ``_browsers`` (browser profiles, browser_cookie3),
``_cache`` (keeping blocking reads off the event loop) and ``_sources`` (the sources in order,
for the provider and ``aichat doctor``).
"""

from __future__ import annotations

from ._browsers import get_cookies

__all__ = ["get_cookies"]
