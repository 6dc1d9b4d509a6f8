"""JSON Schemas that requests bring (``response_format``, tool parameters): data, never orders.

Two steps keep a hostile schema from reaching beyond the server or stalling it:

- here, on the event loop, a bounded walk of the schema as data: no reference that leaves the
  schema (a remote or file ``$ref`` is a 400 naming it), at most ``SERVER_MAX_SCHEMA_DEPTH``
  levels and ``SERVER_MAX_SCHEMA_NODES`` values for all of a request's schemas together;
- in a worker process (``_schema_worker``, jsonschema-rs), compiling the schema and checking
  answers against it, with ``format`` checked. The server waits for a reply at most
  ``SERVER_SCHEMA_TIMEOUT`` seconds, then kills the worker: a pattern that backtracks, references
  that fan out or an answer that fails everywhere cost a worker, never the server's loop or
  memory. A schema compiled for a request is cached by the worker, so ``n`` choices check it once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from .. import _constants
from . import _schema_worker
from ._errors import APIError, invalid

logger = logging.getLogger("aichat_provider.server")

#: Keywords whose values are instances, not schemas: a ``$ref`` inside them is only data.
DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
#: How long a new worker may take to start (an import on a loaded machine), apart from the
#: deadline of the check itself.
WORKER_START_TIMEOUT = 60.0


class SchemaBudget:
    """How many more schema values a request may bring (all its schemas together)."""

    def __init__(self, nodes: int = _constants.SERVER_MAX_SCHEMA_NODES) -> None:
        self.nodes = nodes


def schema_text(schema: dict[str, Any], where: str, param: str, budget: SchemaBudget) -> str:
    """``schema`` as JSON text once it is known to stay inside itself and within the limits;
    otherwise a 400 naming ``where``. Nothing is fetched or compiled here."""
    for value, depth, is_data in _walk(schema):
        budget.nodes -= 1
        if budget.nodes < 0:
            raise invalid(
                f"{where}: the schemas of this request hold more than "
                f"{_constants.SERVER_MAX_SCHEMA_NODES} values together; send smaller ones.",
                param,
                "schema_too_large",
            )
        if depth > _constants.SERVER_MAX_SCHEMA_DEPTH:
            raise invalid(
                f"{where} is nested more than {_constants.SERVER_MAX_SCHEMA_DEPTH} levels deep.",
                param,
                "schema_too_deep",
            )
        if is_data or not isinstance(value, dict):
            continue
        for keyword in REFERENCE_KEYWORDS:
            target = value.get(keyword)
            if isinstance(target, str) and not target.startswith("#"):
                raise invalid(
                    f"{where} refers to {target[:100]!r} with {keyword}: only references inside "
                    "the schema ('#/$defs/...') are followed here, nothing is fetched. Put the "
                    "schema it names under $defs.",
                    param,
                    "schema_reference_refused",
                )
    # ASCII escapes: a lone surrogate in a request survives the trip to the worker.
    return json.dumps(schema)


def _walk(schema: object) -> Iterator[tuple[object, int, bool]]:
    """Every value in ``schema`` with its depth, and whether it is data (inside ``const`` ...)."""
    stack: list[tuple[object, int, bool]] = [(schema, 1, False)]
    while stack:
        value, depth, is_data = stack.pop()
        yield value, depth, is_data
        if isinstance(value, dict):
            stack.extend(
                (child, depth + 1, is_data or key in DATA_KEYWORDS) for key, child in value.items()
            )
        elif isinstance(value, list):
            stack.extend((child, depth + 1, is_data) for child in value)


@dataclass
class _Worker:
    process: BaseProcess | None = None
    connection: Connection | None = None

    def ready(self) -> Connection:
        if self.process is not None and self.connection is not None and self.process.is_alive():
            return self.connection
        self.stop()
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_schema_worker.main, args=(theirs,), name="aichat-schema", daemon=True
        )
        process.start()
        theirs.close()
        self.process, self.connection = process, ours
        if not ours.poll(WORKER_START_TIMEOUT):
            self.stop()
            raise _NoAnswer("the schema worker did not start")
        ours.recv_bytes()  # "ready": its imports are done
        return ours

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        if self.process is not None:
            self.process.kill()
            self.process.join(5)
        self.process = self.connection = None


class _NoAnswer(Exception):
    """The worker gave no (complete) answer in time, or died: it has been stopped."""


class _Busy(Exception):
    """Every worker stayed busy until the deadline."""


class SchemaRunner:
    """A few worker processes that run schemas, each call bounded by ``timeout`` seconds."""

    def __init__(
        self,
        workers: int = _constants.SERVER_SCHEMA_WORKERS,
        timeout: float = _constants.SERVER_SCHEMA_TIMEOUT,
    ) -> None:
        self.timeout = timeout
        self._free: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all = [_Worker() for _ in range(workers)]
        for worker in self._all:
            self._free.put(worker)
        # Threads only wait on pipes; a few more than workers so waiting for one is bounded too.
        self._threads = ThreadPoolExecutor(workers * 4, thread_name_prefix="aichat-schema")

    async def compile(self, schemas: list[tuple[str, str, str]]) -> None:
        """Compile each ``(where, param, text)``; a 400 names the first that is no schema."""
        if not schemas:
            return
        message = {"op": "compile", "schemas": [text for _, _, text in schemas]}
        replies = await self._ask(message, "compile", lambda reply: False)
        index = replies[0].get("index")
        if isinstance(index, int):
            where, param, _ = schemas[index]
            raise invalid(f"{where} is not a valid JSON Schema: {replies[0]['problem']}", param)

    async def problem(self, text: str, instance: str) -> str | None:
        """Why the JSON text ``instance`` does not match the schema ``text``, or None."""
        message = {"op": "validate", "schema": text, "instance": instance}
        replies = await self._ask(message, "check", lambda reply: reply.get("valid") is False)
        if replies[0].get("valid"):
            return None
        if len(replies) > 1:
            return str(replies[1]["problem"])
        return "it does not match (where, could not be worked out in time)"

    def close(self) -> None:
        """Stop the workers (a new call starts them again)."""
        for worker in self._all:
            worker.stop()

    async def _ask(self, message: dict[str, Any], what: str, more: Any) -> list[dict[str, Any]]:
        data = json.dumps(message).encode()
        loop = asyncio.get_running_loop()
        try:
            replies = await loop.run_in_executor(self._threads, self._exchange, data, more)
        except _Busy:
            raise APIError(
                503,
                "The server is busy checking other JSON Schemas; try again in a moment.",
                "server_error",
                "server_busy",
                retry_after=1,
                should_retry=True,
            ) from None
        except _NoAnswer as exc:
            logger.warning("a JSON Schema %s gave up: %s", what, exc)
            raise APIError(
                400 if what == "compile" else 502,
                f"The JSON Schema could not be {'compiled' if what == 'compile' else 'checked'} "
                f"within {self.timeout:g} s (a pattern that backtracks, references that fan out, "
                "or a very large answer); simplify the schema.",
                "invalid_request_error" if what == "compile" else "upstream_error",
                "schema_check_failed",
            ) from None
        if "error" in replies[-1]:
            logger.warning("a JSON Schema %s failed in the worker: %s", what, replies[-1]["error"])
            raise APIError(
                400 if what == "compile" else 502,
                f"The JSON Schema could not be {'compiled' if what == 'compile' else 'checked'}: "
                "it is too large or too deep for this server; simplify the schema.",
                "invalid_request_error" if what == "compile" else "upstream_error",
                "schema_check_failed",
            )
        return replies

    def _exchange(self, data: bytes, more: Any) -> list[dict[str, Any]]:
        """Send ``data`` to a free worker and read its replies (a second one while ``more``
        says so), all within the deadline; a worker that overruns it is killed."""
        try:
            worker = self._free.get(timeout=self.timeout)
        except queue.Empty:
            raise _Busy from None
        try:
            connection = worker.ready()
            deadline = time.monotonic() + self.timeout
            connection.send_bytes(data)
            replies: list[dict[str, Any]] = []
            while True:
                left = deadline - time.monotonic()
                if not connection.poll(max(left, 0)):
                    worker.stop()
                    if replies and "error" not in replies[-1]:
                        return replies  # the answer is known; only its explanation is late
                    raise _NoAnswer(f"no answer within {self.timeout:g} s")
                replies.append(json.loads(connection.recv_bytes()))
                if "error" in replies[-1] or not more(replies[-1]) or len(replies) == 2:
                    return replies
        except (EOFError, OSError):
            worker.stop()
            raise _NoAnswer("the schema worker stopped") from None
        finally:
            self._free.put(worker)


_runner: SchemaRunner | None = None
_runner_lock = threading.Lock()


def runner() -> SchemaRunner:
    """The process's schema runner, made at first use (workers start at their first call)."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = SchemaRunner()
        return _runner
