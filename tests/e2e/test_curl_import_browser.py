"""The builder's curl import in Chromium, against the live portal and the local EAS emulator:
a pasted command fills the form and is sent as it was, an option the import refuses keeps the
dialog and its text, and a command of another service, or of no service, says so."""

import re

from playwright.sync_api import expect

from services.models import Call, SavedRequest
from tests.helpers import log_in, open_builder


def import_command(page, command):
    page.click("#import-curl")
    expect(page.locator("#import-dialog")).to_be_visible()
    page.fill("#curl-command", command)
    with page.expect_response(re.compile(r"/api/import/curl$")) as answer:
        page.click("#import-dialog-import")
    return answer.value


def header_rows(page):
    return [(row.locator(".header-name").input_value(),
             row.locator(".header-value").input_value())
            for row in page.locator("tr.header-row").all()]


def test_a_curl_command_fills_the_form_and_sends_as_it_would(live_server, page, echo, bob,
                                                             emulator, emulator_received):
    base = emulator.base("demo-echo")
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    page.select_option("#method", "GET")
    command = (f"curl -X POST {base}/echo?lang=en \\\n  -H 'Content-Type: text/plain' "
               f"-H 'X-Trace: t' -H 'Authorization: Bearer pasted' --data-raw 'hi'")
    assert import_command(page, command).status == 200
    expect(page.locator("#import-dialog")).to_be_hidden()
    assert page.input_value("#method") == "POST"
    assert page.input_value("#path") == "/echo?lang=en"
    assert header_rows(page) == [("Content-Type", "text/plain"), ("X-Trace", "t")]
    assert page.input_value("#body") == "hi"
    expect(page.locator("#full-url")).to_have_text(f"{base}/echo?lang=en")
    # The API's notes, shown: here, that Authorization was left out.
    notes = page.locator("#import-notes li")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("Authorization")
    expect(page.locator("#import-service")).to_be_hidden()

    with page.expect_response(re.compile(r"/api/services/demo-echo/invoke$")):
        page.click("#send")
    expect(page.locator("#response-status")).to_have_text("200 OK")
    arrived = emulator_received[-1]
    assert arrived["body"] == b"hi"
    assert arrived["headers"]["X-Trace"] == "t"
    assert arrived["headers"]["Authorization"] == emulator.token("demo-echo")
    assert Call.objects.get().path == "/echo?lang=en"

    # What was imported saves like anything else in the form.
    page.click("#save-as")
    page.fill("#save-name", "Imported")
    with page.expect_response(re.compile(r"/requests$")):
        page.click("#save-dialog-save")
    kept = SavedRequest.objects.get()
    assert (kept.method, kept.path, bytes(kept.body)) == ("POST", "/echo?lang=en", b"hi")
    assert kept.headers == {"Content-Type": "text/plain", "X-Trace": "t"}
    assert page.csp_errors == []


def test_an_option_the_import_refuses_keeps_the_dialog_and_the_text(live_server, page, echo,
                                                                    bob, emulator):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    path_before, body_before = page.input_value("#path"), page.input_value("#body")
    command = f"curl {emulator.base('demo-echo')}/echo -F 'file=@photo.jpg'"
    answer = import_command(page, command)
    assert answer.status == 400
    error = page.locator("#import-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(answer.json()["detail"])
    expect(error).to_contain_text("-F")
    expect(page.locator("#import-dialog")).to_be_visible()
    assert page.input_value("#curl-command") == command
    # The form is as it was.
    page.click("#import-dialog-cancel")
    assert (page.input_value("#path"), page.input_value("#body")) == (path_before, body_before)
    expect(page.locator("#import-result")).to_be_hidden()

    # Fixed in the dialog, it imports; the error is gone the next time.
    page.click("#import-curl")
    expect(error).to_be_hidden()
    page.fill("#curl-command", f"curl {emulator.base('demo-echo')}/echo -d 'fixed'")
    with page.expect_response(re.compile(r"/api/import/curl$")):
        page.click("#import-dialog-import")
    expect(page.locator("#import-dialog")).to_be_hidden()
    assert page.input_value("#body") == "fixed"
    assert page.csp_errors == []


def test_a_command_of_another_service_links_its_builder(live_server, page, echo, chat, bob,
                                                       emulator):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    command = (f"curl {emulator.base('demo-chat')}/v1/models "
               "-H 'Accept: application/json'")
    assert import_command(page, command).status == 200
    service = page.locator("#import-service")
    expect(service).to_contain_text("“demo-chat”, not this one")
    link = page.locator("#import-other-service")
    expect(link).to_have_attribute("href", "/services/demo-chat/builder/")
    # The form has the request anyway.
    assert page.input_value("#method") == "GET"
    assert page.input_value("#path") == "/v1/models"
    link.click()
    page.wait_for_url(f"{live_server.url}/services/demo-chat/builder/")
    assert page.csp_errors == []


def test_a_command_of_no_registered_service_says_so(live_server, page, echo, bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    assert import_command(page, "curl 'http://127.0.0.1:9/elsewhere/run?x=1' "
                                "--data-binary $'\\xff\\xfe'").status == 200
    expect(page.locator("#import-service")).to_have_text(
        "No registered service has this command's address: the form has its method, path, "
        "headers and body.")
    notes = page.locator("#import-notes")
    expect(notes).to_contain_text("No service of yours")
    # A binary body: not editable here, said so.
    expect(notes).to_contain_text("binary (2 bytes)")
    assert page.input_value("#path") == "/elsewhere/run?x=1"
    assert page.input_value("#body") == ""
    # Save as… keeps the bytes while the body field stays empty.
    page.click("#save-as")
    page.fill("#save-name", "Binary")
    with page.expect_response(re.compile(r"/requests$")):
        page.click("#save-dialog-save")
    assert bytes(SavedRequest.objects.get().body) == b"\xff\xfe"
    assert page.csp_errors == []
