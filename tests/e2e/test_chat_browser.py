"""The chat playground in Chromium, against the live portal and the local EAS emulator: the model
from /v1/models, answers streamed in with their figures, continuing, editing and resending, and
Stop during a slow stream."""

import json
import time

import pytest
from playwright.sync_api import expect

from services.models import Call
from tests.helpers import log_in

SLOW_TOKEN = "slow-chat-token-0001"
# A slow, thinking model: 5 tokens a second, the reasoning first.
SLOW_SERVICES = {"slow-chat": {"token": SLOW_TOKEN, "kind": "llm", "model": "Qwen3-32B",
                               "reasoning": True}}
LONG = " ".join(f"word{number}" for number in range(60))


@pytest.fixture
def slow_chat(acme, start_emulator):
    slow = start_emulator(services=SLOW_SERVICES, tokens_per_s=5)
    return slow.service(acme, "slow-chat", name="Slow Chat")


def open_chat(page, live_server, service):
    page.goto(f"{live_server.url}/services/{service.slug}/chat/")


def say(page, message):
    page.fill("#message", message)
    page.click("#send")


def answers(page):
    return page.locator(".turn.assistant")


def chat_calls(service):
    return list(Call.objects.filter(service=service, path="/v1/chat/completions").order_by("pk"))


def sent_messages(call):
    return json.loads(bytes(call.request_body))["messages"]


SYSTEM = {"role": "system", "content": "You are a helpful assistant."}


def test_a_conversation_streams_with_figures_and_can_be_continued_edited_and_resent(
        live_server, page, chat, bob):
    log_in(page, live_server, "bob")
    open_chat(page, live_server, chat)
    # The model comes from GET /v1/models, itself a call in history.
    expect(page.locator("#model-list")).to_be_visible()
    expect(page.locator("#model-list")).to_have_value("Qwen3-8B")
    expect(page.locator("#model")).to_be_hidden()
    assert Call.objects.filter(service=chat, path="/v1/models", method="GET").count() == 1

    say(page, "hello there")
    first = answers(page).nth(0)
    expect(first.locator(".turn-text")).to_have_text("You said: hello there")
    expect(first.locator("[data-figure=ttft]")).to_contain_text("TTFT")
    expect(first.locator("[data-figure=rate]")).to_contain_text("tokens/s")
    expect(first.locator("[data-figure=tpot]")).to_contain_text("TPOT")
    expect(first.locator("[data-figure=prompt]")).to_contain_text("prompt tokens")
    expect(first.locator("[data-figure=completion]")).to_have_text(
        "4 completion tokens (from usage)")
    expect(first.locator("[data-figure=finish]")).to_have_text("finish: stop")
    expect(first.locator(".reasoning")).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#stop")).to_be_hidden()

    [call] = chat_calls(chat)
    assert call.streamed and not call.stopped and call.status == 200
    body = json.loads(bytes(call.request_body))
    assert body["model"] == "Qwen3-8B"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["top_p"]) == (0.7, 1)
    assert "max_tokens" not in body
    assert body["messages"] == [SYSTEM, {"role": "user", "content": "hello there"}]
    assert first.locator(".open-in-builder").get_attribute("href") == (
        f"/services/demo-chat/builder/?call={call.pk}")
    assert first.locator(".snippet-link").get_attribute("href") == (
        f"/calls/{call.pk}/#snippet-panel")

    # Continue: the whole conversation so far goes with the next turn, max_tokens too.
    page.fill("#max-tokens", "3")
    say(page, "and again please")
    second = answers(page).nth(1)
    expect(second.locator(".turn-text")).to_have_text("You said: and ")
    expect(second.locator("[data-figure=finish]")).to_have_text("finish: length")
    call = chat_calls(chat)[-1]
    assert json.loads(bytes(call.request_body))["max_tokens"] == 3
    assert sent_messages(call) == [
        SYSTEM, {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "You said: hello there"},
        {"role": "user", "content": "and again please"}]
    page.fill("#max-tokens", "")

    # Edit the first turn and resend: what followed it is dropped.
    page.locator(".turn.user").nth(0).locator(".edit-turn").click()
    page.locator(".turn.user").nth(0).locator(".turn-edit textarea").fill("edited <b>bold</b>")
    page.locator(".turn.user").nth(0).locator(".save-turn").click()
    expect(page.locator(".turn")).to_have_count(2)
    expect(answers(page).nth(0).locator("[data-figure=finish]")).to_be_visible()
    # The model's text is text: the markup shows as typed, no element made of it.
    expect(answers(page).nth(0).locator(".turn-text")).to_have_text("You said: edited <b>bold</b>")
    expect(page.locator(".turn b")).to_have_count(0)
    assert sent_messages(chat_calls(chat)[-1]) == [
        SYSTEM, {"role": "user", "content": "edited <b>bold</b>"}]

    # Resend the last turn: the same conversation again, a new call.
    before = len(chat_calls(chat))
    page.locator(".turn.user").nth(0).locator(".resend-turn").click()
    expect(page.locator(".turn")).to_have_count(2)
    expect(answers(page).nth(0).locator("[data-figure=finish]")).to_be_visible()
    calls = chat_calls(chat)
    assert len(calls) == before + 1
    assert sent_messages(calls[-1]) == sent_messages(calls[-2])

    # Streaming off: the whole answer at once, from the call's response body.
    page.uncheck("#stream")
    page.fill("#system", "")
    say(page, "all at once")
    whole = answers(page).nth(1)
    expect(whole.locator(".turn-text")).to_have_text("You said: all at once")
    expect(whole.locator("[data-figure=finish]")).to_have_text("finish: stop")
    expect(whole.locator("[data-figure=ttft]")).to_have_count(0)
    call = chat_calls(chat)[-1]
    assert not call.streamed
    body = json.loads(bytes(call.request_body))
    assert "stream" not in body and body["messages"][0]["role"] == "user"
    assert page.csp_errors == []


def test_stop_keeps_the_partial_answer_and_the_call_is_recorded_as_stopped(
        live_server, page, slow_chat, bob):
    log_in(page, live_server, "bob")
    open_chat(page, live_server, slow_chat)
    expect(page.locator("#model-list")).to_have_value("Qwen3-32B")

    say(page, LONG)
    turn = answers(page).nth(0)
    expect(page.locator("#stop")).to_be_visible()
    expect(page.locator("#send")).to_be_disabled()
    # The reasoning streams in first, folded apart from the answer.
    reasoning = turn.locator(".reasoning")
    expect(reasoning).to_be_visible(timeout=10_000)
    assert reasoning.get_attribute("open") is None
    expect(turn.locator(".turn-text")).to_contain_text("You said: word0", timeout=15_000)
    page.click("#stop")
    expect(turn.locator(".turn-state")).to_contain_text("Stopped")
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#send")).to_be_enabled()
    partial = turn.locator(".turn-text").text_content()
    reasoning.locator("summary").click()
    expect(turn.locator(".reasoning-text")).to_contain_text("Thinking it over")

    # The portal stopped the upstream and recorded the call as stopped, with what came.
    deadline = time.monotonic() + 10
    while not (call := chat_calls(slow_chat)[0]).stopped and time.monotonic() < deadline:
        time.sleep(0.1)
    assert call.stopped and call.streamed
    # The page knew the call's id from the start: its links, and its figures once recorded.
    expect(turn.locator(".open-in-builder")).to_have_attribute(
        "href", f"/services/slow-chat/builder/?call={call.pk}")
    expect(turn.locator("[data-figure=stopped]")).to_have_text("stopped")
    expect(turn.locator("[data-figure=ttft]")).to_contain_text("TTFT")
    expect(turn.locator(".turn-history")).to_be_hidden()
    assert b"word0" in bytes(call.response_body)
    assert b"word59" not in bytes(call.response_body)
    time.sleep(0.5)
    assert turn.locator(".turn-text").text_content() == partial  # nothing more arrived

    # The partial answer is the assistant's turn of the conversation that goes on.
    page.fill("#max-tokens", "2")
    say(page, "ok")
    expect(answers(page).nth(1).locator("[data-figure=finish]")).to_have_text(
        "finish: length", timeout=15_000)
    assert sent_messages(chat_calls(slow_chat)[-1]) == [
        SYSTEM, {"role": "user", "content": LONG},
        {"role": "assistant", "content": partial},
        {"role": "user", "content": "ok"}]
    assert page.csp_errors == []


def test_without_a_model_list_the_model_is_typed_and_errors_are_shown(
        live_server, page, acme, bob, emulator):
    wrong = emulator.service(acme, "demo-chat", slug="wrong-token", name="Wrong Token",
                             token="not-the-token-0001")
    log_in(page, live_server, "bob")
    open_chat(page, live_server, wrong)
    expect(page.locator("#model-note")).to_contain_text(
        "GET /v1/models did not list the models (status 401)")
    expect(page.locator("#model")).to_be_visible()
    expect(page.locator("#model")).to_have_value("Wrong Token")
    expect(page.locator("#model-list")).to_be_hidden()

    page.fill("#model", "")
    say(page, "hello")
    expect(page.locator("#chat-error")).to_have_text("Name the model first.")
    expect(page.locator(".turn")).to_have_count(0)

    page.fill("#model", "Qwen3-8B")
    say(page, "hello")
    expect(answers(page).nth(0).locator(".turn-error")).to_have_text(
        "The service answered 401.")
    assert page.locator("#chat-error").is_hidden()
    assert page.csp_errors == []
