"""The keys page in Chromium, against the live portal and the local EAS emulator: a key made,
copied the one time it is shown (the clipboard API, and the fallback plain http needs), hidden
after a reload, used through the gateway as the service page says, and revoked."""

import hashlib
import json
import os
import re
import subprocess
from datetime import timedelta

import requests
from django.utils import timezone
from playwright.sync_api import expect

from services.models import ApiKey, Call
from tests.helpers import clipboard_reader, log_in, without_clipboard_api

CLIPBOARD = ["clipboard-read", "clipboard-write"]


def make_key(page, live_server, name, expires=""):
    """Makes a key through the form, from the header's link; the key as the page shows it."""
    page.click("nav >> text=API keys")
    page.wait_for_url(f"{live_server.url}/account/keys/")
    page.fill("input[name=name]", name)
    if expires:
        page.fill("input[name=expires]", expires)
    page.click("#key-form button[type=submit]")
    expect(page.locator("#new-key")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text(f"Key “{name}” made.")
    expect(page.locator("#new-key-copy")).to_be_visible()  # keys.js has run
    return page.locator("#new-key").text_content()


def gateway(live_server, slug, key, path="/echo"):
    return requests.post(f"{live_server.url}/gw/{slug}{path}", data=b'{"from": "a script"}',
                         headers={"Authorization": f"Bearer {key}",
                                  "Content-Type": "application/json"}, timeout=30)


def test_a_key_is_made_copied_once_works_through_the_gateway_and_is_revoked(
        live_server, page, echo, bob):
    page.context.grant_permissions(CLIPBOARD, origin=live_server.url)
    log_in(page, live_server, "bob")
    expires = (timezone.localdate() + timedelta(days=30)).isoformat()
    shown = make_key(page, live_server, "laptop", expires)
    expect(page.locator("#new-key-panel")).to_contain_text("you will not see it again")

    page.click("#new-key-copy")
    expect(page.locator("#new-key-state")).to_have_text("Copied.")
    key = page.evaluate("navigator.clipboard.readText()")
    assert key == shown and re.fullmatch(r"eap_[A-Za-z0-9_-]{43}", key)
    stored = ApiKey.objects.get()
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    row = page.locator(f"#key-{stored.pk}")
    expect(row).to_contain_text(f"{key[:12]}…")
    expect(row).to_contain_text(f"{expires} 00:00")

    # Reloaded, the page lists the key by its prefix only.
    page.reload()
    expect(page.locator(f"#key-{stored.pk}")).to_contain_text(f"{key[:12]}…")
    expect(page.locator("#new-key")).to_have_count(0)
    assert key not in page.content()

    # The copied key calls the service through the gateway, as a script would ...
    answer = gateway(live_server, echo.slug, key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["body"] == '{"from": "a script"}'
    assert answer.json()["headers"]["Authorization"] == "[redacted]"  # the service's token
    assert Call.objects.get().source == "gateway"
    # ... and so does the service page's curl example, run as it is shown.
    page.goto(f"{live_server.url}/services/{echo.slug}/")
    example = page.locator("#from-code-curl").text_content()
    assert f"{live_server.url}/gw/{echo.slug}/echo" in example
    run = subprocess.run(["bash", "-c", example.rstrip("\n") + " --silent --show-error --fail"],
                         env={"PATH": os.environ["PATH"], "EASPORTAL_KEY": key},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["method"] == "POST"
    page.click("#from-code a:has-text('your keys page')")
    page.wait_for_url(f"{live_server.url}/account/keys/")
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.locator(f"#key-{stored.pk} td").nth(3)).not_to_have_text("never")

    # Revoke asks first; then the key is gone from the list and refused.
    page.locator(f"#key-{stored.pk}").get_by_role("link", name="Revoke").click()
    expect(page.locator("h1")).to_contain_text("Revoke the key “laptop”?")
    page.click("#confirm-revoke")
    page.wait_for_url(f"{live_server.url}/account/keys/")
    expect(page.locator(".messages")).to_contain_text("revoked")
    expect(page.locator(f"#key-{stored.pk}")).to_have_count(0)
    assert gateway(live_server, echo.slug, key).status_code == 401
    assert page.csp_errors == []


def test_copy_works_without_the_clipboard_api(live_server, page, bob):
    """Plain http (not localhost) has no navigator.clipboard: util.js copies through a
    selected textarea, which it then removes."""
    without_clipboard_api(page)
    log_in(page, live_server, "bob")
    reader = clipboard_reader(page, live_server, "/account/keys/")

    key = make_key(page, live_server, "ci")
    assert page.evaluate("navigator.clipboard === undefined")
    page.click("#new-key-copy")
    expect(page.locator("#new-key-state")).to_have_text("Copied.")
    assert page.evaluate("window.copyCommands") == 1
    assert page.locator("textarea.copy-buffer").count() == 0  # cleaned up
    expect(page.locator("#new-key-copy")).to_be_focused()
    assert reader.evaluate("navigator.clipboard.readText()") == key
    assert page.csp_errors == []
