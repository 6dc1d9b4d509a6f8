"""gpt4free 8.x after ``aichat_provider.integrations.g4f.register()``: ``provider="Aichat"`` by
name everywhere, gpt4free's own error classes (chained to ours), and a real ``g4f api`` process
answering the openai SDK, with Aichat in its provider lists."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from aichat_provider import AsyncProvider, errors
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER, assert_no_secrets, exposed_text

integration: Any = None


class Backup(AsyncProvider):
    working: ClassVar[bool] = True
    models: ClassVar[list[str]] = ["gpt-3.5-turbo"]
    default_model: ClassVar[str] = "gpt-3.5-turbo"

    @classmethod
    async def create_async(
        cls, model: str, messages: Any, proxy: str | None = None, **kwargs: Any
    ) -> str:
        return "answer from the backup"


@pytest.fixture(autouse=True)
def registered(g4f: Any, offline: dict[str, str]) -> Iterator[Any]:
    """Aichat registered with gpt4free for one test, and gone again after it."""
    global integration
    from aichat_provider.integrations import g4f as module

    integration = module
    module.register()
    g4f.Provider.ProviderCircuitBreaker.reset()
    yield g4f
    module.unregister()
    g4f.Provider.ProviderCircuitBreaker.reset()


def on(service: StandInService, **extra: Any) -> dict[str, Any]:
    return {"cookies": COOKIES, "base_url": service.base_url, **extra}


def test_the_name_is_found_only_after_register(registered: Any, service: StandInService) -> None:
    g4f = registered
    integration.unregister()
    with pytest.raises(g4f.errors.ProviderNotFoundError):
        g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider="Aichat", **on(service))
    assert integration.register() is integration.Aichat
    integration.register()  # a second call changes nothing
    assert g4f.Provider.ProviderLoader.names.count("Aichat") == 1
    answer = g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider="Aichat", **on(service))
    assert answer == "echo: Hi"
    assert g4f.Provider.Aichat is integration.Aichat
    assert g4f.Provider.ProviderUtils.convert["aichat"] is integration.Aichat
    assert integration.Aichat in g4f.Provider.__providers__


def test_chat_completion_by_name_sync_and_async(registered: Any, service: StandInService) -> None:
    g4f = registered
    assert g4f.ChatCompletion.create("", USER, provider="Aichat", **on(service)) == "echo: Hi"
    answer = asyncio.run(
        g4f.ChatCompletion.create_async("gpt-3.5-turbo", USER, provider="Aichat", **on(service))
    )
    assert answer == "echo: Hi"
    assert [r.cookies for r in service.requests] == [COOKIES, COOKIES]


async def test_sync_chat_completion_by_name_inside_a_running_loop(
    registered: Any, service: StandInService
) -> None:
    g4f = registered
    answer = g4f.ChatCompletion.create("gpt-3.5-turbo", USER, provider="Aichat", **on(service))
    assert answer == "echo: Hi"


def test_client_by_name_with_sampling_arguments(registered: Any, service: StandInService) -> None:
    client = registered.client.Client()
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider="Aichat", temperature=0.2, **on(service)
    )
    assert completion.choices[0].message.content == "echo: Hi"
    assert service.requests[0].json["temperature"] == 0.2
    chunks = client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider="aichat", stream=True, **on(service)
    )
    assert [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content] == [
        "echo: Hi"
    ]


async def test_async_client_by_name(registered: Any, service: StandInService) -> None:
    client = registered.client.AsyncClient()
    completion = await client.chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider="Aichat", **on(service)
    )
    assert completion.choices[0].message.content == "echo: Hi"
    stream = client.chat.completions.stream(
        model="gpt-3.5-turbo", messages=USER, provider="Aichat", **on(service)
    )
    contents = [chunk.choices[0].delta.content async for chunk in stream]
    assert [c for c in contents if c] == ["echo: Hi"]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("reply", "extra", "theirs", "ours"),
    [
        (Reply.status(429, retry_after=600), {}, "RateLimitError", errors.RateLimitError),
        (Reply.status(403), {}, "MissingAuthError", errors.AuthenticationError),
        (Reply.cloudflare(), {}, "CloudflareError", errors.CloudflareError),
        (Reply.status(500), {"max_retries": 0}, "ResponseStatusError", errors.ResponseStatusError),
        (Reply.html(), {}, "ResponseError", errors.ResponseError),
        (Reply.hang(), {"timeout": 0.5}, "TimeoutError", errors.ProviderTimeoutError),
        (None, {"model": "gpt-4"}, "ModelNotFoundError", errors.ModelNotSupportedError),
        (None, {"temperature": 7}, "BadRequestError", errors.InvalidRequestError),
        (None, {"cookies": None}, "MissingAuthError", errors.MissingCookiesError),
        (
            None,
            {"base_url": "closed", "max_retries": 0},
            "ProviderNotWorkingError",
            errors.ProviderConnectionError,
        ),
    ],
    ids=[
        "rate-limit",
        "rejected",
        "cloudflare",
        "5xx",
        "not-json",
        "timeout",
        "model",
        "bad-argument",
        "no-cookies",
        "refused",
    ],
)
def test_gpt4free_error_classes_chained_to_ours(
    registered: Any,
    service: StandInService,
    reply: Reply | None,
    extra: dict[str, Any],
    theirs: str,
    ours: type[errors.ProviderError],
) -> None:
    """Code written for gpt4free catches gpt4free's class; ours is its ``__cause__``."""
    g4f = registered
    if reply is not None:
        service.set_default(reply)
    kwargs = on(service, browser=[])
    kwargs.update(extra)
    if kwargs["base_url"] == "closed":
        kwargs["base_url"] = closed_port_url()
    model = kwargs.pop("model", "gpt-3.5-turbo")
    try:
        registered.client.Client().chat.completions.create(
            model=model, messages=USER, provider="Aichat", **kwargs
        )
    except g4f.errors.G4FError as caught:  # what gpt4free-style code catches
        error = caught
    else:
        pytest.fail("no error")
    assert type(error) is getattr(g4f.errors, theirs)
    assert isinstance(error.__cause__, ours)
    assert str(error) == str(error.__cause__)
    assert error.__cause__.provider == "Aichat"
    assert_no_secrets(exposed_text(error))
    if ours is errors.RateLimitError:
        assert error.__cause__.retry_after == 600


def test_retry_provider_by_names_falls_over_to_the_next(
    registered: Any, service: StandInService
) -> None:
    service.set_default(Reply.status(403))
    fallback = registered.Provider.IterListProvider(["Aichat", Backup], shuffle=False)
    completion = registered.client.Client().chat.completions.create(
        model="gpt-3.5-turbo", messages=USER, provider=fallback, **on(service)
    )
    assert completion.choices[0].message.content == "answer from the backup"
    assert len(service.requests) == 1


@pytest.mark.parametrize(
    ("reply", "cools_down"),
    [(Reply.status(403), False), (Reply.status(503), True)],
    ids=["rejected-cookies-are-not-an-outage", "5xx-is"],
)
def test_rotated_provider_circuit_breaker_tells_auth_from_outage(
    registered: Any, service: StandInService, reply: Reply, cools_down: bool
) -> None:
    """gpt4free's RotatedProvider benches a provider after 3 failures, except MissingAuthError:
    missing cookies are a configuration problem, not an outage."""
    g4f = registered
    service.set_default(reply)
    breaker = g4f.Provider.ProviderCircuitBreaker
    for _ in range(breaker.MAX_CONSECUTIVE_FAILURES):
        rotated = g4f.Provider.RotatedProvider(["Aichat"], shuffle=False)
        with pytest.raises(g4f.errors.G4FError):
            g4f.client.Client().chat.completions.create(
                model="gpt-3.5-turbo",
                messages=USER,
                provider=rotated,
                **on(service, max_retries=0),
            )
    assert breaker.is_available("Aichat") is not cools_down


def test_the_gui_lists_aichat_as_needing_a_login(registered: Any, offline: dict[str, str]) -> None:
    """The GUI's list comes from a file gpt4free ships, not from its provider table."""
    from g4f.gui.server import api as gui_api  # offline: the cache names a dead local URL

    integration.register()
    listed = [p for p in gui_api.Api.get_providers() if p["name"] == "Aichat"]
    assert len(listed) == 1
    assert listed[0]["auth"] is True
    assert listed[0]["login_url"] == "https://chat-gpt.org/chat"
    assert listed[0]["label"] == "Aichat (chat-gpt.org)"
    integration.register()  # wrapping twice would list it twice
    assert [p["name"] for p in gui_api.Api.get_providers()].count("Aichat") == 1
    integration.unregister()
    assert "Aichat" not in [p["name"] for p in gui_api.Api.get_providers()]


def test_registered_class_says_it_needs_a_login_and_the_plain_one_does_not(
    registered: Any,
) -> None:
    from aichat_provider import Aichat

    assert integration.Aichat.needs_auth is True
    assert Aichat.needs_auth is False
    assert issubclass(integration.Aichat, Aichat)
    assert integration.Aichat.get_dict()["name"] == "Aichat"
    assert integration.Aichat.get_parent() == "Aichat"


@pytest.mark.parametrize(
    "args",
    [
        ["api", "--reload"],
        ["dev"],
        ["api", "--workers", "2"],
        ["api", "--workers=3"],
        ["api", "--workers", "many"],
    ],
)
def test_the_launcher_refuses_options_that_start_other_processes(
    registered: Any, args: list[str]
) -> None:
    with pytest.raises(SystemExit, match="single process"):
        integration.main(args)


# --- a real `g4f api` process ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"g4f api exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"g4f api did not listen on {port} within {timeout} s")


class G4fApi:
    def __init__(self, url: str, service: StandInService, log: Path) -> None:
        self.url = url
        self.service = service
        self.log = log


@pytest.fixture(scope="module")
def g4f_api(
    g4f: Any, offline_variables: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[G4fApi]:
    """``python -m aichat_provider.integrations.g4f api`` (gpt4free's own server, GUI included)
    with Aichat's cookies and address from the environment, as a user would run it."""
    home = tmp_path_factory.mktemp("g4f-api-home")
    cookies = home / "cookies.json"
    cookies.write_text(
        json.dumps([{"name": k, "value": v, "domain": "127.0.0.1"} for k, v in COOKIES.items()])
    )
    log = home / "g4f-api.log"
    port = free_port()
    with StandInService() as service:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AICHAT_")}
        env.update(offline_variables)
        env.update(
            {
                "HOME": str(home),
                "AICHAT_BASE_URL": service.base_url,
                "AICHAT_COOKIES_FILE": str(cookies),
            }
        )
        with log.open("w") as output:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "aichat_provider.integrations.g4f",
                    "api",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--disable-pa-auto-download",
                ],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                wait_for_port(port, process)
                yield G4fApi(f"http://127.0.0.1:{port}", service, log)
            finally:
                process.terminate()
                process.wait(timeout=30)
        assert_no_secrets(log.read_text())


@pytest.fixture
def api(g4f_api: G4fApi) -> Iterator[G4fApi]:
    g4f_api.service.set_default(Reply())
    yield g4f_api
    g4f_api.service.set_default(Reply())


def openai_client(api: G4fApi) -> Any:
    import openai

    return openai.OpenAI(base_url=f"{api.url}/v1", api_key="unused", max_retries=0)


@pytest.mark.slow
def test_g4f_api_answers_the_openai_sdk(api: G4fApi) -> None:
    client = openai_client(api)
    completion = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "Hello"}],
        extra_body={"provider": "Aichat"},
    )
    assert completion.choices[0].message.content == "echo: Hello"
    assert api.service.requests[-1].cookies == COOKIES
    stream = client.chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "Hello"}],
        extra_body={"provider": "Aichat"},
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "echo: Hello"


@pytest.mark.parametrize(
    ("reply", "model", "status", "error_name"),
    [
        (Reply.status(429, retry_after=600), "gpt-3.5-turbo", 429, "RateLimitError"),
        (Reply.status(401), "gpt-3.5-turbo", 401, "AuthenticationError"),
        (Reply(), "gpt-4", 404, "NotFoundError"),
    ],
    ids=["rate-limit", "rejected-cookies", "unknown-model"],
)
@pytest.mark.slow
def test_g4f_api_status_codes_follow_the_error_classes(
    api: G4fApi, reply: Reply, model: str, status: int, error_name: str
) -> None:
    import openai

    api.service.set_default(reply)
    with pytest.raises(openai.APIStatusError) as caught:
        openai_client(api).chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Hello"}],
            extra_body={"provider": "Aichat"},
        )
    assert caught.value.status_code == status
    assert type(caught.value).__name__ == error_name


@pytest.mark.slow
def test_g4f_api_and_its_gui_list_aichat(api: G4fApi) -> None:
    providers = httpx.get(f"{api.url}/v1/providers", timeout=30).json()
    assert {"id": "Aichat", "url": "https://chat-gpt.org/chat"}.items() <= next(
        p for p in providers if p["id"] == "Aichat"
    ).items()
    gui = httpx.get(f"{api.url}/backend-api/v2/providers", timeout=30).json()
    entry = next(p for p in gui if p["name"] == "Aichat")
    assert entry["auth"] is True
    assert entry["login_url"] == "https://chat-gpt.org/chat"


# --- what a remote client of `g4f api` may set -----------------------------------------------

ATTACKER_AGENT = "attacker-agent/1.0"


def hostile(attacker: StandInService, every_option: bool) -> dict[str, Any]:
    """Fields a remote client adds to aim the server's Aichat elsewhere: its cookies to another
    host, a file of the server's read as cookies; with ``every_option``, also TLS off, its own
    headers, a login browser started on the server, no retries."""
    fields: dict[str, Any] = {
        "base_url": attacker.base_url,
        "proxy": attacker.base_url,
        "cookies_file": "/etc/hostname",
    }
    if every_option:
        fields |= {
            "cookies": {"session": "the-attackers-own"},
            "browser": "firefox",
            "verify": False,
            "refresh_cookies": True,
            "user_agent": ATTACKER_AGENT,
            "headers": {"X-Attacker": "1"},
            "impersonate": "safari",
            "timeout": 1,
            "max_retries": 0,
        }
    return fields


def gui_events(text: str) -> list[dict[str, Any]]:
    """The JSON events of the GUI's ``/backend-api/v2/conversation`` stream."""
    return [
        json.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: ")
    ]


@pytest.mark.parametrize("every_option", [False, True], ids=["address-and-file", "every-option"])
@pytest.mark.parametrize("route", ["v1", "v1-extra_body", "gui"])
@pytest.mark.slow
def test_g4f_api_requests_cannot_set_the_connection_options(
    api: G4fApi, route: str, every_option: bool
) -> None:
    """A remote client's fields reach no option but sampling: the server's cookies go to the
    server's address only, /etc/hostname is never read, and the answer is the stand-in's."""
    log_start = len(api.log.read_text())
    with StandInService() as attacker:
        fields = hostile(attacker, every_option)
        if every_option:  # max_retries=0 would make this 500 the answer
            api.service.push(Reply.status(500, retry_after=0))
        before = len(api.service.requests)
        body = {
            "model": "gpt-3.5-turbo",
            "provider": "Aichat",
            "messages": [{"role": "user", "content": "Hello"}],
            "temperature": 0.2,
            **({"extra_body": fields} if route == "v1-extra_body" else fields),
        }
        path = "/backend-api/v2/conversation" if route == "gui" else "/v1/chat/completions"
        reply = httpx.post(f"{api.url}{path}", json=body, timeout=60)
        assert reply.status_code == 200, reply.text
        if route == "gui":
            events = gui_events(reply.text)
            assert [e for e in events if e["type"] == "error"] == []
            assert [e["content"] for e in events if e["type"] == "content"] == ["echo: Hello"]
            offered = next(e["parameters"] for e in events if e["type"] == "parameters")
            assert not {"cookies", "cookies_file", "base_url", "verify"} & offered.keys()
        else:
            assert reply.json()["choices"][0]["message"]["content"] == "echo: Hello"
        assert attacker.connections == 0
    sent = api.service.requests[before:]
    assert len(sent) == (2 if every_option else 1)
    for request in sent:
        assert request.cookies == COOKIES
        assert request.header("user-agent") != ATTACKER_AGENT
        assert request.header("x-attacker") is None
        assert request.json["temperature"] == 0.2
    log = api.log.read_text()[log_start:]
    assert "/etc/hostname" not in log
    assert "verification is off" not in log
    if route == "gui":  # the one route that passes them on: the server's log names them
        assert re.search(r"ignoring [a-z_, ]*cookies_file[a-z_, ]* from a request", log)


#: For each option a request to a server may not set, a value that Aichat refuses (or, for the
#: address and the file, one that would send the cookies elsewhere or read a file of the server's).
REFUSED: dict[str, Any] = {
    "cookies": 42,
    "cookies_file": "/etc/hostname",
    "browser": 42,
    "timeout": "soon",
    "max_retries": -1,
    "impersonate": "not a browser!",
    "user_agent": "two\nlines",
    "headers": {"Cookie": "a=1"},
    "verify": "/nonexistent/ca-bundle.pem",
    "refresh_cookies": "maybe",
}


def test_every_option_but_sampling_is_listed_here() -> None:
    from aichat_provider._options import OPTIONS

    known = frozenset(option.name for option in OPTIONS) - {"proxy"}

    assert known >= integration.REQUEST_OPTIONS
    assert {*REFUSED, "base_url"} == known - integration.REQUEST_OPTIONS


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_values_used_below_are_refused_by_aichat(service: StandInService, name: str) -> None:
    from aichat_provider import Aichat

    with pytest.raises(errors.InvalidRequestError):
        asyncio.run(
            Aichat.create_async("", USER, base_url=service.base_url, **{name: REFUSED[name]})
        )


def test_the_server_class_takes_only_sampling_from_a_call(
    registered: Any, service: StandInService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies.json"
    cookies.write_text(
        json.dumps([{"name": k, "value": v, "domain": "127.0.0.1"} for k, v in COOKIES.items()])
    )
    monkeypatch.setenv("AICHAT_BASE_URL", service.base_url)
    monkeypatch.setenv("AICHAT_COOKIES_FILE", str(cookies))
    assert integration.register(server=True) is integration.AichatForServers
    with StandInService() as attacker:
        answer = registered.ChatCompletion.create(
            "gpt-3.5-turbo",
            USER,
            provider="Aichat",
            temperature=0.2,
            base_url=attacker.base_url,
            **REFUSED,
        )
        assert attacker.connections == 0
    assert answer == "echo: Hi"
    assert service.requests[-1].cookies == COOKIES
    assert service.requests[-1].json["temperature"] == 0.2
    assert integration.AichatForServers.get_dict()["name"] == "Aichat"
    assert set(integration.AichatForServers.parameters) == integration.REQUEST_OPTIONS
    # a program of one's own, not a server: register() gives calls every option again
    assert integration.register() is integration.Aichat
    assert registered.ChatCompletion.create("", USER, provider="Aichat", **on(service)) == (
        "echo: Hi"
    )
