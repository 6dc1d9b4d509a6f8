"""Aichat as the ``provider=`` of the real gpt4free 8.x package (the ``g4f`` extra).

Skipped without it on a developer's machine; ``.ci/run`` installs it and requires these tests.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aichat_provider import Aichat, AsyncProvider, errors
from aichat_provider.testing import Reply, StandInService
from support.docs import page_text, section
from support.profiles import Cookie, build_chrome_profile
from support.secrets import COOKIES, USER, subprocess_env

g4f: Any = None
Client: Any = None
AsyncClient: Any = None
IterListProvider: Any = None


@pytest.fixture(autouse=True)
def gpt4free(g4f: Any, offline: dict[str, str]) -> None:
    """gpt4free 8.x, offline; its classes under short names for the tests below."""
    global Client, AsyncClient, IterListProvider
    globals()["g4f"] = g4f
    Client, AsyncClient = g4f.client.Client, g4f.client.AsyncClient
    IterListProvider = g4f.Provider.IterListProvider


class Backup(AsyncProvider):
    """A second provider for the fallback tests."""

    working: ClassVar[bool] = True
    models: ClassVar[list[str]] = ["gpt-3.5-turbo"]
    default_model: ClassVar[str] = "gpt-3.5-turbo"

    @classmethod
    async def create_async(
        cls, model: str, messages: Any, proxy: str | None = None, **kwargs: Any
    ) -> str:
        return "answer from the backup"


def service_kwargs(service: StandInService) -> dict[str, Any]:
    return {"cookies": COOKIES, "base_url": service.base_url}


def test_chat_completion_create(service: StandInService) -> None:
    answer = g4f.ChatCompletion.create(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, **service_kwargs(service)
    )
    assert answer == "echo: Hi"
    assert service.requests[0].cookies == COOKIES


async def test_chat_completion_create_async(service: StandInService) -> None:
    answer = await g4f.ChatCompletion.create_async(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, **service_kwargs(service)
    )
    assert answer == "echo: Hi"


def test_client_returns_a_chat_completion(service: StandInService) -> None:
    completion = Client().chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, **service_kwargs(service)
    )
    assert completion.choices[0].message.content == "echo: Hi"
    assert completion.choices[0].finish_reason == "stop"


def test_client_stream_gives_the_answer_as_one_chunk(service: StandInService) -> None:
    chunks = Client().chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,
        provider=Aichat,
        stream=True,
        **service_kwargs(service),
    )
    contents = [c.choices[0].delta.content for c in chunks]
    assert [c for c in contents if c] == ["echo: Hi"]


async def test_async_client(service: StandInService) -> None:
    client = AsyncClient()
    completion = await client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, **service_kwargs(service)
    )
    assert completion.choices[0].message.content == "echo: Hi"
    stream = client.chat.completions.stream(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, **service_kwargs(service)
    )
    contents = [chunk.choices[0].delta.content async for chunk in stream]
    assert [c for c in contents if c] == ["echo: Hi"]


def test_client_forwards_sampling_timeout_and_proxy_kwargs(service: StandInService) -> None:
    Client().chat.completions.create(
        model="gpt-3.5-turbo",
        messages=USER,
        provider=Aichat,
        temperature=0.2,
        top_p=0.3,
        presence_penalty=1.0,
        frequency_penalty=-1.0,
        timeout=30,
        max_retries=0,
        **service_kwargs(service),
    )
    sent = service.requests[0].json
    assert (sent["temperature"], sent["top_p"]) == (0.2, 0.3)
    assert (sent["presence_penalty"], sent["frequency_penalty"]) == (1.0, -1.0)


def test_base_url_from_the_environment_reaches_the_provider(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHAT_BASE_URL", service.base_url)
    completion = Client().chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider=Aichat, cookies=COOKIES
    )
    assert completion.choices[0].message.content == "echo: Hi"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply.status(403), errors.AuthenticationError),
        (Reply.cloudflare(), errors.CloudflareError),
        (Reply.status(429, retry_after=600), errors.RateLimitError),
    ],
    ids=["auth", "cloudflare", "rate-limit"],
)
async def test_typed_errors_reach_the_caller_through_each_path(
    reply: Reply, error: type[errors.ProviderError], service: StandInService
) -> None:
    service.set_default(reply)
    kwargs = {
        "model": "gpt-3.5-turbo",
        "messages": USER,
        "provider": Aichat,
        **service_kwargs(service),
    }
    with pytest.raises(error):
        await asyncio.to_thread(lambda: g4f.ChatCompletion.create(**kwargs))
    with pytest.raises(error):
        await asyncio.to_thread(lambda: Client().chat.completions.create(**kwargs))
    with pytest.raises(error):
        await AsyncClient().chat.completions.create(**kwargs)


def test_missing_cookies_error_reaches_the_client(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with pytest.raises(errors.MissingCookiesError):
        Client().chat.completions.create(
            model="gpt-3.5-turbo", messages=USER, provider=Aichat, base_url=service.base_url
        )


def test_retry_provider_falls_over_to_the_next_provider(service: StandInService) -> None:
    service.set_default(Reply.status(403))
    fallback = IterListProvider([Aichat, Backup], shuffle=False)
    completion = Client().chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider=fallback, **service_kwargs(service)
    )
    assert completion.choices[0].message.content == "answer from the backup"
    assert len(service.requests) == 1


def test_retry_provider_uses_aichat_first_when_it_works(service: StandInService) -> None:
    fallback = IterListProvider([Aichat, Backup], shuffle=False)
    completion = Client().chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider=fallback, **service_kwargs(service)
    )
    assert completion.choices[0].message.content == "echo: Hi"


def test_provider_surface_gpt4free_reads() -> None:
    from g4f.providers.types import BaseProvider as G4fBaseProvider

    for name in (
        "url",
        "working",
        "needs_auth",
        "supports_stream",
        "supports_message_history",
        "supports_system_message",
        "live",
        "active_by_default",
        "params",
    ):
        assert hasattr(G4fBaseProvider, name) or name == "params"
        assert hasattr(Aichat, name), name
    assert Aichat.get_parent() == "Aichat"
    assert Aichat.parent == "Aichat"
    assert Aichat.get_dict() == {
        "name": "Aichat",
        "url": "https://chat-gpt.org/chat",
        "label": "Aichat (chat-gpt.org)",
    }
    assert Aichat.get_models() == ["gpt-3.5-turbo"]
    assert Aichat.get_model("") == "gpt-3.5-turbo"
    assert Aichat.use_stream_timeout is False
    assert isinstance(Aichat.live, int)
    assert set(Aichat.get_parameters()) >= {"model", "messages", "proxy", "cookies", "timeout"}
    example = Aichat.get_parameters(as_json=True)
    assert example["temperature"] == 0.5
    assert example["provider"] == "Aichat"


def test_the_integrations_page_gpt4free_section_runs(
    service: StandInService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The integrations page's gpt4free code, executed as written against the stand-in."""
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(f"127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\t{COOKIES['session']}\n")
    monkeypatch.setenv("AICHAT_BASE_URL", service.base_url)
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(cookies))
    gpt4free = section(page_text("integrations"), "## gpt4free")
    blocks = re.findall(r"```python\n(.*?)```", gpt4free, re.S)
    assert len(blocks) == 2, "the integrations page has lost a gpt4free example"
    namespace: dict[str, Any] = {}
    try:
        for block in blocks:
            exec(compile(block, "docs/integrations.md", "exec"), namespace)  # noqa: S102
    finally:
        from aichat_provider.integrations import g4f as integration

        integration.unregister()  # the page registers Aichat by name
    assert namespace["answer"] == "echo: Hello"
    assert all(r.cookies == {"session": COOKIES["session"]} for r in service.requests)


def test_a_keyring_reason_survives_gpt4frees_keyring_patch(home: Path) -> None:
    """gpt4free's import replaces browser_cookie3's keyring lookup with a fixed password when
    there is no D-Bus session. A keyring-encrypted Chrome profile is still said to need the
    keyring, with no D-Bus session to reach it: the reason was 'cannot be decrypted', and which
    one a test saw depended on whether gpt4free had been imported in its process before."""
    build_chrome_profile(home, [Cookie("localhost", "session", "locked")], keyring_password=b"pw")
    env = {k: v for k, v in subprocess_env(home).items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    code = textwrap.dedent(
        """
        import asyncio, browser_cookie3, g4f
        from aichat_provider import Aichat, errors
        patched = browser_cookie3._LinuxPasswordManager.get_password
        assert patched.__module__ == "g4f.cookies", patched  # the case this test is about
        ask = Aichat.create_async("", [{"role": "user", "content": "Hi"}], browser="chrome",
                                  base_url="http://localhost:9/")
        try:
            asyncio.run(ask)
        except errors.MissingCookiesError as exc:
            print(exc.reasons["chrome"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "encrypted with the desktop keyring" in done.stdout
    assert "no D-Bus session" in done.stdout
