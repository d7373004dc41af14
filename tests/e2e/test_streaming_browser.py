"""Streamed answers in Chromium, against the live portal and the local EAS emulator: the builder
shows the answer as it arrives, Stop ends it, and the history shows the streamed call."""

import json
import math
import re
import time

from playwright.sync_api import expect

from services import streams
from services.calls import CallRequest
from services.models import Call
from tests.helpers import log_in, open_builder

# Twenty words to say back: the emulator answers "You said: " and them, one token a word.
WORDS = " ".join(f"word{index}" for index in range(1, 21))
ANSWER = f"You said: {WORDS}"
ANSWER_TOKENS = 2 + 20


def ms(value):
    """Milliseconds as the pages round them: half up (Math.round, floatformat:0)."""
    return str(math.floor(value + 0.5))


def chat_body(stream=True, text=WORDS):
    body = {"model": "Qwen3-8B", "messages": [{"role": "user", "content": text}]}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    return json.dumps(body, indent=2)


def add_header(page, name, value):
    page.click("#add-header")
    row = page.locator("tr.header-row").last
    row.locator(".header-name").fill(name)
    row.locator(".header-value").fill(value)


def recorded_id(page):
    link = page.locator("#response-call-link")
    expect(link).to_have_attribute("href", re.compile(r"^/calls/\d+/$"))
    return int(re.search(r"\d+", link.get_attribute("href")).group())


def figure(page, name):
    return page.locator(f"#response-figures [data-figure='{name}'] dd")


def test_the_builder_streams_a_chat_answer_and_shows_its_figures(live_server, page, chat, bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, chat)
    stream_box = page.locator("#stream")
    expect(stream_box).not_to_be_checked()
    # The box follows the body when it asks for a stream, and is the user's to toggle.
    page.fill("#body", chat_body())
    expect(stream_box).to_be_checked()
    stream_box.uncheck()
    page.fill("#body", chat_body(stream=False))
    expect(stream_box).not_to_be_checked()
    page.fill("#body", chat_body())
    expect(stream_box).to_be_checked()
    # Ten tokens a second, thinking first: slow enough to watch the answer grow.
    add_header(page, "X-Emulator-Tokens-Per-S", "10")
    add_header(page, "X-Emulator-Reasoning", "1")

    page.click("#send")
    expect(page.locator("#stop")).to_be_visible()
    expect(page.locator("#send")).to_be_hidden()
    expect(page.locator("#response-status")).to_have_text("200 OK")
    text = page.locator("#response-text")
    expect(text).to_contain_text("You said: word1")
    # Mid-answer: part of the text is there, the rest and the recorded figures are not yet.
    assert "word20" not in text.inner_text()
    expect(page.locator("#response-figures")).to_be_hidden()

    expect(text).to_have_text(ANSWER, timeout=15_000)
    expect(page.locator("#response-figures")).to_be_visible()
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#stop")).to_be_hidden()
    expect(page.locator("#response-streamed")).to_be_visible()
    expect(page.locator("#response-stopped")).to_be_hidden()

    # The reasoning is folded apart from the answer.
    reasoning = page.locator("#response-reasoning-box")
    expect(reasoning).to_be_visible()
    expect(page.locator("#response-reasoning")).to_be_hidden()
    reasoning.locator("summary").click()
    expect(page.locator("#response-reasoning")).to_have_text(
        "Thinking it over: the user wants their words back.")
    assert "Thinking" not in text.inner_text()

    call = Call.objects.get(pk=recorded_id(page))
    assert call.streamed and not call.stopped and call.status == 200
    assert call.tokens_source == "usage" and call.completion_tokens == 9 + ANSWER_TOKENS
    expect(figure(page, "ttft")).to_have_text(f"{ms(call.ttft_ms)} ms")
    expect(figure(page, "rate")).to_have_text(f"{1000 / call.tpot_ms:.1f} tokens/s")
    expect(figure(page, "tpot")).to_have_text(f"{call.tpot_ms:.1f} ms")
    # At ten tokens a second, a token every 100 ms.
    assert 60 < call.tpot_ms < 200
    expect(figure(page, "prompt")).to_have_text(str(call.prompt_tokens))
    expect(figure(page, "completion")).to_have_text(
        f"{call.completion_tokens} (from the answer's usage)")
    expect(figure(page, "finish")).to_have_text("stop")

    # The raw events, a toggle away.
    page.check("#response-raw")
    raw = page.locator("#response-raw-body")
    expect(raw).to_be_visible()
    expect(text).to_be_hidden()
    expect(raw).to_contain_text('"reasoning_content"')
    expect(raw).to_contain_text("data: [DONE]")
    assert raw.inner_text() == bytes(call.response_body).decode()
    page.uncheck("#response-raw")
    expect(text).to_be_visible()
    assert page.csp_errors == []


def test_stop_ends_the_stream_and_the_call_is_recorded_as_stopped(live_server, page, chat, bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, chat)
    page.fill("#body", chat_body())
    add_header(page, "X-Emulator-Tokens-Per-S", "5")
    page.click("#send")
    expect(page.locator("#response-text")).to_contain_text("You said:")
    call_id = recorded_id(page)
    page.click("#stop")

    expect(page.locator("#response-stopped")).to_be_visible()
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#stop")).to_be_hidden()
    shown = page.locator("#response-text").inner_text()
    assert shown.startswith("You said:") and "word20" not in shown
    # The portal notices the browser went and completes the record; the panel then shows it.
    call = Call.objects.get(pk=call_id)
    deadline = time.monotonic() + 10
    while not call.stopped and time.monotonic() < deadline:
        time.sleep(0.1)
        call.refresh_from_db()
    assert call.streamed and call.stopped
    assert call.completion_tokens < ANSWER_TOKENS and call.tokens_source == "chunks"
    assert call.finish_reason == ""
    expect(page.locator("#response-figures")).to_be_visible()
    expect(figure(page, "completion")).to_contain_text(str(call.completion_tokens))
    expect(page.locator("#response-stopped")).to_be_visible()
    # Nothing arrives after Stop.
    time.sleep(0.5)
    assert page.locator("#response-text").inner_text() == shown
    assert page.csp_errors == []


def test_a_stream_that_is_not_openai_shows_as_raw_text(live_server, page, echo, bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, echo)
    page.fill("#body", "plain words, streamed")
    expect(page.locator("#stream")).not_to_be_checked()
    page.check("#stream")
    page.click("#send")
    raw = page.locator("#response-raw-body")
    expect(raw).to_contain_text("plain words, streamed")
    expect(page.locator("#response-figures")).to_be_visible()
    expect(page.locator("#response-stream-views")).to_be_hidden()
    expect(page.locator("#response-text")).to_be_hidden()
    # The figures an answer that is not an LLM's has: the time to its first byte only.
    expect(figure(page, "ttft")).to_be_visible()
    expect(figure(page, "rate")).to_be_hidden()
    assert Call.objects.get(pk=recorded_id(page)).streamed
    assert page.csp_errors == []


def test_a_refused_streamed_send_shows_the_message(live_server, page, chat, bob):
    log_in(page, live_server, "bob")
    open_builder(page, live_server, chat)
    page.fill("#body", chat_body())
    add_header(page, "Host", "elsewhere.example")
    page.click("#send")
    expect(page.locator("#form-error")).to_contain_text("Host")
    expect(page.locator("#response")).to_be_hidden()
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#stop")).to_be_hidden()
    assert not Call.objects.exists()


def test_events_that_are_not_json_do_not_break_the_panel(live_server, page, chat, bob):
    # The portal never sends these: a stand-in answer shows that the page skips them.
    call = {"id": 7, "status": 200, "elapsed_ms": 5.0, "url": "http://x/v1/chat/completions",
            "response_size": 10, "response_headers": {}, "error": None, "streamed": True,
            "stopped": False, "ttft_ms": 1.5, "tpot_ms": None, "prompt_tokens": None,
            "completion_tokens": 1, "tokens_source": "chunks", "finish_reason": None}
    pieces = ["data: {broken\n\n", "data: null\n\n",
              'data: {"choices": [{"delta": {"content": "fine"}}]}\n\n']
    events = ["event: head\ndata: {not json\n\n", "event: data\ndata: null\n\n",
              'event: head\ndata: {"status": 200, "headers": {}}\n\n',
              *(f"event: data\ndata: {json.dumps({'text': piece})}\n\n" for piece in pieces),
              "event: call\ndata: [1, 2\n\n", f"event: call\ndata: {json.dumps(call)}\n\n"]
    page.route(re.compile(r"/api/services/[^/]+/invoke$"), lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream", "X-Call-Id": "7"},
        body="".join(events)))
    log_in(page, live_server, "bob")
    open_builder(page, live_server, chat)
    page.fill("#body", chat_body())
    page.click("#send")
    expect(page.locator("#response-text")).to_have_text("fine")
    expect(page.locator("#response-status")).to_have_text("200 OK")
    expect(figure(page, "completion")).to_have_text(
        "1 (counted from the chunks: at least this many)")
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#form-error")).to_be_hidden()


def test_a_streamed_call_in_history_shows_its_text_and_figures(live_server, page, chat, bob):
    request = CallRequest(path="/v1/chat/completions", headers={
        "Content-Type": "application/json", "X-Emulator-Reasoning": "1"},
        body=chat_body().encode(), stream=True)
    streamed = streams.start(bob, chat.slug, request)
    for _event in streamed.events():
        pass
    call = Call.objects.get(pk=streamed.call.pk)
    log_in(page, live_server, "bob")

    page.goto(f"{live_server.url}/calls/")
    page.select_option("select[name=streamed]", "true")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"streamed=true"))
    row = page.locator(f"tr.call-row[data-call-id='{call.pk}']")
    expect(page.locator("tr.call-row")).to_have_count(1)
    expect(row).to_contain_text("streamed")
    expect(row).to_contain_text(f"TTFT {ms(call.ttft_ms)} ms")
    expect(row).to_contain_text(f"{call.completion_tokens} tokens")

    row.locator("td:first-child a").click()
    page.wait_for_url(f"{live_server.url}/calls/{call.pk}/")
    expect(page.locator("h1 .badge")).to_have_text("streamed")
    expect(page.locator("#assembled-content")).to_have_text(ANSWER)
    reasoning = page.locator("#assembled-reasoning")
    expect(reasoning).to_be_hidden()
    page.locator("details.reasoning summary").click()
    expect(reasoning).to_contain_text("Thinking it over")
    facts = page.locator("dl.figures")
    expect(facts).to_contain_text("Time to first token (TTFT)")
    expect(facts).to_contain_text(f"{call.completion_tokens} (from the answer's usage)")
    expect(facts).to_contain_text("stop")
    # The raw events are there too, folded.
    page.locator("details.raw-events summary").click()
    expect(page.locator("details.raw-events pre")).to_contain_text("data: [DONE]")
    assert page.csp_errors == []
