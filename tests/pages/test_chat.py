"""The chat playground page: for LLM services of your teams only, linked from the service page,
with what static/js/chat.js needs handed over as JSON (and the token nowhere)."""

import json
import re

import pytest
from django.urls import reverse

from tests.helpers import TOKEN, logged_in, make_service, module_scripts


def chat_page(client, service):
    return client.get(reverse("service_chat", args=[service.slug]))


def config_of(response):
    match = re.search(r'<script id="chat-config" type="application/json">(.*?)</script>',
                      response.text, re.DOTALL)
    return json.loads(match.group(1))


def test_a_member_gets_the_playground_with_its_config(service, bob):
    response = chat_page(logged_in(bob), service)
    assert response.status_code == 200
    config = config_of(response)
    assert config["invokeUrl"] == "/api/services/chat/invoke"
    assert config["chatPath"] == "/v1/chat/completions"
    assert config["modelsPath"] == "/v1/models"
    assert config["defaultModel"] == "Chat"
    assert config["builderUrl"] == "/services/chat/builder/"
    assert config["callsUrl"] == "/calls/"
    assert config["apiCallsUrl"] == "/api/calls/"
    assert config["historyUrl"] == "/calls/?service=chat&user=bob"
    # Every text the script writes comes translated from here; holes are %(name)s.
    assert config["text"]["ttft"] == "TTFT %(ms)s ms"
    assert config["text"]["rate"] == "%(rate)s tokens/s"
    assert all(isinstance(value, str) and value for value in config["text"].values())
    # The model field starts from the service's name, for when /v1/models does not answer.
    assert 'id="model" value="Chat"' in response.text
    assert 'id="stream" checked' in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text
    # chat.js brings in stream.js and util.js itself.
    assert module_scripts(response) == ["chat"]


def test_the_page_never_carries_the_token(service, bob):
    text = chat_page(logged_in(bob), service).text
    assert TOKEN not in text and TOKEN[:-4] not in text


def test_outsiders_get_a_404_like_a_missing_service(service, charlie, globex):
    response = chat_page(logged_in(charlie), service)
    assert response.status_code == 404
    assert "There is no service “chat”." in response.text
    assert "chat-config" not in response.text


def test_a_superuser_in_no_team_may_use_it(service, root):
    assert chat_page(logged_in(root), service).status_code == 200


@pytest.mark.parametrize("kind", ["model_gallery", "processor", "custom"])
def test_services_that_are_not_llms_are_refused_with_a_readable_404(acme, bob, kind):
    service = make_service(acme, slug="other", name="Other", kind=kind, default_path="/predict")
    response = chat_page(logged_in(bob), service)
    assert response.status_code == 404
    assert "The chat playground is for LLM services; “Other” is of the kind" in response.text
    assert "chat-config" not in response.text


def test_logged_out_visitors_are_sent_to_log_in(client, service):
    response = chat_page(client, service)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_service_page_links_the_playground_for_llm_services_only(acme, service, bob):
    client = logged_in(bob)
    link = 'href="/services/chat/chat/"'
    assert link in client.get(reverse("service_detail", args=["chat"])).text
    make_service(acme, slug="rerank", name="Rerank", kind="model_gallery", default_path="/r")
    page = client.get(reverse("service_detail", args=["rerank"])).text
    assert "/services/rerank/chat/" not in page


def test_only_get_is_answered(service, bob):
    assert logged_in(bob).post(reverse("service_chat", args=["chat"])).status_code == 405
