"""The snippet panel on a call's page (rendered there, env and placeholder) and on the builder
(filled in by the API); the real token offered to maintainers only, the personal key (key mode)
to everyone, with where to make one for who has none."""

import re
from datetime import timedelta
from html import escape

from django.urls import reverse
from django.utils import timezone

from services import keys, snippets
from services.calls import REDACTED
from services.errors import Refusal
from services.models import AuditEvent
from services.views.snippet_panel import has_active_key
from tests.helpers import TOKEN, logged_in, make_call, module_scripts


def detail_page(client, call):
    return client.get(reverse("call_detail", args=[call.pk]))


def templates_of(response):
    """{(target, mode): text} of the snippets waiting in <template>s."""
    return {(target, mode): text for target, mode, text in re.findall(
        r'<template data-snippet-text data-target="(\w+)" data-mode="(\w+)">(.*?)</template>',
        response.text, re.DOTALL)}


def tab_targets(response):
    return re.findall(r'<button type="button" role="tab" class="snippet-tab[^"]*" '
                      r'id="snippet-tab-(\w+)"', response.text)


def test_a_calls_page_shows_the_env_curl_snippet_and_every_other_one(call, bob):
    response = detail_page(logged_in(bob), call)
    assert response.status_code == 200
    request = snippets.from_call(call)
    curl = snippets.render(request, "curl", "env")
    assert f'<code data-target="curl" data-mode="env">{escape(curl)}</code>' in response.text
    assert tab_targets(response) == list(snippets.NAMES)
    for target in snippets.NAMES:
        assert f">{escape(snippets.TARGETS[target].label)}</button>" in response.text
    waiting = templates_of(response)
    for target in snippets.TARGETS:
        if snippets.unavailable_reason(request, target):
            continue
        for mode in ("env", "placeholder"):
            if (target, mode) != ("curl", "env"):
                assert waiting[(target, mode)] == escape(snippets.render(request, target, mode))
    assert ("curl", "env") not in waiting  # shown already, not twice
    assert TOKEN not in response.text
    # snippets.js brings in highlight.js itself (tests/pages/test_static_files.py).
    assert module_scripts(response) == ["hints", "snippets", "call_save"]


def test_snippet_text_is_escaped_on_the_page(service, bob):
    attack = "</code></pre><script>alert(1)</script><img src=x onerror=alert(2)>"
    call = make_call(service, bob, request_headers={"Content-Type": "text/plain",
                                                    "X-Note": attack},
                     request_body=attack.encode())
    response = detail_page(logged_in(bob), call)
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert escape(response.context["snippet_panel"]["initial"]) in response.text


def test_the_panel_asks_the_api_only_for_what_the_page_lacks(call, bob):
    response = detail_page(logged_in(bob), call)
    config = response.context["snippet_panel"]["config"]
    assert config["url"] == f"/api/calls/{call.pk}/snippet"
    assert 'id="snippet-config" type="application/json"' in response.text


def test_redacted_headers_are_named_placeholders_and_the_page_says_so(service, bob):
    call = make_call(service, bob, request_headers={
        "Content-Type": "application/json", "Authorization": REDACTED, "X-Api-Key": REDACTED,
        "X-Trace": "abc-123"})
    response = detail_page(logged_in(bob), call)
    notes = response.context["snippet_panel"]["notes"]
    assert len(notes) == 1 and "X-Api-Key" in notes[0] and "named placeholder" in notes[0]
    assert escape(notes[0]) in response.text
    curl = response.context["snippet_panel"]["initial"]
    assert "X-Api-Key" in curl and "abc-123" in curl
    key_line = next(line for line in curl.splitlines() if "X-Api-Key" in line)
    assert REDACTED not in key_line  # a placeholder that names the header, not "[redacted]"
    assert "<X_API_KEY>" in key_line
    assert escape("<X_API_KEY>") in response.text


def test_a_token_redacted_in_the_url_or_body_is_noted(service, bob):
    call = make_call(service, bob, request_body=f'{{"key": "{REDACTED}"}}'.encode())
    notes = detail_page(logged_in(bob), call).context["snippet_panel"]["notes"]
    assert any(REDACTED in note and "URL or body" in note for note in notes)
    clean = detail_page(logged_in(bob), make_call(service, bob))
    assert clean.context["snippet_panel"]["notes"] == []


def test_a_target_that_cannot_express_the_call_is_marked_with_its_reason(service, bob):
    call = make_call(service, bob, method="PUT", path="/echo/raw",
                     url=service.public_endpoint + "/echo/raw",
                     request_headers={"Content-Type": "application/octet-stream"},
                     request_body=b"\xff\x00\xfe")
    response = detail_page(logged_in(bob), call)
    request = snippets.from_call(call)
    reasons = {target: snippets.unavailable_reason(request, target)
               for target in snippets.TARGETS}
    assert any(reasons.values())
    for target, reason in reasons.items():
        tab = re.search(rf'<button [^>]*id="snippet-tab-{target}"[^>]*>', response.text).group(0)
        if reason:
            assert "unavailable" in tab and f'data-reason="{escape(reason)}"' in tab
            assert (target, "env") not in templates_of(response)
        else:
            assert "unavailable" not in tab and "aria-disabled" not in tab


def test_a_target_that_fails_to_render_is_marked_not_a_crash(call, bob,
                                                             monkeypatch):
    render = snippets.render

    def failing(request, target, *args, **kwargs):
        if target == "httpie":
            raise Refusal(400, "HTTPie cannot say this.")
        return render(request, target, *args, **kwargs)

    monkeypatch.setattr(snippets, "render", failing)
    response = detail_page(logged_in(bob), call)
    assert response.status_code == 200
    tab = re.search(r'<button [^>]*id="snippet-tab-httpie"[^>]*>', response.text).group(0)
    assert 'data-reason="HTTPie cannot say this."' in tab
    assert ("python", "env") in templates_of(response)


def test_a_large_body_renders_only_the_first_snippet(service, bob):
    call = make_call(service, bob, request_body=b'{"x": "' + b"a" * 70_000 + b'"}')
    response = detail_page(logged_in(bob), call)
    assert response.status_code == 200
    assert list(templates_of(response)) == [("curl", "placeholder")]
    assert response.text.count("a" * 70_000) == 3  # the request body, env and placeholder


def test_the_real_token_is_offered_to_maintainers_only(call, service, alice, bob):
    real = 'name="snippet-token" value="real"'
    assert real not in detail_page(logged_in(bob), call).text
    response = detail_page(logged_in(alice), call)
    assert real in response.text and f"{real} disabled" not in response.text
    assert "every such export is recorded" in response.text
    assert TOKEN not in response.text
    assert not AuditEvent.objects.exists()  # nothing exported until asked


def test_a_deleted_service_has_no_real_token_to_offer(call, service, alice):
    service.delete()
    response = detail_page(logged_in(alice), call)
    assert 'name="snippet-token" value="real" disabled' in response.text
    assert "no token to export" in response.text
    assert response.context["snippet_panel"]["initial"]  # env still there


def test_the_builder_page_has_the_panel_filled_in_by_the_api(service, alice, bob):
    response = logged_in(bob).get(reverse("service_builder", args=[service.slug]))
    assert response.status_code == 200
    assert 'id="snippet-panel"' in response.text and 'data-source="builder"' in response.text
    assert tab_targets(response) == list(snippets.NAMES)
    panel = response.context["snippet_panel"]
    assert panel["config"]["url"] == "/api/snippet"
    assert panel["config"]["service"] == "chat"
    assert templates_of(response) == {}
    assert 'name="snippet-token" value="real"' not in response.text
    assert 'src="/static/js/snippets.' in response.text
    response = logged_in(alice).get(reverse("service_builder", args=[service.slug]))
    assert 'name="snippet-token" value="real"' in response.text
    assert TOKEN not in response.text


def test_outsiders_see_no_panel_at_all(call, globex, charlie):
    assert detail_page(logged_in(charlie), call).status_code == 404


# The personal key (key mode), for everyone

KEY_RADIO = 'name="snippet-token" value="key"'
NO_KEY = "You have no active personal key"


def key_note(response):
    return re.search(r'<p class="snippet-key-note[^"]*"[^>]*>.*?</p>', response.text,
                     re.DOTALL).group(0)


def test_the_key_mode_is_offered_to_members_and_maintainers_alike(call, service, alice, bob):
    for user in (bob, alice):
        for response in (detail_page(logged_in(user), call),
                         logged_in(user).get(reverse("service_builder", args=[service.slug]))):
            modes = re.findall(r'name="snippet-token" value="(\w+)"', response.text)
            assert modes == (["env", "placeholder", "key", "real"] if user == alice
                             else ["env", "placeholder", "key"])
            assert f"{KEY_RADIO}>" in response.text  # not disabled
            assert "Personal key ($EASPORTAL_KEY)" in response.text
    # Not rendered with the page: the API makes it, at the address the browser uses.
    assert not any(mode == "key" for _target, mode in templates_of(detail_page(logged_in(bob),
                                                                                call)))


def test_a_user_without_an_active_key_is_told_where_to_make_one(call, service, bob):
    for response in (detail_page(logged_in(bob), call),
                     logged_in(bob).get(reverse("service_builder", args=[service.slug]))):
        note = key_note(response)
        assert 'data-mode-note="key" hidden' in note  # shown while the key mode is picked
        assert NO_KEY in note
        assert f'<a href="{reverse("account_keys")}">your keys page</a>' in note
        assert reverse("account_keys") == "/account/keys/"


def test_revoked_and_expired_keys_do_not_count(call, bob):
    record, _key = keys.make(bob, "old", timezone.now() - timedelta(minutes=1))
    revoked, _key = keys.make(bob, "revoked", None)
    keys.revoke(revoked, bob)
    assert not has_active_key(bob)
    assert NO_KEY in key_note(detail_page(logged_in(bob), call))
    keys.make(bob, "later", timezone.now() + timedelta(days=1))
    assert has_active_key(bob)


def test_a_user_with_a_key_is_told_how_to_use_it(call, alice, bob):
    keys.make(alice, "alices", None)  # someone else's key is not bob's
    assert NO_KEY in key_note(detail_page(logged_in(bob), call))
    keys.make(bob, "ci", None)
    note = key_note(detail_page(logged_in(bob), call))
    assert NO_KEY not in note and 'data-mode-note="key" hidden' in note
    assert "in the environment variable EASPORTAL_KEY" in note
    assert f'href="{reverse("account_keys")}"' in note


def test_a_deleted_service_has_no_gateway_to_offer(call, service, bob):
    service.delete()
    response = detail_page(logged_in(bob), call)
    assert f"{KEY_RADIO} disabled" in response.text
    note = key_note(response)
    assert "no gateway to call with a personal key" in note and "hidden" not in note
    assert response.context["snippet_panel"]["initial"]  # env still there
