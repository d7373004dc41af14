"""The keys page (/account/keys/) through Django's test client: a person's own keys listed,
made (shown once, kept only as a hash), revoked; and "Call it from code" on a service's page."""

import hashlib
import logging
import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from services import keys, snippets
from services.models import ApiKey, AuditEvent, Service
from services.views import keys as key_views
from services.views.builder import starting_request
from tests.helpers import all_table_text, logged_in, make_service

KEY = re.compile(r'<code id="new-key">(eap_[A-Za-z0-9_-]+)</code>')


def make_key(client, name="ci", expires=""):
    """Makes a key through the form; (the redirect, the page after it, the key shown there)."""
    made = client.post(reverse("account_keys"), {"name": name, "expires": expires})
    assert made.status_code == 302 and made["Location"] == reverse("account_keys")
    page = client.get(reverse("account_keys"))
    shown = KEY.search(page.text)
    assert shown, page.text
    return made, page, shown.group(1)


def in_days(days):
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def test_the_pages_require_login(bob):
    key = keys.make(bob, "ci", None)[0]
    for url in (reverse("account_keys"), reverse("account_key_revoke", args=[key.pk])):
        for method in ("get", "post"):
            response = getattr(Client(), method)(url, {"name": "x"})
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/accounts/login/?next=")
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().active


def test_the_header_links_the_keys_page(service, bob):
    page = logged_in(bob).get(reverse("service_list"))
    assert f'<a href="{reverse("account_keys")}">API keys</a>' in page.text


def test_a_new_key_is_shown_once_and_kept_as_a_hash(bob, caplog):
    caplog.set_level(logging.DEBUG)
    client = logged_in(bob)
    made, page, raw = make_key(client, "laptop")
    assert raw.startswith("eap_") and len(raw) == 47
    key = ApiKey.objects.get()
    assert (key.user, key.name, key.expires_at) == (bob, "laptop", None)
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.prefix == raw[:12] and f"{key.prefix}…" in page.text
    assert "you will not see it again" in page.text
    assert page.text.count(raw) == 1
    event = AuditEvent.objects.get()
    assert (event.action, event.user, event.detail["id"]) == ("key.created", bob, key.pk)
    # The key never rests in plain: not in any table (the sessions' included), cookie, message,
    # URL or log line, and the page that shows it is not kept by the browser.
    assert raw not in all_table_text()
    assert raw not in str(made.cookies) + str(page.cookies) + made["Location"]
    assert all(raw not in str(message) for message in page.context["messages"])
    assert raw not in caplog.text
    assert "no-store" in page["Cache-Control"]

    again = client.get(reverse("account_keys"))
    assert raw not in again.text and "new-key" not in again.text
    assert f"{key.prefix}…" in again.text


def test_the_key_waits_in_the_session_encrypted_and_leaves_it_when_shown(bob):
    client = logged_in(bob)
    client.post(reverse("account_keys"), {"name": "ci"})
    kept = client.session[key_views.NEW_KEY]
    assert set(kept) == {"id", "sealed", "at"} and not kept["sealed"].startswith("eap_")
    raw = KEY.search(client.get(reverse("account_keys")).text).group(1)
    assert raw not in str(kept)
    assert key_views.NEW_KEY not in client.session


def test_a_key_not_shown_soon_after_it_was_made_is_not_shown_later(bob, monkeypatch):
    client = logged_in(bob)
    client.post(reverse("account_keys"), {"name": "ci"})
    monkeypatch.setattr(key_views, "SHOWN_WITHIN_S", -1)
    page = client.get(reverse("account_keys"))
    assert "new-key" not in page.text and "eap_" in page.text  # the prefix, listed
    assert key_views.NEW_KEY not in client.session


def test_the_expiry_is_the_start_of_the_day_in_the_portals_time_zone(bob, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    day = in_days(30)
    _made, page, _raw = make_key(logged_in(bob), expires=day)
    expected = datetime.fromisoformat(day).replace(tzinfo=timezone.get_default_timezone())
    assert ApiKey.objects.get().expires_at == expected
    assert f"{day} 00:00" in page.text
    assert "Asia/Shanghai" in page.text  # the form says which day's start


def test_the_last_day_of_the_calendar_is_a_valid_expiry(bob):
    make_key(logged_in(bob), expires="9999-12-31")
    assert ApiKey.objects.get().expires_at.year == 9999


@pytest.mark.parametrize("name, expires, error", [
    ("", "", "This field is required."),
    ("   ", "", "This field is required."),
    ("x" * 101, "", "at most 100 characters"),
    ("a\x00b", "", "Null characters are not allowed."),
    ("ci", "today", "Choose a day after today"),
    ("ci", "yesterday", "Choose a day after today"),
    ("ci", "0001-01-01", "Choose a day after today"),
    ("ci", "2027-02-30", "Enter a valid date."),
    ("ci", "10000-01-01", "Enter a valid date."),
    ("ci", "next week", "Enter a valid date."),
    ("ci", "2027-01-01T00:00:00Z", "Enter a valid date."),
])
def test_bad_input_is_a_form_error(bob, name, expires, error):
    expires = {"today": in_days(0), "yesterday": in_days(-1)}.get(expires, expires)
    page = logged_in(bob).post(reverse("account_keys"), {"name": name, "expires": expires})
    assert page.status_code == 200
    assert error in page.content.decode()
    assert 'class="errorlist' in page.text
    assert ApiKey.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_making_a_key_needs_the_csrf_token(bob):
    client = logged_in(bob, enforce_csrf_checks=True)
    assert client.post(reverse("account_keys"), {"name": "ci"}).status_code == 403
    assert ApiKey.objects.count() == 0


def test_only_my_keys_that_are_not_revoked_are_listed(alice, bob):
    mine = keys.make(bob, "bobs-ci", None)[0]
    gone = keys.make(bob, "bobs-old", None)[0]
    keys.revoke(gone, bob)
    theirs = keys.make(alice, "alices-laptop", None)[0]
    page = logged_in(bob).get(reverse("account_keys"))
    assert list(page.context["keys"]) == [mine]
    assert "bobs-ci" in page.text and mine.prefix in page.text
    for hidden in (gone, theirs):
        assert hidden.name not in page.text and hidden.prefix not in page.text


def test_the_list_shows_use_and_expiry(bob):
    keys.make(bob, "unused", None)
    used = keys.make(bob, "used", timezone.now() + timedelta(days=3))[0]
    ApiKey.objects.filter(pk=used.pk).update(
        last_used_at=timezone.make_aware(datetime(2026, 5, 4, 3, 2)))
    keys.make(bob, "old", timezone.now() - timedelta(days=1))
    page = logged_in(bob).get(reverse("account_keys")).text
    rows = {name: re.search(rf"<td>{name}</td>(.*?)</tr>", page, re.DOTALL).group(1)
            for name in ("unused", "used", "old")}
    assert rows["unused"].count(">never<") == 2  # never used, never expires
    assert "2026-05-04 03:02" in rows["used"] and "expired" not in rows["used"]
    assert "expired" in rows["old"]


def test_revoking_asks_first_then_revokes_my_key(bob):
    key = keys.make(bob, "ci", None)[0]
    client = logged_in(bob)
    url = reverse("account_key_revoke", args=[key.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Revoke the key “ci”?" in confirm.text
    assert f'action="{url}"' in confirm.text and 'method="post"' in confirm.text
    key.refresh_from_db()
    assert key.active  # asking changed nothing

    done = client.post(url)
    assert done.status_code == 302 and done["Location"] == reverse("account_keys")
    key.refresh_from_db()
    assert key.revoked_at is not None and not key.active
    event = AuditEvent.objects.filter(action="key.revoked").get()
    assert (event.user, event.detail["id"]) == (bob, key.pk)
    page = client.get(reverse("account_keys"))
    assert key.prefix not in page.text
    assert "revoked" in page.text  # the message
    assert client.post(url).status_code == 404  # once only


def test_someone_elses_key_is_404_and_stays(alice, bob, root):
    key = keys.make(alice, "alices", None)[0]
    url = reverse("account_key_revoke", args=[key.pk])
    for user in (bob, root):  # keys are personal: a superuser does not see them either
        client = logged_in(user)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert client.post(reverse("account_key_revoke", args=[999999])).status_code == 404
    key.refresh_from_db()
    assert key.active and not AuditEvent.objects.filter(action="key.revoked").exists()


# "Call it from code" on a service's page: the default request as key-mode snippets

def from_code(client, service, host="portal.example.com"):
    page = client.get(reverse("service_detail", args=[service.slug]), HTTP_HOST=host)
    assert page.status_code == 200
    shown = page.context["from_code"]
    return shown, {example["name"]: example["text"] for example in shown["examples"]}, page.text


def test_the_service_page_shows_the_gateway_and_the_examples(service, bob, settings):
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    shown, examples, text = from_code(logged_in(bob), service)
    base = "http://portal.example.com/gw/chat"
    assert shown["base"] == base and shown["url"] == base + "/v1/chat/completions"
    assert f'id="gateway-base">{base}</dd>' in text
    assert list(examples) == ["openai", "curl", "eas_sdk"]
    assert f'base_url="{base}/v1"' in examples["openai"]
    assert 'api_key=os.environ["EASPORTAL_KEY"]' in examples["openai"]
    assert f"curl '{base}/v1/chat/completions'" in examples["curl"]
    assert '-H "Authorization: Bearer ${EASPORTAL_KEY}"' in examples["curl"]
    assert f"{base}/v1/chat/completions" in examples["eas_sdk"]
    assert 'os.environ["EASPORTAL_KEY"]' in examples["eas_sdk"]
    # They are the snippets of the default request, in key mode: one generator for both.
    request = snippets.via_gateway(snippets.from_request(service, starting_request(service)),
                                   "http://portal.example.com/")
    assert examples["curl"] == snippets.render(request, "curl", "key")
    assert f'href="{reverse("account_keys")}"' in text
    # Text, escaped; and no secret in it.
    assert "&quot;EASPORTAL_KEY&quot;" in text
    assert service.read_token() not in text


def test_the_examples_follow_the_https_host_the_page_was_asked_on(service, bob, settings):
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    page = logged_in(bob).get(reverse("service_detail", args=[service.slug]),
                              HTTP_HOST="portal.example.com", HTTP_X_FORWARDED_PROTO="https")
    assert page.context["from_code"]["base"] == "https://portal.example.com/gw/chat"
    assert page.context["from_code"]["url"].startswith("https://portal.example.com/gw/chat/")


def test_only_the_snippets_that_can_send_the_default_request_are_shown(acme, bob):
    body = '{"text": "it\'s $HOME `id` \\"q\\" 你好"}'
    processor = make_service(acme, slug="proc", kind="processor", default_path="score?a=1",
                             default_body=body)
    shown, examples, _text = from_code(logged_in(bob), processor, host="testserver")
    assert list(examples) == ["curl", "eas_sdk"]  # not an LLM: no OpenAI SDK
    assert shown["url"] == "http://testserver/gw/proc/score?a=1"
    get = make_service(acme, slug="models", default_method="GET", default_path="/v1/models",
                       default_body="")
    _shown, examples, _text = from_code(logged_in(bob), get, host="testserver")
    assert "eas_sdk" not in examples  # the eas-prediction SDK only posts
    assert "--data" not in examples["curl"]


def test_a_default_request_no_call_could_send_still_shows_the_address(acme, bob):
    broken = make_service(acme, slug="broken", default_path="/v1/x")
    Service.objects.filter(pk=broken.pk).update(default_path="//elsewhere/x")
    shown, examples, _text = from_code(logged_in(bob), broken, host="testserver")
    assert shown["base"] == "http://testserver/gw/broken" and examples == {}
