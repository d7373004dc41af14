"""The request builder in Chromium, against the live portal and the local EAS emulator."""

import re

from playwright.sync_api import expect

from services import calls
from services.calls import CallRequest
from tests.helpers import log_in, make_service, open_builder


def send(page):
    with page.expect_response(re.compile(r"/api/services/[^/]+/invoke$")):
        page.click("#send")


def visible_hints(page):
    return [hint.get_attribute("data-hint")
            for hint in page.locator("#response [data-hint]").all() if hint.is_visible()]


def test_a_member_builds_sends_and_finds_the_call_again(live_server, page, chat, bob, emulator):
    base = emulator.base("demo-chat")
    log_in(page, live_server, "bob")
    open_builder(page, live_server, chat)
    full_url = page.locator("#full-url")
    expect(full_url).to_have_text(f"{base}/v1/chat/completions")
    assert page.input_value("tr.locked td:nth-child(2) input") == f"••••{chat.token_hint}"

    # The URL follows every keystroke, joined in the page by the server's rule.
    page.fill("#path", "")
    expect(full_url).to_have_text(base)
    page.type("#path", "v1/mo")
    expect(full_url).to_have_text(f"{base}/v1/mo")
    page.type("#path", "dels?q=a b")
    expect(full_url).to_have_text(f"{base}/v1/models?q=a%20b")
    page.fill("#path", "//evil.example/x")
    expect(page.locator("#url-refused")).to_contain_text("starts with //")
    expect(full_url).to_be_hidden()

    # A preset puts the path back; the body is still the chat template.
    page.click("button.preset[data-path='/v1/chat/completions']")
    expect(full_url).to_have_text(f"{base}/v1/chat/completions")
    assert "You are a helpful assistant." in page.input_value("#body")
    expect(page.locator("#json-status")).to_have_text("Valid JSON.")

    send(page)
    expect(page.locator("#response")).to_be_visible()
    expect(page.locator("#response-status")).to_have_text("200 OK")
    expect(page.locator("#response-body")).to_contain_text('"content": "You said: hello!"')
    expect(page.locator("#response-url")).to_have_text(f"{base}/v1/chat/completions")
    assert visible_hints(page) == []
    call_link = page.get_attribute("#response-call-link", "href")
    call_id = re.fullmatch(r"/calls/(\d+)/", call_link).group(1)

    # A wrong path: the 404 hint, with the URL that was actually called.
    page.fill("#path", "/v2/chat/completions")
    send(page)
    expect(page.locator("#response-status")).to_have_text("404 Not Found")
    assert visible_hints(page) == ["404"]
    expect(page.locator("#response [data-hint='404'] [data-hint-url]")).to_have_text(
        f"{base}/v2/chat/completions")

    # The first call, in the history, then its detail page, then back in the builder.
    page.click("nav >> text=History")
    page.wait_for_url(f"{live_server.url}/calls/")
    rows = page.locator("tr.call-row")
    expect(rows).to_have_count(2)
    row = page.locator(f"tr.call-row[data-call-id='{call_id}']")
    expect(row).to_contain_text("/v1/chat/completions")
    expect(row).to_contain_text("200")
    row.locator("td:first-child a").click()
    page.wait_for_url(f"{live_server.url}/calls/{call_id}/")
    expect(page.locator("h1")).to_contain_text(f"Call #{call_id}")
    assert [h.get_attribute("data-hint") for h in page.locator("[data-hint]").all()
            if h.is_visible()] == []

    page.click("#open-in-builder")
    page.wait_for_url(f"{live_server.url}/services/demo-chat/builder/?call={call_id}")
    assert page.input_value("#path") == "/v1/chat/completions"
    assert '"content": "hello!"' in page.input_value("#body")
    assert page.input_value("tr.header-row .header-name") == "Content-Type"
    assert page.input_value("tr.header-row .header-value") == "application/json"
    expect(full_url).to_have_text(f"{base}/v1/chat/completions")
    assert chat.read_token() not in page.content()
    assert page.csp_errors == []


def test_a_failed_calls_detail_page_shows_its_hint(live_server, page, chat, bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, chat)
    page.fill("#path", "/no/such/route")
    send(page)
    expect(page.locator("#response-status")).to_have_text("404 Not Found")
    page.click("#response-call-link")
    page.wait_for_url(re.compile(r"/calls/\d+/$"))
    hint = page.locator("[data-hint='404']")
    expect(hint).to_be_visible()
    expect(hint.locator("[data-hint-url]")).to_have_text(chat.public_endpoint + "/no/such/route")
    assert page.csp_errors == []


def test_headers_and_body_tools(live_server, page, echo, bob, emulator):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    expect(page.locator("button.preset")).to_have_count(0)

    # The JSON check, Format, and the byte counter.
    page.fill("#body", '{"a": 1,\n "b" 2}')
    expect(page.locator("#json-status")).to_contain_text("Not valid JSON: line 2, column 6")
    expect(page.locator("#format-body")).to_be_disabled()
    compact = '{"word":"中","n":[1,2]}'
    page.fill("#body", compact)
    expect(page.locator("#json-status")).to_have_text("Valid JSON.")
    # UTF-8 bytes, not characters: 中 is three.
    assert (len(compact), len(compact.encode())) == (22, 24)
    expect(page.locator("#byte-count")).to_have_text("24 of 1,048,576 bytes")
    page.click("#format-body")
    assert page.input_value("#body") == '{\n  "word": "中",\n  "n": [\n    1,\n    2\n  ]\n}'

    # Rows: add one, remove the default Content-Type; what arrives is what the rows say.
    page.click("#add-header")
    page.locator("tr.header-row").last.locator(".header-name").fill("X-Trace")
    page.locator("tr.header-row").last.locator(".header-value").fill("trace-42")
    page.locator("tr.header-row", has=page.locator(".header-name[value='Content-Type']")) \
        .locator(".remove-header").click()
    expect(page.locator("tr.header-row")).to_have_count(1)
    page.select_option("#method", "PUT")
    emulator.app.clear()
    send(page)
    expect(page.locator("#response-status")).to_have_text("200 OK")
    arrived = emulator.app.received[-1]
    assert arrived["method"] == "PUT"
    assert arrived["headers"]["X-Trace"] == "trace-42"
    assert "Content-Type" not in arrived["headers"]
    assert arrived["headers"]["Authorization"] == emulator.token("demo-echo")
    assert arrived["body"] == '{\n  "word": "中",\n  "n": [\n    1,\n    2\n  ]\n}'.encode()

    # Over the gateway limit: a warning while typing, then the API's 413 as a form error.
    page.fill("#body", "x" * 1_048_577)
    expect(page.locator("#size-warning")).to_be_visible()
    expect(page.locator("#byte-count")).to_have_class(re.compile(r"\bover\b"))
    emulator.app.clear()
    send(page)
    expect(page.locator("#form-error")).to_contain_text("1048576")
    expect(page.locator("#response")).to_be_hidden()
    assert len(emulator.app.received) == 0
    assert page.csp_errors == []


def test_a_transport_error_shows_its_hint(live_server, page, acme, bob):
    # Nothing listens on port 9 of the loopback address: the connection is refused.
    closed = make_service(acme, slug="closed", kind="custom", vpc_endpoint="",
                          public_endpoint="http://127.0.0.1:9/api/predict/closed",
                          default_path="/")
    log_in(page, live_server, "bob")
    open_builder(page, live_server, closed)
    send(page)
    expect(page.locator("#response-status")).to_have_text("failed")
    expect(page.locator("#response-error")).to_contain_text("refused the connection")
    assert visible_hints(page) == ["refused"]
    assert page.csp_errors == []


def test_a_header_redacted_in_history_must_be_re_entered(live_server, page, echo, bob,
                                                         emulator):
    original = calls.call(bob, echo, CallRequest(
        path="/echo", headers={"Content-Type": "text/plain", "X-Api-Key": "old-key"},
        body=b"again"))
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo, f"?call={original.pk}")
    key_row = page.locator("tr.header-row", has=page.locator(".header-name[value='X-Api-Key']"))
    expect(key_row).to_contain_text("re-enter: redacted in history")
    assert key_row.locator(".header-value").input_value() == ""
    assert page.input_value("#body") == "again"

    emulator.app.clear()
    page.click("#send")
    expect(page.locator("#form-error")).to_contain_text("Re-enter the value of X-Api-Key")
    assert len(emulator.app.received) == 0

    key_row.locator(".header-value").fill("new-key")
    expect(key_row).not_to_contain_text("re-enter")
    send(page)
    expect(page.locator("#response-status")).to_have_text("200 OK")
    expect(page.locator("#form-error")).to_be_hidden()
    arrived = emulator.app.received[-1]
    assert arrived["headers"]["X-Api-Key"] == "new-key"
    assert arrived["headers"]["Content-Type"] == "text/plain"
    assert arrived["body"] == b"again"
    assert page.csp_errors == []
