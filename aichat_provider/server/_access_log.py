"""Uvicorn's access log without query values: a key sent as ``?api_key=...`` (which the server
refuses) would otherwise be written to the log in full."""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


def redact_query(path: str) -> str:
    """``/v1/models?api_key=sk-1&x=2`` as ``/v1/models?api_key=[redacted]&x=[redacted]``."""
    base, mark, query = path.partition("?")
    if not mark:
        return path
    names = (part.partition("=")[0] for part in query.split("&") if part)
    return base + "?" + "&".join(f"{name[:40]}=[redacted]" for name in names)


class QueryRedactingFilter(logging.Filter):
    """Rewrites the path in uvicorn's access records (``client, method, path, version, status``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) >= 3
            and isinstance(args[2], str)
            and "?" in args[2]
        ):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, QueryRedactingFilter) for existing in logger.filters):
        logger.addFilter(QueryRedactingFilter())
