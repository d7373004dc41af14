"""Saved requests and the history's export in Chromium, against the live portal and the local
EAS emulator: Save as… and Save in the builder, reopening from the service page, Save disabled
for a member who did not save it, "Save this request" on a call's page, Send and Delete on the
service page, and the export's downloads. The curl import: test_curl_import_browser.py."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from services import calls
from services.calls import REDACTED, CallRequest
from services.models import Call, Membership, Role, SavedRequest
from tests.helpers import log_in, make_call, make_user, open_builder


def keep(service, user, **fields):
    """A saved request of the service, as the API would keep it."""
    values = {"name": "Echo hello", "description": "", "endpoint": "public", "method": "POST",
              "path": "/echo?from=saved", "header_pairs": [["Content-Type", "text/plain"]],
              "body": b"hello from a saved request"}
    values.update(fields)
    return SavedRequest.objects.create(service=service, created_by=user,
                                       created_by_name=user.username, **values)


def header_rows(page):
    """{name: (value, redacted note or "")} of the builder's header rows."""
    rows = {}
    for row in page.locator("tr.header-row").all():
        note = row.locator(".redacted-note")
        rows[row.locator(".header-name").input_value()] = (
            row.locator(".header-value").input_value(),
            note.text_content() if note.count() else "")
    return rows


def save_as(page, name, description=""):
    page.click("#save-as")
    expect(page.locator("#save-dialog")).to_be_visible()
    page.fill("#save-name", name)
    page.fill("#save-description", description)
    with page.expect_response(re.compile(r"/api/services/[^/]+/requests$")) as answer:
        page.click("#save-dialog-save")
    return answer.value


@pytest.fixture
def dave(acme):
    """Another member of acme."""
    user = make_user("dave")
    Membership.objects.create(team=acme, user=user, role=Role.MEMBER)
    return user


def test_save_as_reload_reopen_from_the_service_page_and_save_a_change(live_server, page, echo,
                                                                       bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    expect(page.locator("#saved-head")).to_be_hidden()
    page.select_option("#method", "PUT")
    page.fill("#path", "/echo?x=1")
    page.click("#add-header")
    page.locator("tr.header-row .header-name").last.fill("X-Trace")
    page.locator("tr.header-row .header-value").last.fill("t-7")
    page.click("#add-header")
    page.locator("tr.header-row .header-name").last.fill("X-Api-Key")
    page.locator("tr.header-row .header-value").last.fill("my-secret-key")
    page.fill("#body", "hello")

    answer = save_as(page, "Echo hello", "Says hello to the echo.")
    assert answer.status == 201
    kept = SavedRequest.objects.get()
    expect(page.locator("#save-dialog")).to_be_hidden()
    page.wait_for_url(f"{live_server.url}/services/demo-echo/builder/?saved={kept.pk}")
    expect(page.locator("#save-message")).to_have_text(
        "Saved as “Echo hello”: this page now edits it.")
    expect(page.locator("#saved-name")).to_have_text("Echo hello")
    expect(page.locator("#saved-description")).to_have_text("Says hello to the echo.")
    assert (kept.method, kept.path, bytes(kept.body)) == ("PUT", "/echo?x=1", b"hello")
    assert kept.headers == {"Content-Type": "application/json", "X-Trace": "t-7",
                            "X-Api-Key": REDACTED}
    assert kept.created_by == bob and kept.description == "Says hello to the echo."

    # The ?saved= URL, loaded afresh: the same request, the secret header to fill in.
    page.reload()
    expect(page.locator("#saved-name")).to_have_text("Echo hello")
    assert page.input_value("#method") == "PUT"
    assert page.input_value("#path") == "/echo?x=1"
    assert page.input_value("#body") == "hello"
    assert header_rows(page) == {"Content-Type": ("application/json", ""),
                                 "X-Trace": ("t-7", ""),
                                 "X-Api-Key": ("", "re-enter: kept redacted")}
    expect(page.locator("#save")).to_be_enabled()

    # Save: the change, the redacted header left empty stays the placeholder (not lost).
    page.fill("#path", "/echo?x=2")
    page.fill("#body", "hello again")
    with page.expect_response(re.compile(rf"/api/requests/{kept.pk}$")) as answer:
        page.click("#save")
    assert answer.value.request.method == "PATCH" and answer.value.status == 200
    expect(page.locator("#save-message")).to_have_text("Saved “Echo hello”.")
    kept.refresh_from_db()
    assert (kept.path, bytes(kept.body)) == ("/echo?x=2", b"hello again")
    assert kept.headers["X-Api-Key"] == REDACTED
    assert SavedRequest.objects.count() == 1

    # The service page lists it; Open in builder brings it back.
    page.click("h1 a:has-text('Demo Echo')")
    page.wait_for_url(f"{live_server.url}/services/demo-echo/")
    row = page.locator(f"tr.saved-row[data-saved-id='{kept.pk}']")
    expect(row).to_contain_text("Echo hello")
    expect(row).to_contain_text("PUT /echo?x=2")
    expect(row).to_contain_text("Says hello to the echo.")
    expect(row).to_contain_text("bob")
    row.locator("a.saved-open").click()
    page.wait_for_url(f"{live_server.url}/services/demo-echo/builder/?saved={kept.pk}")
    assert page.input_value("#path") == "/echo?x=2"
    assert page.input_value("#body") == "hello again"
    assert page.csp_errors == []


def test_a_member_who_did_not_save_it_cannot_save_but_can_save_a_copy(live_server, page, echo,
                                                                     bob, dave):
    kept = keep(echo, bob)
    log_in(page, live_server, "dave")
    open_builder(page, live_server, echo, f"?saved={kept.pk}")
    save = page.locator("#save")
    expect(save).to_be_disabled()
    assert "Only bob, who saved this request" in save.get_attribute("title")
    assert page.input_value("#path") == "/echo?from=saved"

    page.fill("#body", "dave's version")
    # The dialog starts from the open request's name.
    page.click("#save-as")
    assert page.input_value("#save-name") == "Echo hello"
    page.fill("#save-name", "Dave's echo")
    with page.expect_response(re.compile(r"/api/services/demo-echo/requests$")):
        page.click("#save-dialog-save")
    copy = SavedRequest.objects.get(name="Dave's echo")
    page.wait_for_url(f"{live_server.url}/services/demo-echo/builder/?saved={copy.pk}")
    assert copy.created_by == dave and bytes(copy.body) == b"dave's version"
    assert bytes(SavedRequest.objects.get(pk=kept.pk).body) == b"hello from a saved request"
    # His own copy: Save works now.
    expect(save).to_be_enabled()
    assert save.get_attribute("title") is None
    page.fill("#body", "dave's second version")
    with page.expect_response(re.compile(rf"/api/requests/{copy.pk}$")):
        save.click()
    copy.refresh_from_db()
    assert bytes(copy.body) == b"dave's second version"
    assert page.csp_errors == []


def test_a_refused_save_shows_the_apis_reason_and_loses_nothing(live_server, page, echo, bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    page.fill("#body", "keep me")
    page.click("#add-header")
    page.locator("tr.header-row .header-name").last.fill("Authorization")
    page.locator("tr.header-row .header-value").last.fill("Bearer mine")
    # Save with nothing open is Save as…: the dialog.
    page.click("#save")
    page.fill("#save-name", "Refused")
    with page.expect_response(re.compile(r"/requests$")) as answer:
        page.click("#save-dialog-save")
    assert answer.value.status == 400
    expect(page.locator("#save-dialog-error")).to_contain_text("Leave out the Authorization")
    expect(page.locator("#save-dialog")).to_be_visible()
    assert page.input_value("#save-name") == "Refused"
    page.click("#save-dialog-cancel")
    expect(page.locator("#save-dialog")).to_be_hidden()
    assert page.input_value("#body") == "keep me"
    assert page.url.endswith("/builder/")
    assert SavedRequest.objects.count() == 0

    # Without the header it saves.
    page.locator("tr.header-row .remove-header").last.click()
    assert save_as(page, "Accepted").status == 201
    assert SavedRequest.objects.get().name == "Accepted"
    assert page.csp_errors == []


def test_save_this_request_from_a_calls_page(live_server, page, echo, bob):
    call = calls.call(bob, echo, CallRequest(
        method="POST", path="/echo?from=history",
        headers={"Content-Type": "text/plain", "X-Api-Key": "history-key"}, body=b"as sent"))
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/calls/{call.pk}/")
    page.click("#save-call")
    page.fill("#save-name", "From history")
    page.fill("#save-description", "What bob sent.")
    with page.expect_response(re.compile(r"/api/services/demo-echo/requests$")) as answer:
        page.click("#save-dialog-save")
    assert answer.value.status == 201
    kept = SavedRequest.objects.get()
    assert (kept.name, kept.description, kept.path) == ("From history", "What bob sent.",
                                                        "/echo?from=history")
    assert kept.headers == {"Content-Type": "text/plain", "X-Api-Key": REDACTED}
    message = page.locator("#save-call-message")
    expect(message).to_contain_text("Saved as “From history”.")
    page.click("#saved-call-link")
    page.wait_for_url(f"{live_server.url}/services/demo-echo/builder/?saved={kept.pk}")
    expect(page.locator("#saved-name")).to_have_text("From history")
    assert page.input_value("#body") == "as sent"
    assert header_rows(page)["X-Api-Key"] == ("", "re-enter: kept redacted")
    assert page.csp_errors == []


def test_send_and_delete_from_the_service_page(live_server, page, echo, bob, emulator_received):
    ready = keep(echo, bob, name="Ready", path="/echo?from=service-page")
    redacted = keep(echo, bob, name="Needs a key",
                    header_pairs=[["Content-Type", "text/plain"], ["X-Api-Key", REDACTED]])
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/services/demo-echo/")

    # A request that holds a redacted value is not sent: the reason, beside its row.
    row = page.locator(f"tr.saved-row[data-saved-id='{redacted.pk}']")
    row.locator(".saved-send").click()
    expect(row.locator(".saved-problem")).to_contain_text("X-Api-Key")
    assert emulator_received == [] and Call.objects.count() == 0

    page.locator(f"tr.saved-row[data-saved-id='{ready.pk}'] .saved-send").click()
    page.wait_for_url(re.compile(r"/calls/\d+/$"))
    call = Call.objects.get()
    assert page.url == f"{live_server.url}/calls/{call.pk}/"
    assert (call.status, call.path, call.user) == (200, "/echo?from=service-page", bob)
    assert emulator_received[-1]["body"] == b"hello from a saved request"
    expect(page.locator("h1")).to_contain_text(f"Call #{call.pk}")

    # Delete asks first: dismissed, nothing happens; accepted, the row goes.
    page.goto(f"{live_server.url}/services/demo-echo/")
    row = page.locator(f"tr.saved-row[data-saved-id='{ready.pk}']")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator(".saved-delete").click()
    expect(row).to_be_visible()
    assert SavedRequest.objects.filter(pk=ready.pk).exists()
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    with page.expect_response(re.compile(rf"/api/requests/{ready.pk}$")):
        row.locator(".saved-delete").click()
    expect(row).to_have_count(0)
    assert "“Ready”" in messages[0]
    assert not SavedRequest.objects.filter(pk=ready.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"tr.saved-row[data-saved-id='{redacted.pk}'] .saved-delete").click()
    expect(page.locator("#saved-empty")).to_be_visible()
    expect(page.locator("table.saved")).to_be_hidden()
    assert page.csp_errors == []


def test_a_member_sees_delete_only_for_his_own(live_server, page, echo, alice, bob):
    hers, mine = keep(echo, alice, name="Hers"), keep(echo, bob, name="Mine")
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/services/demo-echo/")
    expect(page.locator(f"tr[data-saved-id='{hers.pk}'] .saved-delete")).to_have_count(0)
    expect(page.locator(f"tr[data-saved-id='{mine.pk}'] .saved-delete")).to_have_count(1)
    # The snippet menu: a ready-to-run curl of it.
    row = page.locator(f"tr[data-saved-id='{hers.pk}']")
    row.locator(".snippet-menu summary").click()
    link = row.locator(".snippet-menu a", has_text="curl")
    expect(link).to_be_visible()
    response = page.context.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200 and "/echo?from=saved" in response.text()


def test_exporting_the_filtered_history(live_server, page, echo, alice, bob):
    mine = [make_call(echo, bob, path=f"/echo/{n}", url=f"{echo.public_endpoint}/echo/{n}")
            for n in range(3)]
    make_call(echo, alice, path="/echo/alice")
    log_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/calls/?user=bob&path=echo&cursor=999999")
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    assert [int(row["id"]) for row in rows] == [call.pk for call in reversed(mine)]
    assert {row["user"] for row in rows} == {"bob"}
    assert rows[0]["url"] == f"{echo.public_endpoint}/echo/2"

    with page.expect_download() as download_info:
        page.click("#export-jsonl")
    download = download_info.value
    assert download.suggested_filename.endswith(".jsonl")
    lines = Path(download.path()).read_text("utf-8").splitlines()
    exported = [json.loads(line) for line in lines]
    assert [call["id"] for call in exported] == [call.pk for call in reversed(mine)]
    assert exported[0]["request_headers"]["Authorization"] == REDACTED
    assert page.csp_errors == []
