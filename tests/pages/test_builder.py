"""The request builder page: presets and templates by kind, the token kept out, and
"Open in builder" from a call in history."""

import json
import re

import pytest
from django.urls import reverse

from services.calls import REDACTED
from tests.helpers import (
    EAS_PUBLIC,
    EAS_VPC,
    TOKEN,
    logged_in,
    make_call,
    make_service,
    module_scripts,
)

CHAT_TEMPLATE = {"role": "system", "content": "You are a helpful assistant."}


def builder(client, service, **query):
    return client.get(reverse("service_builder", args=[service.slug]), query)


def config_of(response):
    match = re.search(r'<script id="builder-config" type="application/json">(.*?)</script>',
                      response.text, re.DOTALL)
    return json.loads(match.group(1))


def preset_paths(response):
    return [preset["path"] for preset in response.context["presets"]]


def test_the_llm_builder_offers_the_openai_paths_and_the_chat_template(service, bob):
    response = builder(logged_in(bob), service)
    assert response.status_code == 200
    assert preset_paths(response) == [
        "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/embeddings"]
    draft = response.context["draft"]
    assert draft["path"] == "/v1/chat/completions"
    body = json.loads(draft["body"])
    assert body["messages"] == [CHAT_TEMPLATE, {"role": "user", "content": "hello!"}]
    assert "model" in body
    # The URL the server would call is on the page before any script runs.
    assert f"{EAS_PUBLIC}/v1/chat/completions" in response.text
    assert 'data-path="/v1/models" data-method="GET"' in response.text


def test_an_llm_service_with_a_default_body_starts_from_it(acme, bob):
    default_body = '{"model": "DeepSeek-R1-Distill-Qwen-7B", "messages": []}'
    service = make_service(acme, default_body=default_body)
    response = builder(logged_in(bob), service)
    assert response.context["draft"]["body"] == default_body


@pytest.mark.parametrize("kind", ["model_gallery", "processor"])
def test_gallery_models_and_processors_suggest_the_service_default_path(acme, bob,
                                                                        kind):
    service = make_service(acme, kind=kind, default_path="/rerank",
                           default_body='{"query": "q", "documents": ["a"]}')
    response = builder(logged_in(bob), service)
    assert preset_paths(response) == ["/rerank"]
    assert response.context["draft"]["path"] == "/rerank"
    assert response.context["draft"]["body"] == '{"query": "q", "documents": ["a"]}'
    assert 'data-path="/v1/chat/completions"' not in response.text


def test_a_custom_image_has_a_free_path_and_no_presets(acme, bob):
    service = make_service(acme, kind="custom", default_path="/predict", default_body="")
    response = builder(logged_in(bob), service)
    assert preset_paths(response) == []
    assert 'id="path" name="path" value="/predict"' in response.text
    assert response.context["draft"]["body"] == ""
    assert "You are a helpful assistant." not in response.text


def test_only_the_endpoints_the_service_has_are_offered(acme, bob):
    service = make_service(acme, public_endpoint="", vpc_endpoint=EAS_VPC,
                           default_endpoint="vpc")
    response = builder(logged_in(bob), service)
    assert 'name="endpoint" value="vpc" checked' in response.text
    assert 'value="public"' not in response.text
    assert config_of(response)["bases"] == {"vpc": EAS_VPC}


def test_both_endpoints_are_offered_with_the_default_checked(service, bob):
    response = builder(logged_in(bob), service)
    assert 'name="endpoint" value="public" checked' in response.text
    assert 'name="endpoint" value="vpc">' in response.text
    assert config_of(response)["bases"] == {"public": EAS_PUBLIC, "vpc": EAS_VPC}


def test_the_page_shows_the_token_hint_and_never_the_token(service, bob):
    response = builder(logged_in(bob), service)
    assert 'value="Authorization" readonly' in response.text
    assert f"••••{TOKEN[-4:]}" in response.text
    assert TOKEN not in response.text
    assert TOKEN[:-4] not in response.text


def test_the_page_posts_to_the_invoke_api_with_a_csrf_token(service, bob):
    response = builder(logged_in(bob), service)
    config = config_of(response)
    assert config["invokeUrl"] == "/api/services/chat/invoke"
    assert config["limit"] == 1_048_576
    assert 'name="csrfmiddlewaretoken"' in response.text
    # builder.js brings in join.js, response.js and hints.js itself
    # (tests/pages/test_static_files.py).
    assert module_scripts(response) == ["builder", "snippets", "builder_save", "builder_import",
                                       "builder_run"]


def test_the_scripts_get_the_servers_own_refusal_messages(service, bob):
    refusals = config_of(builder(logged_in(bob), service))["refusals"]
    assert set(refusals) == {"control", "backslash", "fragment", "scheme", "double_slash",
                             "user", "dot_segment"}
    assert "%(path)s" in refusals["scheme"]
    assert "//" in refusals["double_slash"]


def test_members_and_maintainers_open_the_builder(service, alice, bob):
    assert builder(logged_in(alice), service).status_code == 200
    assert builder(logged_in(bob), service).status_code == 200


def test_it_checks_ownership(service, charlie, globex):
    assert builder(logged_in(charlie), service).status_code == 404


def test_a_call_pre_fills_the_builder(service, alice, bob):
    call = make_call(service, alice, endpoint="vpc", method="PUT", path="/v1/models?x=1",
                     url=EAS_VPC + "/v1/models?x=1",
                     request_headers={"Content-Type": "text/plain", "Authorization": REDACTED,
                                      "X-Api-Key": REDACTED, "X-Trace": "abc-123"},
                     request_body="héllo body".encode())
    response = builder(logged_in(bob), service, call=call.pk)
    assert response.status_code == 200
    draft = response.context["draft"]
    assert (draft["endpoint"], draft["method"], draft["path"]) == ("vpc", "PUT", "/v1/models?x=1")
    assert draft["body"] == "héllo body"
    assert draft["headers"] == [
        {"name": "Content-Type", "value": "text/plain", "redacted": False},
        {"name": "X-Api-Key", "value": "", "redacted": True},
        {"name": "X-Trace", "value": "abc-123", "redacted": False},
    ]
    assert 'name="endpoint" value="vpc" checked' in response.text
    assert '<option value="PUT" selected>' in response.text
    assert "re-enter: redacted in history" in response.text
    # The placeholder is never a value in the form; only the scripts' config names it (Save
    # keeps a redacted header left empty as the placeholder).
    assert REDACTED not in response.text.replace(
        f'"redacted": "{REDACTED}"', "", 1)
    assert f"{EAS_VPC}/v1/models?x=1" in response.text
    # The Authorization row is the read-only hint, never a value from history.
    assert response.text.count('value="Authorization"') == 1


def test_a_call_with_a_binary_body_pre_fills_the_rest_and_says_so(service, bob):
    call = make_call(service, bob, request_body=b"\xff\xfe\x00binary")
    response = builder(logged_in(bob), service, call=call.pk)
    assert response.status_code == 200
    assert response.context["draft"]["body"] == ""
    assert "binary (9 bytes)" in response.text


def test_a_call_whose_token_was_redacted_in_the_body_says_so(service, bob):
    call = make_call(service, bob, request_body=f'{{"key": "{REDACTED}"}}'.encode())
    response = builder(logged_in(bob), service, call=call.pk)
    assert "stands for the service&#x27;s token" in response.text


def test_a_call_of_another_team_is_404(service, globex, charlie, bob):
    theirs = make_service(globex, slug="globex-chat")
    call = make_call(theirs, charlie)
    # Neither through the other team's service, nor smuggled into our own service's builder.
    assert builder(logged_in(bob), theirs, call=call.pk).status_code == 404
    assert builder(logged_in(bob), service, call=call.pk).status_code == 404


def test_a_call_of_another_service_or_no_call_is_404(service, acme, bob):
    other = make_service(acme, slug="other")
    call = make_call(other, bob)
    client = logged_in(bob)
    assert builder(client, service, call=call.pk).status_code == 404
    assert builder(client, service, call="abc").status_code == 404
    assert builder(client, service, call="²").status_code == 404
    assert builder(client, service, call="999999").status_code == 404
    assert builder(client, service, call="9" * 30).status_code == 404


def test_the_service_page_links_the_builder_and_its_recent_calls(service, bob):
    response = logged_in(bob).get(reverse("service_detail", args=[service.slug]))
    assert f'href="{reverse("service_builder", args=["chat"])}"' in response.text
    assert f'href="{reverse("call_list")}?service=chat"' in response.text


def test_the_nav_links_the_history(service, bob):
    response = logged_in(bob).get(reverse("service_list"))
    assert f'<a href="{reverse("call_list")}">History</a>' in response.text
