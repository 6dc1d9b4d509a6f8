"""An OpenAI-compatible HTTP API in front of the registry's providers (``aichat serve``).

``POST /v1/chat/completions``, ``POST /v1/completions``, ``GET /v1/models[/{id}]``, ``GET
/health``, ``GET /metrics``, ``GET /openapi.json`` and a chat page at ``/``, in OpenAI's request,
response, streaming and error formats, so any OpenAI client can use Aichat. Cookies come from the
server's own configuration (cookies file, store, browsers), never from the request. A Starlette
application; needs the ``server`` extra (Uvicorn, Starlette, pydantic; prometheus-client and
jsonschema-rs)::

    aichat serve --port 8000
    uvicorn --factory aichat_provider.server:create_app     # configured from AICHAT_* variables

Safe by default: only loopback ``Host`` names, no foreign ``Origin`` and only JSON bodies (see
``_guard``), so a web page cannot spend the user's account. ``usage`` token counts are estimates
(characters / 4, rounded up): the service reports none.
"""

from __future__ import annotations

from ._app import AichatServer, create_app
from ._settings import ServerConfig, ServerConfigError

__all__ = ["AichatServer", "ServerConfig", "ServerConfigError", "create_app"]
