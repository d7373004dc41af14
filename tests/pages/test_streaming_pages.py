"""Streamed calls on the pages: the builder's streaming controls, the history's Streamed filter
and figures, and a streamed call's page with its assembled text."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers import logged_in, make_call


def event(data):
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def delta(**fields):
    return event({"choices": [{"index": 0, "delta": fields, "finish_reason": None}]})


# An OpenAI stream as the portal records it: a role chunk, thinking, the answer, the finish,
# usage and [DONE].
OPENAI_STREAM = b"".join([
    delta(role="assistant", content=""),
    delta(reasoning_content="Thinking it "), delta(reasoning_content="over."),
    delta(content="Hello "), delta(content="<b>there</b>!"),
    event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    event({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 4}}),
    b"data: [DONE]\n\n",
])
SSE = {"Content-Type": "text/event-stream; charset=utf-8"}


def streamed_call(service, user, **fields):
    values = {"streamed": True, "response_headers": SSE, "response_body": OPENAI_STREAM,
              "response_size": len(OPENAI_STREAM), "ttft_ms": 212.4, "tpot_ms": 40.0,
              "prompt_tokens": 7, "completion_tokens": 4, "tokens_source": "usage",
              "finish_reason": "stop"}
    return make_call(service, user, **{**values, **fields})


def listed(client, **query):
    response = client.get(reverse("call_list"), query)
    assert response.status_code == 200, response.text
    return response


def row_of(text, call):
    return re.search(rf'<tr class="call-row" data-call-id="{call.pk}">(.*?)</tr>', text,
                     re.DOTALL).group(1)


def detail(client, call):
    response = client.get(reverse("call_detail", args=[call.pk]))
    assert response.status_code == 200
    return response.text


# The history list

@pytest.mark.parametrize("value, expected", [
    ("true", {"streamed", "stopped"}), ("false", {"whole"}), ("", {"streamed", "stopped", "whole"}),
])
def test_the_streamed_filter_narrows_the_list(service, bob, value, expected):
    calls = {"streamed": streamed_call(service, bob),
             "stopped": streamed_call(service, bob, stopped=True),
             "whole": make_call(service, bob)}
    names = {call.pk: name for name, call in calls.items()}
    response = listed(logged_in(bob), streamed=value)
    assert {names[call.pk] for call in response.context["calls"]} == expected


def test_the_filter_form_offers_streamed_keeps_the_choice_and_refuses_nonsense(service, bob):
    text = listed(logged_in(bob), streamed="true").text
    select = re.search(r'<select name="streamed".*?</select>', text, re.DOTALL).group(0)
    assert re.search(r'<option value="true" selected>Streamed</option>', select)
    assert "Not streamed" in select and "Streamed or not" in select
    assert re.search(r'<label[^>]*for="id_streamed"[^>]*>Streamed</label>', text)
    response = logged_in(bob).get(reverse("call_list"), {"streamed": "maybe"})
    assert response.status_code == 400 and response.context["filter_error"]


def test_a_streamed_row_shows_its_figures(service, bob):
    streamed, stopped = streamed_call(service, bob), streamed_call(service, bob, stopped=True,
                                                                     tpot_ms=None)
    plain = make_call(service, bob)
    with_usage = make_call(service, bob, prompt_tokens=3, completion_tokens=1,
                           tokens_source="usage")
    text = listed(logged_in(bob)).text
    row = row_of(text, streamed)
    # tokens/s is 1000 / TPOT, with one decimal.
    for shown in ("streamed", "TTFT 212 ms", "25.0 tokens/s", "4 tokens"):
        assert shown in row, shown
    assert "stopped" not in row
    row = row_of(text, stopped)
    assert "stopped" in row and "TTFT 212 ms" in row and "tokens/s" not in row
    cell = row_of(text, plain).split('<td class="figures-cell">')[1]
    assert re.sub(r"<[^>]+>|\s", "", cell) == ""  # no figures, no badge
    # A call that came whole still has its token count.
    row = row_of(text, with_usage)
    assert "<div>1 token</div>" in row and "streamed" not in row


def test_the_list_costs_the_same_queries_with_figures_on_every_row(service, bob):
    client = logged_in(bob)
    streamed_call(service, bob)
    for _ in range(2):  # the session and the user's lookups: learned, then kept
        listed(client)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            listed(client)
        return len(captured)

    one = queries()
    for index in range(10):
        streamed_call(service, bob, stopped=index % 2 == 0, ttft_ms=100.0 + index)
    assert queries() == one


# A call's page

def test_a_streamed_calls_page_shows_the_assembled_text_figures_and_raw_events(service, bob):
    text = detail(logged_in(bob), streamed_call(service, bob))
    heading = re.search(r"<h1>(.*?)</h1>", text, re.DOTALL).group(1)
    assert '<span class="badge">streamed</span>' in heading and "stopped" not in heading
    # The answer's text, escaped, and the reasoning apart from it, folded.
    assert re.search(r'<pre class="code assembled" id="assembled-content">Hello '
                     r'&lt;b&gt;there&lt;/b&gt;!</pre>', text)
    assert re.search(r'<details class="reasoning"><summary>Reasoning</summary>'
                     r'<pre class="code" id="assembled-reasoning">Thinking it over.</pre>'
                     r'</details>', text)
    # The raw events as they were recorded.
    raw = re.search(r'<details class="raw-events">(.*?)</details>', text, re.DOTALL).group(1)
    assert "data: [DONE]" in raw and "&quot;reasoning_content&quot;" in raw
    figures = re.sub(r"\s+", " ", re.search(r'<dl class="facts figures">(.*?)</dl>', text,
                                            re.DOTALL).group(1))
    for shown in ("Time to first token (TTFT)</dt><dd>212 ms",
                  "Tokens per second</dt><dd>25.0 tokens/s",
                  "Time per output token (TPOT)</dt><dd>40.0 ms",
                  "Prompt tokens</dt><dd>7",
                  "Completion tokens</dt><dd>4 (from the answer's usage)",
                  'Finish reason</dt><dd class="mono">stop'):
        assert shown in figures.replace("&#x27;", "'"), shown


def test_a_stopped_calls_page_says_so_and_shows_what_arrived(service, bob):
    partial = OPENAI_STREAM.split(b'{"index": 0, "delta": {}')[0].rsplit(b"data: ", 1)[0]
    call = streamed_call(service, bob, stopped=True, response_body=partial, tpot_ms=None,
                         prompt_tokens=None, completion_tokens=2, tokens_source="chunks",
                         finish_reason="")
    text = detail(logged_in(bob), call)
    heading = re.search(r"<h1>(.*?)</h1>", text, re.DOTALL).group(1)
    assert '<span class="badge stopped">stopped</span>' in heading
    assert "Stopped by the caller before the answer ended" in text
    assert "Hello &lt;b&gt;there&lt;/b&gt;!</pre>" in text
    assert "2 (counted from the chunks: at least this many)" in text
    for absent in ("Tokens per second", "Prompt tokens", "Finish reason"):
        assert absent not in text, absent


def test_a_stream_that_is_not_openai_shows_its_body_as_it_is(service, bob):
    call = make_call(service, bob, streamed=True, response_body=b"plain text, streamed",
                     response_headers={"Content-Type": "text/plain"}, ttft_ms=3.0)
    text = detail(logged_in(bob), call)
    assert 'id="assembled-content"' not in text and "raw-events" not in text
    assert '<pre class="code">plain text, streamed</pre>' in text
    assert "Time to first token (TTFT)" in text


def test_an_event_stream_that_came_whole_is_assembled_too(service, bob):
    call = make_call(service, bob, response_headers=SSE, response_body=OPENAI_STREAM)
    text = detail(logged_in(bob), call)
    assert "Hello &lt;b&gt;there&lt;/b&gt;!</pre>" in text and "streamed</span>" not in text


def test_a_call_without_figures_shows_none(service, bob):
    text = detail(logged_in(bob), make_call(service, bob, response_body=b'{"ok": true}'))
    assert 'class="facts figures"' not in text and "assembled" not in text
    assert '<span class="badge' not in text


# The builder

def test_the_builder_offers_streaming_and_stop(service, bob):
    response = logged_in(bob).get(reverse("service_builder", args=[service.slug]))
    text = response.text
    assert re.search(r'<input type="checkbox" id="stream" name="stream">\s*Stream the answer',
                     text)
    assert re.search(r'<button type="button" id="stop" class="danger" hidden>Stop</button>',
                     text)
    # The figures' rows are there for the script to fill in, hidden until a call is recorded.
    figures = re.search(r'<dl class="facts figures" id="response-figures" hidden>(.*?)</dl>',
                        text, re.DOTALL).group(1)
    assert re.findall(r'data-figure="(\w+)" hidden', figures) == [
        "ttft", "rate", "tpot", "prompt", "completion", "finish"]
    config = json.loads(re.search(r'<script id="builder-config" type="application/json">'
                                  r"(.*?)</script>", text, re.DOTALL).group(1))
    assert config["callApiUrl"] == "/api/calls/"
    assert config["text"]["tokensPerS"] == "%(rate)s tokens/s"
    assert set(config["text"]["tokensSource"]) == {"usage", "chunks"}
