"""The snippet panel in Chromium, against the live portal and the local EAS emulator: Copy (the
clipboard API, and the fallback plain http needs), Download, the builder following the form,
the real token for a maintainer, and the personal key (key mode) for everyone."""

import json
import re

import pytest
from django.templatetags.static import static
from playwright.sync_api import expect

from services import calls, keys, snippets
from services.calls import CallRequest
from services.models import AuditEvent
from tests.helpers import clipboard_reader, log_in, open_builder, without_clipboard_api

CLIPBOARD = ["clipboard-read", "clipboard-write"]


@pytest.fixture
def echoed(echo, bob):
    return calls.call(bob, echo, CallRequest(
        method="POST", path="/echo?lang=zh", headers={"Content-Type": "application/json"},
        body='{"text": "你好", "n": 1}'.encode()))


def api_snippet(page, live_server, call, lang="curl", token="env"):
    # The browser context's own request client: the same session as the page.
    response = page.context.request.get(
        f"{live_server.url}/api/calls/{call.pk}/snippet?lang={lang}&token={token}")
    assert response.status == 200, response.text()
    return response.text()


def open_call_from_history(page, live_server, call):
    page.click("nav >> text=History")
    page.wait_for_url(f"{live_server.url}/calls/")
    page.locator(f"tr.call-row[data-call-id='{call.pk}'] td:first-child a").click()
    page.wait_for_url(f"{live_server.url}/calls/{call.pk}/")
    expect(page.locator("#snippet-body")).to_be_visible()


def shown_snippet(page):
    return page.locator("#snippet-body code").text_content()


def test_copy_puts_the_calls_curl_snippet_on_the_clipboard(live_server, page, echoed, bob):
    page.context.grant_permissions(CLIPBOARD, origin=live_server.url)
    log_in(page, live_server, "bob")
    open_call_from_history(page, live_server, echoed)

    page.click("#snippet-tab-python")
    expect(page.locator("#snippet-tab-python")).to_have_attribute("aria-selected", "true")
    assert shown_snippet(page) == api_snippet(page, live_server, echoed, "python")
    page.click("#snippet-tab-curl")
    expect(page.locator("#snippet-tab-curl")).to_have_attribute("aria-selected", "true")
    curl = api_snippet(page, live_server, echoed, "curl")
    assert shown_snippet(page) == curl
    # Coloured, with the text intact.
    assert page.locator("#snippet-body code span.tok-string").count() > 0

    page.click("#snippet-copy")
    expect(page.locator("#snippet-state")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == curl

    page.check("input[name=snippet-token][value=placeholder]")
    placeholder = api_snippet(page, live_server, echoed, "curl", "placeholder")
    expect(page.locator("#snippet-body code")).to_have_text(placeholder)
    assert echoed.service.read_token() not in page.content()
    assert page.locator("input[name=snippet-token][value=real]").count() == 0
    assert page.csp_errors == []


def test_copy_works_without_the_clipboard_api(live_server, page, echoed, bob):
    """Plain http (not localhost) has no navigator.clipboard: the textarea fallback copies."""
    without_clipboard_api(page)
    log_in(page, live_server, "bob")
    reader = clipboard_reader(page, live_server, "/calls/")

    page.goto(f"{live_server.url}/calls/{echoed.pk}/")
    assert page.evaluate("navigator.clipboard === undefined")
    page.click("#snippet-tab-httpie")
    httpie = api_snippet(page, live_server, echoed, "httpie")
    expect(page.locator("#snippet-body code")).to_have_text(httpie)
    page.click("#snippet-copy")
    expect(page.locator("#snippet-state")).to_have_text("Copied.")
    assert page.evaluate("window.copyCommands") == 1
    assert page.locator("textarea.copy-buffer").count() == 0  # cleaned up
    assert reader.evaluate("navigator.clipboard.readText()") == httpie
    assert page.csp_errors == []


def test_download_offers_the_snippet_as_a_file_with_the_targets_name(live_server, page, echoed,
                                                                       bob):
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/calls/{echoed.pk}/")
    for target in ("python", "fetch"):
        page.click(f"#snippet-tab-{target}")
        with page.expect_download() as download_info:
            page.click("#snippet-download")
        download = download_info.value
        assert download.suggested_filename == snippets.TARGETS[target].filename
        with open(download.path(), encoding="utf-8") as file:
            assert file.read() == api_snippet(page, live_server, echoed, target)
    assert page.csp_errors == []


def test_the_builders_panel_follows_the_form(live_server, page, echo, bob, emulator):
    requests = []
    page.on("request", lambda request: request.url.endswith("/api/snippet")
            and requests.append(request))
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    base = emulator.base("demo-echo")
    code = page.locator("#snippet-body code")
    expect(code).to_contain_text(f"{base}/echo")

    # Typing is debounced: one request for a burst of keystrokes, with the CSRF header.
    requests.clear()
    page.fill("#path", "/echo/")
    page.type("#path", "typed?x=1")
    expect(code).to_contain_text(f"{base}/echo/typed?x=1")
    assert 1 <= len(requests) <= 2
    assert requests[-1].headers["x-csrftoken"]
    assert json.loads(requests[-1].post_data)["service"] == "demo-echo"

    # A preset-free form edit: the body, then another tab.
    page.fill("#body", '{"changed": true}')
    expect(code).to_contain_text("changed")
    page.click("#snippet-tab-python")
    expect(code).to_contain_text("import requests")
    expect(code).to_contain_text(f"{base}/echo/typed?x=1")
    expect(code).to_contain_text("changed")
    page.click("#snippet-tab-curl")
    expect(code).to_contain_text("curl ")

    # A path the server refuses: its reason, and no snippet to copy.
    page.fill("#path", "//evil.example/x")
    expect(page.locator("#snippet-reason")).to_contain_text("//")
    expect(page.locator("#snippet-body")).to_be_hidden()
    expect(page.locator("#snippet-copy")).to_be_disabled()
    page.fill("#path", "/echo")
    expect(code).to_contain_text(f"'{base}/echo'")
    expect(page.locator("#snippet-copy")).to_be_enabled()
    assert echo.read_token() not in page.content()
    assert page.csp_errors == []


def test_a_target_the_form_cannot_use_is_marked_with_the_reason(live_server, page, echo, bob):
    request = snippets.from_request(echo, CallRequest(method="DELETE", path="/echo/x",
                                                      headers={}, body=b""))
    unavailable = [(target, snippets.unavailable_reason(request, target))
                   for target in snippets.NAMES if snippets.unavailable_reason(request, target)]
    if not unavailable:
        pytest.skip("every target can express a DELETE without a body")
    target, reason = unavailable[0]
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    page.select_option("#method", "DELETE")
    page.fill("#path", "/echo/x")
    page.fill("#body", "")
    page.locator("tr.header-row .remove-header").first.click()
    expect(page.locator("#snippet-body code")).to_contain_text("/echo/x")
    page.click(f"#snippet-tab-{target}")
    expect(page.locator("#snippet-reason")).to_have_text(reason)
    expect(page.locator(f"#snippet-tab-{target}")).to_have_class(re.compile(r"\bunavailable\b"))
    expect(page.locator("#snippet-download")).to_be_disabled()
    assert page.csp_errors == []


def test_a_maintainer_exports_the_real_token_once_per_target(live_server, page, echoed, alice):
    token = echoed.service.read_token()
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/calls/{echoed.pk}/")
    expect(page.locator(".snippet-real-note")).to_contain_text("recorded")
    assert token not in page.content()
    assert AuditEvent.objects.count() == 0

    page.check("input[name=snippet-token][value=real]")
    expect(page.locator("#snippet-body code")).to_contain_text(token)
    assert AuditEvent.objects.count() == 1
    # Back and forth: the export the page already has is not asked for (nor recorded) again.
    page.check("input[name=snippet-token][value=env]")
    expect(page.locator("#snippet-body code")).not_to_contain_text(token)
    page.check("input[name=snippet-token][value=real]")
    expect(page.locator("#snippet-body code")).to_contain_text(token)
    page.click("#snippet-tab-python")
    expect(page.locator("#snippet-body code")).to_contain_text("import requests")
    expect(page.locator("#snippet-body code")).to_contain_text(token)
    events = list(AuditEvent.objects.order_by("id"))
    assert [(event.username, event.detail["target"], event.detail["call"]) for event in events] \
        == [("alice", "curl", echoed.pk), ("alice", "python", echoed.pk)]
    assert page.csp_errors == []


def test_the_builder_exports_the_real_token_only_when_asked(live_server, page, echo, alice):
    token = echo.read_token()
    log_in(page, live_server, "alice")
    open_builder(page, live_server, echo)
    expect(page.locator("#snippet-body code")).to_contain_text("/echo")
    page.check("input[name=snippet-token][value=real]")
    expect(page.locator("#snippet-body code")).to_contain_text(token)
    assert AuditEvent.objects.count() == 1
    # An edit does not export again by itself: the panel says the snippet is stale.
    page.fill("#path", "/echo/other")
    expect(page.locator("#snippet-refresh")).to_be_visible()
    page.wait_for_timeout(600)
    assert AuditEvent.objects.count() == 1
    page.click("#snippet-refresh")
    expect(page.locator("#snippet-body code")).to_contain_text("/echo/other")
    expect(page.locator("#snippet-refresh")).to_be_hidden()
    assert AuditEvent.objects.count() == 2
    assert AuditEvent.objects.first().detail == {"target": "curl", "call": None}
    assert page.csp_errors == []


def test_the_key_mode_calls_the_gateway_and_says_where_to_make_a_key(live_server, page, echoed,
                                                                      bob):
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/calls/{echoed.pk}/")
    note = page.locator(".snippet-key-note")
    expect(note).to_be_hidden()

    page.check("input[name=snippet-token][value=key]")
    expect(note).to_be_visible()
    expect(note).to_contain_text("You have no active personal key")
    expect(note.locator("a")).to_have_attribute("href", "/account/keys/")
    curl = api_snippet(page, live_server, echoed, "curl", "key")
    assert f"curl '{live_server.url}/gw/demo-echo/echo?lang=zh'" in curl
    expect(page.locator("#snippet-body code")).to_have_text(curl)
    page.click("#snippet-tab-python")
    python = api_snippet(page, live_server, echoed, "python", "key")
    assert 'os.environ["EASPORTAL_KEY"]' in python
    expect(page.locator("#snippet-body code")).to_have_text(python)

    page.check("input[name=snippet-token][value=env]")
    expect(note).to_be_hidden()
    expect(page.locator("#snippet-body code")).to_have_text(
        api_snippet(page, live_server, echoed, "python"))
    assert echoed.service.read_token() not in page.content()
    assert AuditEvent.objects.count() == 0
    assert page.csp_errors == []
    # The link leads to the keys page.
    page.check("input[name=snippet-token][value=key]")
    note.locator("a").click()
    page.wait_for_url(f"{live_server.url}/account/keys/")


def test_the_builders_key_snippet_follows_the_form(live_server, page, echo, bob):
    keys.make(bob, "laptop", None)
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    code = page.locator("#snippet-body code")
    expect(code).to_contain_text("/echo")
    page.check("input[name=snippet-token][value=key]")
    expect(code).to_contain_text(f"'{live_server.url}/gw/demo-echo/echo'")
    expect(code).to_contain_text('"Authorization: Bearer ${EASPORTAL_KEY}"')
    note = page.locator(".snippet-key-note")
    expect(note).to_be_visible()
    expect(note).not_to_contain_text("no active personal key")
    # An edit makes the snippet again by itself: nothing secret is handed out.
    page.fill("#path", "/echo/other")
    expect(code).to_contain_text(f"'{live_server.url}/gw/demo-echo/echo/other'")
    expect(page.locator("#snippet-refresh")).to_be_hidden()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVEALED).exists()
    assert page.csp_errors == []


TRICKY = [
    ("shell", "curl 'a' \"b $X\" $'\\x00' # c\ncat <<'EOF'\nit's\nEOF\necho 42 ${EAS_TOKEN}"),
    ("python", "import os  # c\nx = b'\\xff' + r\"\\d\" + '''a\n'b'''\nif x: print(1.5e3, None)"),
    ("javascript", "// c\n/* d\n*/ const a = `t${1}`; await fetch('u', {n: 0x1F});"),
    ("python", "'unterminated\n\"also"),
    ("shell", "</code><script>alert(1)</script>"),
    ("unknown", "plain <b>text</b>"),
]


@pytest.fixture(scope="module")
def highlight_page(browser, live_server):
    """A page of the portal, under its Content-Security-Policy, to import highlight.js into."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    yield page
    context.close()


def highlight_tokens(page, text, language):
    return page.evaluate("async ([url, t, l]) => (await import(url)).tokens(t, l)",
                         [static("js/highlight.js"), text, language])


@pytest.mark.parametrize("language, text", TRICKY)
def test_highlighting_keeps_every_character_and_builds_no_markup(highlight_page, language,
                                                                   text):
    tokens = highlight_tokens(highlight_page, text, language)
    assert "".join(piece for _kind, piece in tokens) == text
    rendered = highlight_page.evaluate("""async ([url, t, l]) => {
        const highlight = await import(url);
        const code = document.createElement("code");
        highlight.render(code, t, l);
        return {text: code.textContent, elements: code.querySelectorAll("*").length,
                spans: code.querySelectorAll("span").length};
    }""", [static("js/highlight.js"), text, language])
    assert rendered["text"] == text
    assert rendered["elements"] == rendered["spans"]  # nothing but the highlighter's spans


def test_highlighting_finds_strings_comments_keywords_and_numbers(highlight_page):
    def kinds(text, language):
        return {piece: kind for kind, piece in highlight_tokens(highlight_page, text, language)
                if kind}

    assert kinds("# note\ncurl 'u' -H \"A: ${EAS_TOKEN}\" --max-time 60", "shell") == {
        "# note": "comment", "'u'": "string", '"A: ${EAS_TOKEN}"': "string", "60": "number"}
    assert kinds("import os\nx = os.environ[\"T\"]  # t\nif x: y = 2.5", "python") == {
        "import": "keyword", '"T"': "string", "# t": "comment", "if": "keyword", "2.5": "number"}
    assert kinds("const r = await fetch('u'); // x", "javascript") == {
        "const": "keyword", "await": "keyword", "'u'": "string", "// x": "comment"}
    # A keyword inside a longer name is not one.
    assert kinds("imported = ifx", "python") == {}
