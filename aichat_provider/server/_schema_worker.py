"""The process that runs JSON Schemas from requests (started and killed by ``_schema``).

A schema is a program its sender wrote: a regular expression, a reference that fans out, or an
answer that fails in a million places can take any amount of time and memory. They run here, in
a process of their own with a memory limit, so the server only ever waits for a reply it can
give up on. Nothing here reads a file or the network: a reference outside the schema is refused.

Messages are JSON, one per ``Connection.send_bytes``:

- ``{"op": "compile", "schemas": [TEXT, ...]}`` -> ``{"index": i, "problem": TEXT}`` for the
  first schema that is not a valid JSON Schema, else ``{"index": null}``;
- ``{"op": "validate", "schema": TEXT, "instance": JSON_TEXT}`` -> ``{"valid": BOOL}`` at once,
  then, when invalid, ``{"problem": TEXT}`` saying where (which may take long: the server waits
  for it only until its deadline).
"""

from __future__ import annotations

import contextlib
import json
import resource
import signal
from collections import OrderedDict
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema_rs import Validator

#: Address space the worker may use: a schema run that needs more fails here, not in the server.
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
#: Compiled schemas kept (a request's schema is compiled once, then checks each choice).
CACHE_SIZE = 64
#: How much of the validator's own message a problem keeps (it can quote the whole answer).
PROBLEM_CHARS = 300


class SchemaProblem(Exception):
    """A schema that cannot be compiled, with the validator's reason."""


def main(connection: Connection) -> None:
    """Answer the server's messages until it closes the connection (or dies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    _limit_memory()
    import jsonschema_rs

    cache: OrderedDict[str, Validator] = OrderedDict()
    _send(connection, {"ready": True})

    def compiled(text: str) -> Validator:
        validator = cache.get(text)
        if validator is None:
            try:
                validator = jsonschema_rs.validator_for(
                    json.loads(text), validate_formats=True, retriever=_refuse
                )
            except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as exc:
                raise SchemaProblem(_first_line(exc)) from None
            except ValueError as exc:  # "Recursion limit reached", a pattern it cannot build
                raise SchemaProblem(_first_line(exc)) from None
            cache[text] = validator
            if len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(text)
        return validator

    while True:
        try:
            request = json.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            _answer(request, compiled, connection, jsonschema_rs.ValidationError)
        except (SchemaProblem, MemoryError, RecursionError, ValueError) as exc:
            # Too big or too deep for this process: the server answers that it could not check.
            _send(connection, {"error": type(exc).__name__})


def _answer(
    request: dict[str, Any],
    compiled: Callable[[str], Validator],
    connection: Connection,
    error_type: type[Exception],
) -> None:
    if request["op"] == "compile":
        for index, text in enumerate(request["schemas"]):
            try:
                compiled(text)
            except SchemaProblem as problem:
                _send(connection, {"index": index, "problem": str(problem)})
                return
        _send(connection, {"index": None})
        return
    validator = compiled(request["schema"])
    instance = json.loads(request["instance"])
    if validator.is_valid(instance):
        _send(connection, {"valid": True})
        return
    _send(connection, {"valid": False})
    _send(connection, {"problem": _where(validator, instance, error_type)})


def _where(validator: Validator, instance: Any, error_type: type[Exception]) -> str:
    try:
        validator.validate(instance)
    except error_type as exc:
        path = "/".join(str(part) for part in getattr(exc, "instance_path", ()))
        message = getattr(exc, "message", str(exc))
        return f"at {path or 'the top level'}: {message[:PROBLEM_CHARS]}"
    return "it does not match"  # is_valid and validate disagreed: say no more than we know


def _refuse(uri: str) -> Any:
    raise ValueError(f"{uri[:100]} is outside the schema, and nothing is fetched")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:PROBLEM_CHARS] if str(exc).strip() else "invalid"


def _send(connection: Connection, reply: dict[str, Any]) -> None:
    connection.send_bytes(json.dumps(reply).encode())


def _limit_memory() -> None:
    # A lower hard limit may be in force already: then it stays.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
