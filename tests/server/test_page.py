"""The chat page of ``aichat serve``, driven in real headless Chromium (Debian's, through
Playwright) against the real server and the stand-in service.

``AICHAT_UPDATE_SCREENSHOTS=1 pytest tests/server/test_page.py -k screenshots`` rewrites the
screenshots of docs/chat-page.md (docs/images/).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aichat_provider.testing import RecordedRequest, Reply, StandInService
from support.browsers import chromium
from support.secrets import DEVELOPER_VARIABLES
from support.server import Server, serve_stand_in

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is in the test extra"
)
Page = playwright_sync.Page
#: The page is driven in a real Chromium.
pytestmark = pytest.mark.slow
expect = playwright_sync.expect

pytestmark = pytest.mark.slow  # a real browser

SCREENSHOTS = Path(__file__).parents[2] / "docs" / "images"
STATIC = Path(__file__).parents[2] / "aichat_provider" / "server" / "static"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# What the server serves for the page: path -> (file under static/, content type).
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/favicon.ico": ("favicon.ico", "image/x-icon"),
    "/static/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/static/app.css": ("app.css", CSS),
    "/static/app.js": ("app.js", JS),
    "/static/vendor/markdown-it.min.js": ("vendor/markdown-it.min.js", JS),
    "/static/vendor/purify.min.js": ("vendor/purify.min.js", JS),
    "/static/vendor/highlight.min.js": ("vendor/highlight.min.js", JS),
    "/static/vendor/highlight-a11y-light.min.css": ("vendor/highlight-a11y-light.min.css", CSS),
    "/static/vendor/highlight-a11y-dark.min.css": ("vendor/highlight-a11y-dark.min.css", CSS),
}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core, for these tests only
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
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One Chromium for the module, started before any test's own environment is made: it is
    given the same isolation here (no desktop D-Bus, XDG folders or proxies; a test HOME)."""
    executable = chromium()
    env = {k: v for k, v in os.environ.items() if k not in DEVELOPER_VARIABLES}
    env["HOME"] = str(tmp_path_factory.mktemp("page-browser-home"))
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, env=env)
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


def test_every_page_file_is_served_with_the_policy(server: Server) -> None:
    for path, (name, kind) in PAGE_FILES.items():
        status, headers, body = server.raw("GET", path, None, {"Accept-Encoding": "gzip"})
        assert status == 200, path
        assert headers["content-type"] == kind
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        shipped = (STATIC / name).read_bytes()
        if headers.get("content-encoding") == "gzip":
            assert gzip.decompress(body) == shipped
            assert headers["vary"] == "accept-encoding"
        else:
            assert body == shipped
    # without Accept-Encoding, or with gzip refused, the bytes as they are
    for refusal in ({}, {"Accept-Encoding": "br, gzip;q=0"}, {"Accept-Encoding": "identity"}):
        status, headers, body = server.raw("GET", "/static/vendor/highlight.min.js", None, refusal)
        assert "content-encoding" not in headers, refusal
        assert body == (STATIC / "vendor" / "highlight.min.js").read_bytes()
    status, headers, body = server.raw("GET", "/favicon.ico")
    assert (status, headers["content-type"]) == (200, "image/x-icon")
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO
    status, _, _ = server.raw("GET", "/", None, {"Host": "evil.example"})
    assert status == 403  # the cross-site rules hold for the page too


def test_page_weight_within_budget(browser: object, server: Server) -> None:
    """Everything the page loads, as it crosses the wire (gzipped): printed, and held under
    the budget the docs state (150 KB)."""
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        loaded: dict[str, int] = {}
        statuses: dict[str, int] = {}

        def finished(request: object) -> None:
            url = request.url  # type: ignore[attr-defined]
            loaded[url] = request.sizes()["responseBodySize"]  # type: ignore[attr-defined]

        page.on("requestfinished", finished)
        page.on("response", lambda response: statuses.update({response.url: response.status}))
        page.goto(server.origin + "/", wait_until="networkidle")
        expect(page.get_by_label("Model").locator("option")).to_have_count(2)
    finally:
        context.close()
    assert all(url.startswith(server.origin + "/") for url in loaded), loaded
    assert all(status == 200 for status in statuses.values()), statuses
    assets = {url: size for url, size in loaded.items() if "/v1/" not in url}
    # what a browser that cannot use the SVG icon asks for on its own (Playwright does not see
    # the browser's own icon requests)
    _, _, icon = server.raw("GET", "/favicon.ico", None, {"Accept-Encoding": "gzip"})
    assets.setdefault(server.origin + "/favicon.ico", len(icon))
    total = sum(assets.values())
    print(f"\npage weight: {total / 1024:.1f} KB over the wire in {len(assets)} files")
    for url, size in sorted(assets.items(), key=lambda item: -item[1]):
        print(f"  {size / 1024:6.1f} KB  {url.removeprefix(server.origin)}")
    assert server.origin + "/static/vendor/markdown-it.min.js" in assets
    assert 0 < total < 150 * 1024


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
    # The aim is 50 ms; the bound is generous (seven people share this machine's two cores).
    assert -50 < median < 1_000


# --- Markdown, and Markdown that means harm -------------------------------------------------


def test_markdown_is_rendered(page: Page, upstream: StandInService) -> None:
    upstream.push(
        Reply.answer(
            "Some **bold**, *slanted* and `inline code`.\n\n"
            "- one\n- two\n\n"
            "| a | b |\n|---|---:|\n| 1 | 2 |\n\n"
            "[the spec](https://spec.commonmark.org/) and https://example.org/auto\n\n"
            "```python\ndef f():\n    return 1\n```"
        )
    )
    send(page, "Show me Markdown")
    body = page.locator(ANSWERED)
    expect(body.locator("strong")).to_have_text("bold")
    expect(body.locator("em")).to_have_text("slanted")
    expect(body.locator("p code")).to_have_text("inline code")
    expect(body.locator("li")).to_have_text(["one", "two"])
    expect(body.locator("td")).to_have_text(["1", "2"])
    links = body.locator("a")
    expect(links).to_have_count(2)
    for link in links.all():
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener noreferrer"
    assert links.first.get_attribute("href") == "https://spec.commonmark.org/"
    assert links.last.get_attribute("href") == "https://example.org/auto"  # linkified
    code = body.locator("pre code")
    expect(code).to_have_text("def f():\n    return 1")
    expect(code.locator(".hljs-keyword").first).to_have_text("def")  # highlight.js coloured it
    colour = code.locator(".hljs-keyword").first.evaluate("n => getComputedStyle(n).color")
    plain = code.evaluate("n => getComputedStyle(n).color")
    assert colour != plain


HOSTILE = "\n\n".join(
    [
        "[js link](javascript:window.__pwned='js-link')",
        "[mixed case](JaVaScRiPt:window.__pwned='case')",
        "[entity](&#106;avascript:window.__pwned='entity')",
        "<javascript:window.__pwned='autolink'>",
        "<img src=x onerror=\"window.__pwned='img'\">",
        "![tracker](https://evil.example/pixel.png)",
        "![inline svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9IndpbmRvdy5fX3B3bmVkPTEiLz4=)",
        "![png](data:image/png;base64,iVBORw0KGgo=)",
        "[data page](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[relative](/v1/models) and [mail](mailto:someone@example.org)",
        "<svg onload=\"window.__pwned='svg'\"><script>window.__pwned='svg-script'</script></svg>",
        "<!-- <img src=https://evil.example/comment.png> -->",
        '<a href="https://evil.example" onclick="window.__pwned=\'a\'">raw link</a>',
        "<style>body { background: url(https://evil.example/style.png) }</style>",
        '<iframe src="https://evil.example/frame"></iframe>',
        '<form action="https://evil.example/form"><button>go</button></form>',
        '[quote](https://ok.example/ "x\\" onmouseover=\\"window.__pwned=\'title\'")',
        "<details open ontoggle=\"window.__pwned='details'\">x</details>",
    ]
)


def test_hostile_markdown_runs_nothing_and_loads_nothing(
    browser: object, server: Server, upstream: StandInService
) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    elsewhere: list[str] = []
    problems: list[str] = []

    def route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(server.origin + "/"):
            route.continue_()  # type: ignore[attr-defined]
        else:
            elsewhere.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    try:
        page = context.new_page()
        context.on("page", lambda opened: problems.append(f"a new tab opened: {opened.url}"))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
        page.on(
            "console",
            lambda message: message.type == "error" and problems.append(message.text),
        )
        page.goto(server.origin + "/")
        upstream.push(Reply.answer(HOSTILE))
        send(page, "Be hostile")
        body = page.locator(ANSWERED)
        expect(body).to_contain_text("raw link")
        # raw HTML is text, not elements; images are links, not loads
        expect(body).to_contain_text("<img src=x onerror=\"window.__pwned='img'\">")
        expect(body).to_contain_text("<!-- <img src=https://evil.example/comment.png> -->")
        dangerous = "img, svg, script, iframe, style, form, details, object, embed, video, audio"
        assert body.locator(dangerous).count() == 0
        hrefs = body.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
        # only http(s) targets are links (linkify also turns URLs in the escaped HTML into links)
        assert all(href.startswith("https://") for href in hrefs), hrefs
        assert {"https://evil.example/pixel.png", "https://ok.example/"} <= set(hrefs)
        for link in body.locator("a[href]").all():
            assert link.get_attribute("rel") == "noopener noreferrer"
            assert link.get_attribute("target") == "_blank"
            assert link.get_attribute("onclick") is None
            assert link.get_attribute("onmouseover") is None
        # links without a safe target go nowhere when clicked; hovering runs nothing
        for link in body.locator("a:not([href])").all():
            link.click()
        for node in body.locator("*").all():
            if node.is_visible():
                node.hover()
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None
        assert page.url == server.origin + "/"
    finally:
        context.close()
    assert elsewhere == []
    assert problems == []


# --- many conversations -------------------------------------------------------------------------


def chat_titles(page: Page) -> list[str]:
    return page.locator("#chats .open").all_text_contents()


def test_conversations_are_listed_kept_and_found(page: Page, upstream: StandInService) -> None:
    expect(page.locator("#empty")).to_be_visible()
    send(page, "About dogs")
    expect(page.locator(ANSWERED)).to_have_count(1)
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#chats [aria-current]")).to_have_count(0)
    send(page, "About cats")
    expect(page.locator(ANSWERED)).to_have_count(1)
    assert chat_titles(page) == ["About cats", "About dogs"]
    expect(page.locator("#chats .current .open")).to_have_text("About cats")
    expect(page.locator("#chats [aria-current='true']")).to_have_text("About cats")
    # a reload keeps both, and which one is open
    page.reload()
    assert chat_titles(page) == ["About cats", "About dogs"]
    expect(page.locator(".turn.user .body")).to_have_text("About cats")
    page.get_by_role("button", name="About dogs", exact=True).click()
    expect(page.locator(".turn.user .body")).to_have_text("About dogs")
    expect(page.locator("#chats [aria-current='true']")).to_have_text("About dogs")
    # search looks in titles and in what was said
    page.get_by_label("Search chats").fill("echo: about c")
    expect(page.locator("#chats .open")).to_have_text(["About cats"])
    page.get_by_label("Search chats").fill("nothing like this")
    expect(page.locator("#no-chats")).to_have_text("No chat matches.")
    page.get_by_label("Search chats").fill("")
    expect(page.locator("#chats .open")).to_have_count(2)
    # rename, kept over a reload; Escape leaves the name as it was
    page.get_by_role("button", name="Rename About dogs").click()
    page.get_by_label("New name for this chat").fill("Dogs, renamed")
    page.get_by_label("New name for this chat").press("Enter")
    page.get_by_role("button", name="Rename About cats").click()
    page.get_by_label("New name for this chat").fill("not this")
    page.get_by_label("New name for this chat").press("Escape")
    page.reload()
    assert sorted(chat_titles(page)) == ["About cats", "Dogs, renamed"]
    # delete the open one, then undo
    page.get_by_role("button", name="Delete Dogs, renamed").click()
    assert chat_titles(page) == ["About cats"]
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("Deleted “Dogs, renamed”.")
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#toast")).to_be_hidden()
    assert sorted(chat_titles(page)) == ["About cats", "Dogs, renamed"]
    expect(page.locator("#chats [aria-current='true']")).to_have_text("Dogs, renamed")
    expect(page.locator(".turn.user .body")).to_have_text("About dogs")
    # a delete not undone is kept
    page.get_by_role("button", name="Delete About cats").click()
    page.reload()
    assert chat_titles(page) == ["Dogs, renamed"]


def test_a_second_tab_sees_the_new_chat(page: Page) -> None:
    other = page.context.new_page()
    other.goto(page.url)
    send(page, "From the first tab")
    expect(page.locator(ANSWERED)).to_have_count(1)
    expect(other.locator("#chats .open")).to_have_text(["From the first tab"])
    expect(other.locator(".turn")).to_have_count(0)  # its own open chat stays as it was
    other.get_by_role("button", name="From the first tab", exact=True).click()
    expect(other.locator(ANSWERED)).to_have_text("echo: From the first tab")


def test_a_rename_in_another_tab_survives_an_answer_streaming_here(
    page: Page, upstream: StandInService
) -> None:
    """Tab one is answering while tab two renames a chat: both changes are kept (tab one used
    to save its whole list when its answer came, over the rename)."""
    send(page, "About dogs")
    expect(page.locator(ANSWERED)).to_have_count(1)
    page.get_by_role("button", name="New chat").click()
    other = page.context.new_page()
    other.goto(page.url)
    upstream.set_default(Reply(delay=1.5))
    send(page, "About cats")
    assert upstream.wait_for_requests(2, timeout=10)  # the answer is on its way
    other.get_by_role("button", name="Rename About dogs").click()
    other.get_by_label("New name for this chat").fill("Dogs, renamed")
    other.get_by_label("New name for this chat").press("Enter")
    expect(page.locator(ANSWERED)).to_have_text("echo: About cats")
    expect(page.locator("#chats .open")).to_have_text(["About cats", "Dogs, renamed"])
    for tab in (page, other):
        tab.reload()
        assert sorted(chat_titles(tab)) == ["About cats", "Dogs, renamed"]
    page.get_by_role("button", name="About cats", exact=True).click()
    expect(page.locator(ANSWERED)).to_have_text("echo: About cats")


def test_the_one_chat_of_an_earlier_version_is_kept(page: Page) -> None:
    old = {
        "messages": [
            {"role": "user", "content": "Saved before"},
            {"role": "assistant", "content": "an *old* answer"},
        ],
        "system": "Be brief.",
        "model": "gpt-3.5-turbo",
        "temperature": 0.3,
    }
    page.evaluate("old => localStorage.setItem('aichat.chat', old)", json.dumps(old))
    page.reload()
    assert chat_titles(page) == ["Saved before"]
    expect(page.locator(ANSWERED).locator("em")).to_have_text("old")
    expect(page.get_by_label("System message")).to_have_value("Be brief.")
    expect(page.get_by_label("Temperature")).to_have_value("0.3")
    assert page.evaluate("localStorage.getItem('aichat.chat')") is None


def test_a_chat_exports_as_markdown_and_json(page: Page, tmp_path: Path) -> None:
    expect(page.get_by_role("button", name="Export .md")).to_be_disabled()
    send(page, "Export me")
    expect(page.locator(ANSWERED)).to_have_count(1)
    with page.expect_download() as markdown_download:
        page.get_by_role("button", name="Export .md").click()
    saved = tmp_path / "chat.md"
    markdown_download.value.save_as(saved)
    assert markdown_download.value.suggested_filename == "export-me.md"
    assert saved.read_text() == (
        "# Export me\n\n## You\n\nExport me\n\n## Assistant\n\necho: Export me\n"
    )
    with page.expect_download() as json_download:
        page.get_by_role("button", name="Export .json").click()
    saved = tmp_path / "chat.json"
    json_download.value.save_as(saved)
    assert json_download.value.suggested_filename == "export-me.json"
    data = json.loads(saved.read_text())
    assert data["title"] == "Export me"
    assert data["model"] == "gpt-3.5-turbo"
    assert data["messages"] == [
        {"role": "user", "content": "Export me"},
        {"role": "assistant", "content": "echo: Export me"},
    ]


# --- per message ----------------------------------------------------------------------------------


def test_copy_regenerate_and_edit(
    browser: object, server: Server, upstream: StandInService
) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.origin)
    try:
        page = context.new_page()
        page.goto(server.origin + "/")
        send(page, "First")
        expect(page.locator(ANSWERED)).to_have_count(1)
        upstream.push(Reply.answer("**Second** answer"))
        send(page, "Second")
        expect(page.locator(ANSWERED)).to_have_count(2)
        # copy gives the Markdown as it came
        last = page.locator(".turn.assistant").last
        last.get_by_role("button", name="Copy message").click()
        expect(last.get_by_role("button", name="Copy message")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == "**Second** answer"
        # only the last answer can be regenerated
        expect(page.get_by_role("button", name="Regenerate this answer")).to_have_count(1)
        upstream.push(Reply.answer("A better second answer"))
        before = len(upstream.requests)
        last.get_by_role("button", name="Regenerate this answer").click()
        expect(page.locator(ANSWERED).last).to_have_text("A better second answer")
        expect(page.locator(".turn")).to_have_count(4)
        assert len(upstream.requests) == before + 1
        assert upstream.requests[-1].prompt == (
            "User: First\nAssistant: echo: First\nUser: Second\nAssistant:"
        )
        # edit the first message: what came after it is replaced by the new answer
        first = page.locator(".turn.user").first
        first.get_by_role("button", name="Edit and resend").click()
        page.get_by_label("Edit message").fill("First, edited")
        page.get_by_label("Edit message").press("Enter")
        expect(page.locator(ANSWERED)).to_have_text(["echo: First, edited"])
        expect(page.locator(".turn")).to_have_count(2)
        assert upstream.requests[-1].prompt == "First, edited"
        page.reload()
        expect(page.locator(".turn .body")).to_have_text(["First, edited", "echo: First, edited"])
        # Cancel leaves the message alone
        page.locator(".turn.user").get_by_role("button", name="Edit and resend").click()
        page.get_by_label("Edit message").fill("never sent")
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator(".turn.user .body")).to_have_text("First, edited")
    finally:
        context.close()


# --- empty state, writing, favicon, shortcuts ---------------------------------------------------


def test_empty_state_examples_and_the_writing_timer(page: Page, upstream: StandInService) -> None:
    empty = page.locator("#empty")
    expect(empty).to_be_visible()
    expect(empty.get_by_role("heading")).to_have_text("Chat through this aichat server")
    examples = empty.locator(".example")
    expect(examples).to_have_count(3)
    upstream.push(Reply.delayed(4))
    prompt = examples.first.text_content() or ""
    examples.first.click()
    writing = page.locator(".turn.assistant.pending .writing")
    expect(writing).to_contain_text("writing")
    # Any whole second before the answer: a loaded machine may paint a tick late, and a window
    # of one second (2 s, with the answer at 2.5 s) was missed under load.
    expect(writing.locator(".waited")).to_have_text(re.compile(r"^[1-3] s$"), timeout=10_000)
    dot = writing.locator(".dots i").first
    assert dot.evaluate("n => getComputedStyle(n).animationName") == "blink"
    expect(page.locator(ANSWERED)).to_have_text(f"echo: {prompt}")
    expect(page.locator(".writing")).to_have_count(0)
    expect(empty).to_be_hidden()


def test_favicon_is_served(page: Page, server: Server) -> None:
    icons = page.locator("link[rel=icon]").evaluate_all("links => links.map(l => l.href)")
    assert icons == [server.origin + "/favicon.ico", server.origin + "/static/favicon.svg"]
    for icon in icons:
        response = page.request.get(icon)
        assert response.status == 200
        assert response.headers["content-type"].startswith("image/")


def test_keyboard_shortcuts_and_their_help(page: Page, upstream: StandInService) -> None:
    page.keyboard.press("Control+/")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    for action in ("New chat", "Focus the message box", "Stop the answer being written"):
        expect(help_dialog).to_contain_text(action)
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.get_by_role("button", name="Shortcuts").click()
    expect(help_dialog).to_be_visible()
    help_dialog.get_by_role("button", name="Close").click()
    expect(help_dialog).to_be_hidden()
    # focus the input from anywhere
    page.get_by_label("Search chats").focus()
    page.keyboard.press("Shift+Escape")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    # stop
    upstream.set_default(Reply.hang())
    send(page, "Hang on")
    assert upstream.wait_for_requests(1, timeout=10)
    page.keyboard.press("Escape")
    expect(page.locator(".turn.assistant.error")).to_contain_text("Stopped before any answer came")
    upstream.set_default(None)
    # new chat
    page.keyboard.press("Control+Shift+O")
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()


# --- accessibility ------------------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict[str, object]]:
    """axe-core's WCAG 2.1 A/AA and best-practice rules, run in the page (evaluated through the
    DevTools protocol, so the page's own CSP does not apply to it)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice']},
        }).then(r => r.violations.map(v => ({
            id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ': ' +
                                                       n.failureSummary)})))"""
    )
    return list(result)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1000, 390])
def test_axe_finds_nothing(browser: object, server: Server, scheme: str, width: int) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": 760}, color_scheme=scheme, reduced_motion="reduce"
    )
    try:
        page = context.new_page()
        page.goto(server.origin + "/")
        expect(page.get_by_label("Model").locator("option")).to_have_count(2)
        assert axe_violations(page) == []  # the empty state
        page.evaluate(
            "chats => localStorage.setItem('aichat.chats', chats)", json.dumps(SCREENSHOT_CHATS)
        )
        page.reload()
        expect(page.locator(ANSWERED).locator("pre code .hljs-keyword")).to_have_count(1)
        expect(page.get_by_label("Model").locator("option")).to_have_count(2)
        if width < 720:
            page.get_by_role("button", name="Chats").click()
            expect(page.get_by_role("navigation", name="Conversations")).to_be_visible()
        assert axe_violations(page) == []  # a conversation with Markdown and code
        page.keyboard.press("Control+/")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        assert axe_violations(page) == []
    finally:
        context.close()


def test_focus_follows_the_layout(page: Page) -> None:
    """Tab visits every control once, in the order they are laid out, and nothing is skipped."""
    send(page, "Hello")
    expect(page.locator(ANSWERED)).to_have_count(1)
    expected = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, textarea, summary, a[href]')]
            .filter(n => n.checkVisibility() && !n.disabled && n.tabIndex >= 0)
            .map(n => n.id || n.getAttribute('aria-label') || n.textContent.trim())"""
    )
    active = """() => { const n = document.activeElement;
        return n.id || n.getAttribute('aria-label') || n.textContent.trim(); }"""
    page.locator("#new-chat").focus()  # the first control; Tab from there on
    seen = [page.evaluate(active)]
    for _ in expected[1:]:
        page.keyboard.press("Tab")
        seen.append(page.evaluate(active))
    assert seen == expected
    assert expected[:3] == ["new-chat", "search", "Hello"]  # the list comes first
    assert expected[-3:] == ["Regenerate this answer", "prompt", "send"]


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


SCREENSHOT_CHATS = {
    "current": "c3",
    "chats": [
        {
            "id": "c3",
            "title": "TCP slow start",
            "created": 3,
            "updated": 3,
            "system": "",
            "messages": [
                {"role": "user", "content": "Explain TCP slow start briefly, with code."},
                {
                    "role": "assistant",
                    "content": (
                        "**Slow start** grows the congestion window fast at first:\n\n"
                        "1. start with a small `cwnd`;\n"
                        "2. add one segment per ACK, so it *doubles* every round trip;\n"
                        "3. stop at `ssthresh` or on a loss.\n\n"
                        "```python\nwhile cwnd < ssthresh:\n    cwnd *= 2  # one RTT\n```\n\n"
                        "See [RFC 5681](https://www.rfc-editor.org/rfc/rfc5681)."
                    ),
                },
            ],
        },
        {
            "id": "c2",
            "title": "Names for a cat",
            "created": 2,
            "updated": 2,
            "system": "",
            "messages": [{"role": "user", "content": "Names for a cat"}],
        },
        {
            "id": "c1",
            "title": "Palindromes in Python",
            "created": 1,
            "updated": 1,
            "system": "",
            "messages": [{"role": "user", "content": "Palindromes in Python"}],
        },
    ],
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    ("device", "width", "height"), [("desktop", 1000, 640), ("phone", 390, 760)]
)
def test_screenshots(
    browser: object,
    server: Server,
    scheme: str,
    device: str,
    width: int,
    height: int,
    tmp_path: Path,
) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": height},
        color_scheme=scheme,
        device_scale_factor=1,
        reduced_motion="reduce",
    )
    try:
        page = context.new_page()
        page.goto(server.origin + "/")
        page.evaluate(
            "chats => localStorage.setItem('aichat.chats', chats)", json.dumps(SCREENSHOT_CHATS)
        )
        page.reload()
        expect(page.locator(ANSWERED).locator("pre code .hljs-keyword")).to_have_count(1)
        expect(page.get_by_label("Model").locator("option")).to_have_count(2)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (scheme == "light"), background
        page.locator("#prompt").blur()
        update = os.environ.get("AICHAT_UPDATE_SCREENSHOTS") == "1"
        target = SCREENSHOTS if update else tmp_path
        path = target / f"chat-page-{device}-{scheme}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        context.close()
