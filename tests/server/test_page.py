"""The chat page of ``aichat serve``, driven in real headless Chromium (Debian's, through
Playwright) against the real server and the stand-in service.

``AICHAT_UPDATE_SCREENSHOTS=1 pytest tests/server/test_page.py -k screenshots`` rewrites the
README's screenshots (tests/server/screenshots/).
"""

from __future__ import annotations

import os
import statistics
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider.testing import RecordedRequest, Reply, StandInService
from support.browsers import chromium
from support.server import Server, serve_stand_in

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is in the test extra"
)
Page = playwright_sync.Page
#: The page is driven in a real Chromium.
pytestmark = pytest.mark.slow
expect = playwright_sync.expect

SCREENSHOTS = Path(__file__).parent / "screenshots"
ANSWERED = ".turn.assistant:not(.pending):not(.error) .body"


class TimedAnswers:
    """The stand-in's answer (echo), noting when each was made: the moment the service replied."""

    def __init__(self) -> None:
        self.replied_at: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> str:
        with self._lock:
            self.replied_at.append(time.time())
        return f"echo: {request.prompt}"


@pytest.fixture(scope="module")
def answers() -> TimedAnswers:
    return TimedAnswers()


@pytest.fixture(scope="module")
def upstream(answers: TimedAnswers) -> Iterator[StandInService]:
    with StandInService(answer=answers) as service:
        yield service


@pytest.fixture(scope="module")
def server(upstream: StandInService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """As most people run it: no API key."""
    root = tmp_path_factory.mktemp("page")
    (root / "home").mkdir()
    running = serve_stand_in(
        upstream,
        root,
        "--max-retries",
        "0",
        api_key=None,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium()
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, server: Server) -> Iterator[Page]:
    context = browser.new_context()  # type: ignore[attr-defined]
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    opened.goto(server.origin + "/")
    yield opened
    context.close()
    assert errors == []  # no script error, and nothing ever called alert()


def send(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def test_a_message_gets_the_streamed_answer(page: Page, upstream: StandInService) -> None:
    send(page, "Hello")
    expect(page.locator(ANSWERED).last).to_have_text("echo: Hello")
    expect(page.locator(".turn.user .body").last).to_have_text("Hello")
    [request] = upstream.requests
    assert request.json["temperature"] == 0.5  # the page's default


def test_the_second_turn_carries_the_history(page: Page, upstream: StandInService) -> None:
    page.locator("#system-box summary").click()
    page.get_by_label("System message").fill("Be brief.")
    page.get_by_label("System message").blur()
    page.get_by_label("Temperature").fill("0.2")
    page.get_by_label("Temperature").blur()
    send(page, "First")
    expect(page.locator(ANSWERED)).to_have_count(1)
    send(page, "Second")
    expect(page.locator(ANSWERED)).to_have_count(2)
    assert upstream.requests[-1].prompt == (
        "System: Be brief.\nUser: First\nAssistant: echo: System: Be brief.\nUser: First\n"
        "Assistant:\nUser: Second\nAssistant:"
    )
    assert upstream.requests[-1].json["temperature"] == 0.2
    # the conversation survives a reload; "New chat" forgets it
    page.reload()
    expect(page.locator(".turn")).to_have_count(4)
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".turn")).to_have_count(0)
    page.reload()
    expect(page.locator(".turn")).to_have_count(0)


def test_shift_enter_makes_a_new_line(page: Page, upstream: StandInService) -> None:
    box = page.get_by_label("Message", exact=True)
    box.click()
    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    assert box.input_value() == "line one\nline two"
    assert upstream.requests == []
    page.keyboard.press("Enter")
    expect(page.locator(ANSWERED)).to_have_text("echo: line one\nline two")


def test_stop_aborts_and_the_server_cancels_its_call(page: Page, upstream: StandInService) -> None:
    upstream.set_default(Reply.hang())
    send(page, "Take your time")
    assert upstream.wait_for_requests(1, timeout=10)
    [request] = upstream.requests
    page.get_by_role("button", name="Stop").click()
    expect(page.locator(".turn.assistant.error")).to_contain_text("Stopped before any answer came")
    assert upstream.wait_for_close(request, timeout=5)  # the server gave up its call
    upstream.set_default(None)
    page.get_by_role("button", name="Retry").click()  # the keyboard focus is there too
    expect(page.locator(ANSWERED)).to_have_text("echo: Take your time")


def test_rejected_cookies_show_the_next_step(page: Page, upstream: StandInService) -> None:
    upstream.push(Reply.status(403))
    send(page, "Hi")
    error = page.locator(".turn.assistant.error")
    expect(error).to_contain_text("aichat login")
    error.get_by_role("button", name="Retry").click()
    expect(page.locator(ANSWERED)).to_have_text("echo: Hi")


def test_an_answer_is_text_never_html(page: Page, upstream: StandInService) -> None:
    hostile = (
        '<img src=x onerror="alert(1)"><script>alert(2)</script>\n'
        "```html\n<b onmouseover=alert(3)>code</b>\n```"
    )
    upstream.push(Reply.answer(hostile))
    send(page, "Hi")
    body = page.locator(ANSWERED)
    expect(body).to_contain_text('<img src=x onerror="alert(1)">')
    assert page.locator(".log img, .log script, .log b").count() == 0
    expect(body.locator("pre code")).to_have_text("<b onmouseover=alert(3)>code</b>")
    expect(body.get_by_role("button", name="Copy this code")).to_be_visible()
    # the page's fixture fails the test if any dialog (alert) opened


def test_the_page_is_light_and_same_origin(server: Server) -> None:
    total = 0
    for path in ("/", "/static/app.css", "/static/app.js"):
        status, headers, body = server.raw("GET", path)
        assert status == 200
        assert "default-src 'none'" in headers["content-security-policy"] or path != "/"
        total += len(body)
    assert total < 50 * 1024
    status, _, _ = server.raw("GET", "/", None, {"Host": "evil.example"})
    assert status == 403  # the cross-site rules hold for the page too


def test_phone_width_and_labelled_controls(browser: object, server: Server) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 720})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server.origin + "/")
    expect(page.get_by_label("Model").locator("option")).to_have_count(2)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360  # nothing wider than the screen
    for control in page.locator("input, select, textarea, button").all():
        if control.is_visible():
            name = control.evaluate("n => n.labels?.[0]?.textContent || n.textContent || ''")
            assert name.strip(), control.evaluate("n => n.outerHTML")
    # the keyboard alone: the prompt has focus, Tab reaches the button that sends
    focused = page.evaluate("document.activeElement.id")
    assert focused == "prompt"
    page.keyboard.type("Hi")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send"
    context.close()


def test_first_answer_on_screen_soon_after_the_reply(
    page: Page, upstream: StandInService, answers: TimedAnswers, record_property: object
) -> None:
    """Measured, not asserted: how long from the stand-in's reply to the text on screen."""
    delays = []
    for index in range(10):
        answers.replied_at.clear()
        send(page, f"Question {index}")
        expect(page.locator(ANSWERED)).to_have_count(index + 1)
        shown_at = int(
            page.locator(".turn.assistant").last.get_attribute("data-first-text-at") or 0
        )
        delays.append(shown_at / 1000 - answers.replied_at[-1])
    median = statistics.median(delays) * 1000
    print(
        f"\nfirst answer on screen after the stand-in's reply: median {median:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms over {len(delays)} turns"
    )
    record_property("first_text_ms_median", round(median))  # type: ignore[operator]
    assert 0 < median < 60_000  # a sanity bound only: the number goes into the note


# --- an API key, two providers -------------------------------------------------------------------


def test_with_an_api_key_the_page_asks_for_it(
    browser: object, upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    keyed = serve_stand_in(
        upstream,
        tmp_path,
    )
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(keyed.origin + "/")
        dialog = page.get_by_role("dialog", name="API key")
        expect(dialog).to_be_visible()
        page.get_by_label("Key", exact=True).fill("wrong-key")
        page.get_by_label("Key", exact=True).press("Enter")
        expect(dialog.locator("#key-error")).to_have_text("That key was refused.")
        page.get_by_label("Key", exact=True).fill(str(keyed.api_key))
        page.get_by_label("Key", exact=True).press("Enter")
        expect(dialog).to_be_hidden()
        expect(page.get_by_label("Model").locator("option")).to_have_count(2)
        send(page, "With a key")
        expect(page.locator(ANSWERED)).to_have_text("echo: With a key")
        stored = page.evaluate(
            "[sessionStorage.getItem('aichat.key'), JSON.stringify(localStorage)]"
        )
        assert stored[0] == keyed.api_key  # for this tab only...
        assert str(keyed.api_key) not in stored[1]  # ...never in the lasting storage
    finally:
        context.close()
        keyed.stop()


SECOND_PROVIDER = '''
from aichat_provider import AsyncProvider


class Second(AsyncProvider):
    """A second provider, installed as a gpt4free.providers plugin."""

    url = "http://second.invalid"
    working = True
    supports_message_history = True
    default_model = "second-model"
    models = ["second-model"]

    @classmethod
    async def create_async(cls, model, messages, proxy=None, **kwargs):
        return "second says: " + messages[-1]["content"]
'''


def test_two_providers_fill_the_model_picker(
    browser: object, upstream: StandInService, tmp_path: Path, home: Path
) -> None:
    plugins = tmp_path / "plugins"
    info = plugins / "second_provider-1.0.dist-info"
    info.mkdir(parents=True)
    (plugins / "second_provider.py").write_text(textwrap.dedent(SECOND_PROVIDER))
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: second-provider\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[gpt4free.providers]\nsecond = second_provider:Second\n"
    )
    served = serve_stand_in(
        upstream,
        tmp_path,
        api_key=None,
        env={"PYTHONPATH": os.pathsep.join([str(plugins), os.environ.get("PYTHONPATH", "")])},
    )
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(served.origin + "/")
        picker = page.get_by_label("Model")
        expect(picker.locator("option")).to_have_count(4)
        assert picker.locator("option").all_text_contents() == [
            "gpt-3.5-turbo",
            "aichat/gpt-3.5-turbo",
            "second-model",
            "second/second-model",
        ]
        picker.select_option("second/second-model")
        send(page, "Which one?")
        expect(page.locator(ANSWERED)).to_have_text("second says: Which one?")
        assert upstream.requests == []  # the second provider answered, not the stand-in
    finally:
        context.close()
        served.stop()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(
    browser: object, server: Server, upstream: StandInService, scheme: str, tmp_path: Path
) -> None:
    upstream.push(
        Reply.answer(
            "TCP slow start doubles the window each round trip:\n```python\ncwnd *= 2\n```"
        )
    )
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 900, "height": 560}, color_scheme=scheme, device_scale_factor=1
    )
    try:
        page = context.new_page()
        page.goto(server.origin + "/")
        send(page, "Explain TCP slow start in one line, with code")
        expect(page.locator(ANSWERED)).to_contain_text("cwnd *= 2")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background
        update = os.environ.get("AICHAT_UPDATE_SCREENSHOTS") == "1"
        target = SCREENSHOTS if update else tmp_path
        path = target / f"page-{scheme}.png"
        path.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        context.close()
