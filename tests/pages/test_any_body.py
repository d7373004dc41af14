"""No input makes a page fail: a body nested hundreds or thousands of levels deep, or JSON
that escapes a lone surrogate, sent to an LLM service through the call path (to the emulator)
and so kept in history, leaves the call's page, its snippets (every language and token mode,
the OpenAI SDK's among them), the builder opened from it, a request saved from it and the
history list answering as for any body."""

import json

import pytest
from django.urls import reverse

from services import calls
from services.calls import CallRequest
from services.snippets import NAMES
from services.snippets.python import MAX_DEPTH
from tests.helpers import logged_in, snippet_of

DEPTHS = [400, 1000, 5000, 100_000]  # the last one just under the 1 MB limit


def nested(depth):
    """A chat body whose "x" is depth lists deep, and an object "y" as deep."""
    lists = "[" * depth + "]" * depth
    objects = '{"a": ' * depth + "1" + "}" * depth
    return (f'{{"model": "m", "messages": [{{"role": "user", "content": "hi"}}], '
            f'"x": {lists}, "y": {objects}}}').encode()


@pytest.fixture
def chat(acme, emulator):
    return emulator.service(acme, "demo-chat", slug="chat")


def assert_every_page_answers(client, chat, call):
    assert client.get(reverse("call_detail", args=[call.pk])).status_code == 200
    for lang in NAMES:
        for token in ("env", "placeholder", "key"):
            snippet = snippet_of(client, call, lang=lang, token=token)
            assert snippet.status_code in (200, 400), (lang, token, snippet.status_code)
    builder = reverse("service_builder", args=[chat.slug])
    assert client.get(builder, {"call": call.pk}).status_code == 200
    assert client.get(reverse("call_list")).status_code == 200
    assert client.get(f"/api/calls/{call.pk}").status_code == 200
    saved = client.post(f"/api/services/{chat.slug}/requests",
                        json.dumps({"name": "kept", "call": call.pk}),
                        content_type="application/json")
    assert saved.status_code == 201
    assert client.get(builder, {"saved": saved.json()["id"]}).status_code == 200
    for lang in NAMES:
        snippet = client.get(f"/api/requests/{saved.json()['id']}/snippet", {"lang": lang})
        assert snippet.status_code in (200, 400), (lang, snippet.status_code)


def sent(bob, chat, body):
    call = calls.call(bob, chat, CallRequest(body=body,
                                             headers={"Content-Type": "application/json"}))
    assert call.status is not None  # it went through the call path to the emulator
    return call


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_deeply_nested_body_leaves_every_page_of_its_call_answering(chat, bob, depth):
    call = sent(bob, chat, nested(depth))
    client = logged_in(bob)
    assert_every_page_answers(client, chat, call)
    openai = snippet_of(client, call, lang="openai")
    assert openai.status_code == 400 and openai.json()["unavailable"] == "openai"


@pytest.mark.parametrize("body", [
    rb'{"model": "m", "messages": [{"role": "user", "content": "\ud800"}]}',
    rb'{"model": "m", "messages": [{"role": "user", "content": "hi"}], "\udfff": 1}',
])
def test_json_that_escapes_a_lone_surrogate_leaves_every_page_answering(chat, bob, body):
    call = sent(bob, chat, body)
    client = logged_in(bob)
    assert_every_page_answers(client, chat, call)
    page = client.get(reverse("call_detail", args=[call.pk]))
    assert "\\ud800" in page.text or "\\udfff" in page.text  # shown as it was sent


def test_a_body_as_deep_as_the_sdk_snippet_allows_still_gets_it(chat, bob):
    client = logged_in(bob)

    def snippet(depth):  # the body's object is the first level, "x" holds the others
        x = "[" * (depth - 1) + "1.5" + "]" * (depth - 1)
        body = f'{{"model": "m", "messages": [{{"role": "user", "content": "hi"}}], "x": {x}}}'
        call = calls.call(bob, chat, CallRequest(body=body.encode(),
                                                 headers={"Content-Type": "application/json"}))
        return x, snippet_of(client, call, lang="openai")

    x, deepest = snippet(MAX_DEPTH)
    assert deepest.status_code == 200 and x in deepest.text
    _, deeper = snippet(MAX_DEPTH + 1)
    assert deeper.status_code == 400 and f"more than {MAX_DEPTH} levels" in deeper.json()["detail"]
