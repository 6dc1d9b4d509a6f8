"""A local stand-in for the chat-gpt.org API, for testing code that uses the provider offline.

It is a real HTTP/1.1 server on 127.0.0.1 (HTTPS with a throw-away CA when ``tls=True``, which
needs the ``trustme`` package from the ``test`` extra), running in a background thread so it serves
sync and async tests alike. It records every request and answers either like the service or with a
scripted :class:`Reply`: an error status, a Cloudflare challenge, a broken body, a reset, a hang::

    from aichat_provider import Aichat
    from aichat_provider.testing import Reply, StandInService

    with StandInService() as service:
        service.push(Reply.status(429, retry_after=1))       # the next request is rate limited
        answer = await Aichat.create_async("", [{"role": "user", "content": "Hi"}],
                                           base_url=service.base_url, cookies={"session": "x"})
        assert answer == "echo: Hi"                          # the retry got the default answer
        assert len(service.requests) == 2

With pytest, the fixtures ``aichat_service`` and ``aichat_service_tls`` (installed with the package)
give a started service; pass ``verify=service.ca_path`` for the TLS one.
"""

from __future__ import annotations

from ._loop import LoopServer
from ._replies import RecordedRequest, Reply, echo_answer
from ._site import Challenge, SignIn
from ._standin import StandInService

__all__ = [
    "Challenge",
    "LoopServer",
    "RecordedRequest",
    "Reply",
    "SignIn",
    "StandInService",
    "echo_answer",
]
