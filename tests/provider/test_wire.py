"""The call as the seed shows it, and what reaches the service for every keyword argument."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aichat_provider import Aichat, AsyncProvider, StreamSession, errors
from aichat_provider.testing import RecordedRequest, Reply, StandInService
from support.secrets import COOKIES, SECRET_COOKIE, USER, cookie_jar

CHROME_UA_PREFIX = "Mozilla/5.0"


async def ask(service: StandInService, messages: object = USER, **kwargs: object) -> str:
    kwargs.setdefault("cookies", COOKIES)
    kwargs.setdefault("base_url", service.base_url)
    if service.ca_path:
        kwargs.setdefault("verify", service.ca_path)
    return await Aichat.create_async("gpt-3.5-turbo", messages, **kwargs)  # type: ignore[arg-type]


def test_class_attributes_match_the_contract() -> None:
    assert issubclass(Aichat, AsyncProvider)
    assert Aichat.url == "https://chat-gpt.org/chat"
    assert Aichat.working is True
    assert Aichat.supports_gpt_35_turbo is True
    assert Aichat.supports_stream is False
    assert Aichat.supports_message_history is True
    assert Aichat.supports_system_message is True
    # gpt4free 0.1.x refuses True without auth= (docs/integrations.md)
    assert Aichat.needs_auth is False
    assert Aichat.default_model == "gpt-3.5-turbo"
    assert Aichat.models == ["gpt-3.5-turbo"]
    assert "cookies" in Aichat.params
    assert "temperature: float = 0.5" in Aichat.params


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_seed_call_returns_the_answer_with_the_documented_wire_format(
    scheme: str, service: StandInService, tls_service: StandInService
) -> None:
    stand_in = tls_service if scheme == "https" else service
    answer = await ask(stand_in)
    assert answer == "echo: Hi"
    [request] = stand_in.requests
    assert request.method == "POST"
    assert request.path == "/api/text"
    assert request.json == {
        "message": "Hi",
        "temperature": 0.5,
        "presence_penalty": 0.0,
        "top_p": 1.0,
        "frequency_penalty": 0.0,
    }
    assert request.cookies == COOKIES
    assert request.header("content-type") == "application/json"
    assert request.header("origin") == stand_in.base_url
    assert request.header("referer") == f"{stand_in.base_url}/chat"
    assert request.header("accept") == "*/*"
    assert request.header("sec-fetch-mode") == "cors"
    assert request.header("sec-fetch-site") == "same-origin"


async def test_default_user_agent_and_client_hints_come_from_the_impersonated_chrome(
    service: StandInService,
) -> None:
    await ask(service)
    request = service.requests[0]
    agent = request.header("user-agent") or ""
    assert agent.startswith(CHROME_UA_PREFIX)
    version = agent.split("Chrome/")[1].split(".")[0]
    assert f'v="{version}"' in (request.header("sec-ch-ua") or "")
    # navigation-only headers of the browser profile are not sent with a fetch
    assert request.header("upgrade-insecure-requests") is None
    assert request.header("sec-fetch-user") is None


async def test_several_messages_become_one_prompt(service: StandInService) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}],
        },
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": "How are you?"},
    ]
    await ask(service, messages)
    assert service.requests[0].prompt == (
        "System: Be brief.\nUser: Hello, world\nAssistant: Hi!\nUser: How are you?\nAssistant:"
    )


async def test_sampling_arguments_are_sent(service: StandInService) -> None:
    await ask(service, temperature=0.7, top_p=0.9, presence_penalty=-1.5, frequency_penalty=2)
    assert service.requests[0].json == {
        "message": "Hi",
        "temperature": 0.7,
        "presence_penalty": -1.5,
        "top_p": 0.9,
        "frequency_penalty": 2.0,
    }


async def test_empty_model_means_the_default(service: StandInService) -> None:
    answer = await Aichat.create_async("", USER, cookies=COOKIES, base_url=service.base_url)
    assert answer == "echo: Hi"


async def test_user_agent_override_replaces_agent_and_drops_client_hints(
    service: StandInService,
) -> None:
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
    await ask(service, user_agent=firefox)
    request = service.requests[0]
    assert request.header("user-agent") == firefox
    assert request.header("sec-ch-ua") is None
    assert request.header("sec-ch-ua-platform") is None


async def test_user_agent_from_environment(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHAT_USER_AGENT", "EnvAgent/1.0")
    await ask(service)
    assert service.requests[0].header("user-agent") == "EnvAgent/1.0"


async def test_impersonate_selects_another_browser_profile(service: StandInService) -> None:
    await ask(service, impersonate="chrome131")
    assert "Chrome/131." in (service.requests[0].header("user-agent") or "")


async def test_extra_headers_are_merged_over_the_defaults(service: StandInService) -> None:
    await ask(service, headers={"X-Trace": "abc", "Accept-Language": "de-DE"})
    request = service.requests[0]
    assert request.header("x-trace") == "abc"
    assert request.header("accept-language") == "de-DE"
    assert request.cookies == COOKIES


async def test_base_url_from_environment(
    service: StandInService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHAT_BASE_URL", service.base_url + "/")
    answer = await Aichat.create_async("gpt-3.5-turbo", USER, cookies=COOKIES)
    assert answer == "echo: Hi"
    assert service.requests[0].header("origin") == service.base_url


async def test_base_url_with_a_path_prefix() -> None:
    with StandInService(api_path="/proxy/api/text") as stand_in:
        await Aichat.create_async("", USER, cookies=COOKIES, base_url=stand_in.base_url + "/proxy")
        request = stand_in.requests[0]
    assert request.path == "/proxy/api/text"
    assert request.header("referer") == f"{stand_in.base_url}/proxy/chat"
    assert request.header("origin") == stand_in.base_url


async def test_cookie_header_string_and_cookiejar_are_accepted(service: StandInService) -> None:
    await ask(service, cookies=f"session={SECRET_COOKIE}; theme=dark")
    assert service.requests[-1].cookies == {"session": SECRET_COOKIE, "theme": "dark"}

    jar = cookie_jar(
        ("session", SECRET_COOKIE, "127.0.0.1"), ("tracker", "elsewhere-only", "ads.example.com")
    )
    await ask(service, cookies=jar)
    assert service.requests[-1].cookies == {"session": SECRET_COOKIE}


async def test_unknown_keyword_arguments_are_ignored(service: StandInService) -> None:
    answer = await ask(
        service, stream=False, web_search=True, api_key="sk-unknown-key", max_tokens=5
    )
    assert answer == "echo: Hi"
    request = service.requests[0]
    # nothing of them reaches the wire: the body is the documented five fields, no header
    # carries them
    assert set(request.json) == {
        "message",
        "temperature",
        "presence_penalty",
        "top_p",
        "frequency_penalty",
    }
    wire = request.body.decode() + "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    for leaked in ("sk-unknown-key", "web_search", "max_tokens", "api_key"):
        assert leaked not in wire


async def test_server_set_cookies_do_not_reach_the_next_call(service: StandInService) -> None:
    service.push(Reply(headers=(("Set-Cookie", "injected=1; Path=/"),)))
    await ask(service)
    await ask(service, cookies={"session": "other-user-cookie"})
    assert service.requests[1].cookies == {"session": "other-user-cookie"}


async def test_gzip_and_brotli_replies_are_decoded(service: StandInService) -> None:
    service.push(Reply.compressed("gzip", "zipped"), Reply.compressed("br", "brotli'd"))
    assert await ask(service) == "zipped"
    assert await ask(service) == "brotli'd"


async def test_unicode_prompt_and_answer_survive(service: StandInService) -> None:
    answer = await ask(service, [{"role": "user", "content": "Привет, мир 👋"}])
    assert answer == "echo: Привет, мир 👋"
    # as a browser's JSON.stringify sends it: UTF-8, not \u escapes
    assert "Привет, мир 👋".encode() in service.requests[-1].body


def test_create_completion_yields_the_answer_once_in_sync_code(service: StandInService) -> None:
    chunks = list(Aichat.create_completion("", USER, cookies=COOKIES, base_url=service.base_url))
    assert chunks == ["echo: Hi"]


async def test_two_hundred_concurrent_calls_each_send_only_their_own_cookies(
    service: StandInService,
) -> None:
    def answer(request: RecordedRequest) -> str:
        return f"{request.prompt}|{request.cookies.get('session')}"

    service.answer = answer
    calls = [
        Aichat.create_async(
            "",
            [{"role": "user", "content": f"prompt-{i}"}],
            cookies={"session": f"cookie-{i}"},
            base_url=service.base_url,
        )
        for i in range(200)
    ]
    answers = await asyncio.gather(*calls)
    assert answers == [f"prompt-{i}|cookie-{i}" for i in range(200)]
    seen = {r.prompt: r.cookies for r in service.requests}
    assert len(seen) == 200
    assert all(seen[f"prompt-{i}"] == {"session": f"cookie-{i}"} for i in range(200))


def test_readme_stand_in_example_runs(tmp_path: Path) -> None:
    """The testing module's docstring example, as written."""

    async def main() -> None:
        with StandInService() as stand_in:
            stand_in.push(Reply.status(429, retry_after=0))
            answer = await Aichat.create_async(
                "", USER, base_url=stand_in.base_url, cookies={"session": "x"}
            )
            assert answer == "echo: Hi"
            assert len(stand_in.requests) == 2

    asyncio.run(main())


def test_the_model_helpers_gpt4free_reads() -> None:
    assert Aichat.get_model("") == "gpt-3.5-turbo"
    assert Aichat.get_model("gpt-3.5-turbo") == "gpt-3.5-turbo"
    assert Aichat.get_models() == ["gpt-3.5-turbo"]
    assert Aichat.get_parent() == "Aichat"
    assert Aichat.get_dict() == {
        "name": "Aichat",
        "url": "https://chat-gpt.org/chat",
        "label": "Aichat (chat-gpt.org)",
    }


def test_an_error_keeps_the_provider_and_url_it_was_raised_with() -> None:
    error = errors.ResponseError("x", provider="Other", url="http://first/api")
    error.add_context(provider="Aichat", url="http://second/api")
    assert (error.provider, error.url) == ("Other", "http://first/api")
    bare = errors.ResponseError("x")
    bare.add_context(provider="Aichat", url=None)
    assert (bare.provider, bare.url) == ("Aichat", None)


async def test_a_stream_session_get_sends_the_headers_it_is_given(service: StandInService) -> None:
    async with StreamSession() as session:
        reply = await session.get(f"{service.base_url}/api/text", headers={"x-probe": "seen"})
    assert reply.status_code == 405  # GET is not how the API is asked; the reply is returned
    assert service.requests[-1].method == "GET"
    assert service.requests[-1].header("x-probe") == "seen"
