"""The server's JSON: orjson first, the standard library for what orjson refuses, so any text a
request or a provider brings can be read and written back."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from aichat_provider.server._http import dumps, loads, wait_for_disconnect


def test_text_orjson_refuses_is_written_escaped() -> None:
    assert dumps({"a": "\ud800"}) == b'{"a":"\\ud800"}'  # a lone surrogate, as it came
    assert json.loads(dumps({"n": 2**70})) == {"n": 2**70}  # over 64 bits
    assert dumps({"a": "é"}) == '{"a":"é"}'.encode()  # UTF-8, not escaped


def test_documents_orjson_refuses_are_read() -> None:
    assert loads(b'{"a": "\\ud800"}') == {"a": "\ud800"}
    assert math.isnan(loads(b'{"x": NaN}')["x"])


async def test_waiting_for_a_disconnect_skips_other_messages() -> None:
    messages = iter([{"type": "http.request", "body": b""}, {"type": "http.disconnect"}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    await asyncio.wait_for(wait_for_disconnect(receive), 5)
