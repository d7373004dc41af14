"""Streamed LLM answers of the emulator, over real sockets with requests: the pace (server
default, X-Emulator-Tokens-Per-S), max_tokens, reasoning and X-Emulator-Break-After.

Timings are checked by lower bounds (a sleep is never early) and by generous upper bounds, so
that a loaded machine does not fail them."""

import json
import time

import pytest
import requests

import emulator as eas_emulator

# Enough words for any max_tokens below: the answer "You said: w0 w1 ..." has 2 + 60 tokens.
LONG = " ".join(f"w{index}" for index in range(60))
REASONING_WORDS = 9  # emulator.openai.REASONING, "Thinking it over: the user wants their ..."


def chat_body(content=LONG, **fields):
    return {"model": "Qwen3-8B", "messages": [{"role": "user", "content": content}], **fields}


def post(emulator, path, body, headers=None, service="demo-chat", stream=False):
    headers = {"Authorization": emulator.token(service), **(headers or {})}
    return requests.post(f"{emulator.base(service)}{path}", json=body, headers=headers,
                         stream=stream, timeout=30)


def events(response, started):
    """[(seconds since started, event)]: each data: event as it arrived, parsed, or "[DONE]"."""
    arrived = []
    for line in response.iter_lines():
        if line.startswith(b"data: "):
            data = line.removeprefix(b"data: ").decode()
            arrived.append((time.monotonic() - started,
                            data if data == "[DONE]" else json.loads(data)))
    return arrived


def stream(emulator, body, headers=None, path="/v1/chat/completions", service="demo-chat"):
    started = time.monotonic()
    with post(emulator, path, {**body, "stream": True}, headers, service, stream=True) as answer:
        assert answer.status_code == 200, answer.text
        return events(answer, started)


def deltas(arrived, field="content"):
    """(time, text) of the chunks that carry field: a chat delta's, or a completion's text."""
    found = []
    for at, event in arrived:
        if event == "[DONE]" or not event["choices"]:
            continue
        choice = event["choices"][0]
        if "delta" in choice:  # chat; the first chunk, with the role, carries no token
            piece = None if "role" in choice["delta"] else choice["delta"].get(field)
        else:
            piece = choice["text"] if field == "content" else None
        if piece:
            found.append((at, piece))
    return found


def test_without_a_pace_a_stream_comes_at_once(emulator):
    started = time.monotonic()
    arrived = stream(emulator, chat_body(max_tokens=30))
    assert len(deltas(arrived)) == 30
    assert time.monotonic() - started < 2  # 30 chunks at 25/s would take 1.2 s


def test_the_header_paces_the_chunks_and_the_first_waits_one_gap(emulator):
    arrived = stream(emulator, chat_body(max_tokens=10), {"X-Emulator-Tokens-Per-S": "25"})
    role_at = arrived[0][0]
    assert arrived[0][1]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    times = [at for at, _piece in deltas(arrived)]
    assert len(times) == 10
    assert times[0] - role_at >= 0.035  # one gap (40 ms) after the start, not at once
    assert times[-1] - times[0] >= 0.33  # nine gaps of 40 ms: spread, not in one burst
    assert times[-1] - times[0] < 3
    assert arrived[-1][1] == "[DONE]"


def test_a_completion_stream_is_paced_too(emulator):
    arrived = stream(emulator, {"prompt": LONG, "max_tokens": 5},
                     {"X-Emulator-Tokens-Per-S": "20"}, path="/v1/completions")
    pieces = deltas(arrived)
    assert [piece for _at, piece in pieces] == ["You ", "wrote: ", "w0 ", "w1 ", "w2 "]
    # No role chunk here: the first token (and the headers with it) comes one gap late.
    assert pieces[0][0] >= 0.045 and pieces[-1][0] - pieces[0][0] >= 0.19  # 4 gaps of 50 ms
    assert arrived[-2][1]["choices"][0]["finish_reason"] == "length"


@pytest.fixture
def paced(start_emulator):
    """An emulator whose streams go at 20 tokens/s unless a request says otherwise."""
    return start_emulator(tokens_per_s=20)


def test_the_servers_pace_is_the_default_and_the_header_overrides_it(paced):
    started = time.monotonic()
    assert len(deltas(stream(paced, chat_body(max_tokens=6)))) == 6
    assert time.monotonic() - started >= 0.29  # 6 gaps of 50 ms
    started = time.monotonic()
    assert len(deltas(stream(paced, chat_body(max_tokens=40), {"X-Emulator-Tokens-Per-S": "0"}))
               ) == 40
    assert time.monotonic() - started < 1.9  # 40 gaps of 50 ms would be 2 s


def test_a_non_streamed_answer_is_not_paced(paced):
    started = time.monotonic()
    answer = post(paced, "/v1/chat/completions", chat_body(max_tokens=40)).json()
    assert answer["usage"]["completion_tokens"] == 40
    assert time.monotonic() - started < 1.9


@pytest.mark.parametrize("headers, message", [
    ({"X-Emulator-Tokens-Per-S": "fast"}, "X-Emulator-Tokens-Per-S: expected a number of "
                                          "tokens per second, 0 or more, not 'fast'."),
    ({"X-Emulator-Tokens-Per-S": "-1"}, "X-Emulator-Tokens-Per-S: expected a number"),
    ({"X-Emulator-Tokens-Per-S": "nan"}, "X-Emulator-Tokens-Per-S: expected a number"),
    ({"X-Emulator-Reasoning": "maybe"}, "X-Emulator-Reasoning: expected 1 or 0, not 'maybe'."),
    ({"X-Emulator-Break-After": "two"}, "X-Emulator-Break-After: expected a whole number"),
    ({"X-Emulator-Break-After": "-1"}, "X-Emulator-Break-After: expected a whole number"),
])
def test_a_bad_emulator_header_answers_400_with_one_line(emulator, headers, message):
    for stream_it in (True, False):
        answer = post(emulator, "/v1/chat/completions", chat_body(stream=stream_it), headers)
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert message in error["message"] and "\n" not in error["message"]


@pytest.mark.parametrize("field, value", [("max_tokens", 0), ("max_tokens", "5"),
                                          ("max_tokens", True), ("max_completion_tokens", -1)])
def test_a_bad_max_tokens_answers_400(emulator, field, value):
    answer = post(emulator, "/v1/chat/completions", chat_body(**{field: value}))
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == field


def test_make_app_refuses_a_bad_pace():
    with pytest.raises(eas_emulator.ConfigError, match="expected a number of tokens"):
        eas_emulator.make_app(tokens_per_s="fast")


@pytest.mark.parametrize("path, body", [("/v1/chat/completions", chat_body(max_tokens=7)),
                                        ("/v1/completions", {"prompt": LONG, "max_tokens": 7})])
def test_max_tokens_cuts_the_answer_and_the_usage_counts_what_was_sent(emulator, path, body):
    whole = post(emulator, path, body).json()
    choice = whole["choices"][0]
    text = choice["message"]["content"] if "message" in choice else choice["text"]
    assert len(text.split()) == 7 and choice["finish_reason"] == "length"
    arrived = stream(emulator, {**body, "stream_options": {"include_usage": True}}, path=path)
    pieces = [piece for _at, piece in deltas(arrived)]
    assert len(pieces) == 7 and "".join(pieces) == text
    assert arrived[-3][1]["choices"][0]["finish_reason"] == "length"
    assert arrived[-2][1]["usage"] == whole["usage"]
    assert whole["usage"]["completion_tokens"] == 7
    assert whole["usage"]["total_tokens"] == whole["usage"]["prompt_tokens"] + 7


def test_a_limit_above_the_answer_stops_as_usual(emulator):
    answer = post(emulator, "/v1/chat/completions", chat_body("hello!", max_tokens=50)).json()
    assert answer["choices"][0]["message"]["content"] == "You said: hello!"
    assert answer["choices"][0]["finish_reason"] == "stop"
    newer = post(emulator, "/v1/chat/completions",
                 chat_body(max_completion_tokens=2, max_tokens=50)).json()
    assert newer["choices"][0]["message"]["content"] == "You said: "


def test_reasoning_comes_first_and_counts_as_completion_tokens(emulator):
    on = {"X-Emulator-Reasoning": "1"}
    answer = post(emulator, "/v1/chat/completions", chat_body("hello!"), on).json()
    message = answer["choices"][0]["message"]
    assert message["content"] == "You said: hello!"
    assert len(message["reasoning_content"].split()) == REASONING_WORDS
    assert answer["usage"]["completion_tokens"] == REASONING_WORDS + 3
    assert answer["usage"]["completion_tokens_details"] == {"reasoning_tokens": REASONING_WORDS}

    arrived = stream(emulator, chat_body("hello!", stream_options={"include_usage": True}),
                     {**on, "X-Emulator-Tokens-Per-S": "50"})
    kinds = [next(iter(event["choices"][0]["delta"])) for _at, event in arrived[1:-3]]
    assert kinds == ["reasoning_content"] * REASONING_WORDS + ["content"] * 3
    thought = deltas(arrived, "reasoning_content")
    assert "".join(piece for _at, piece in thought) == message["reasoning_content"]
    assert deltas(arrived)[-1][0] - thought[0][0] >= 0.2  # 12 tokens, all paced: 11 gaps
    assert arrived[-2][1]["usage"] == answer["usage"]


def test_max_tokens_counts_reasoning_first(emulator):
    answer = post(emulator, "/v1/chat/completions", chat_body(max_tokens=REASONING_WORDS + 2),
                  {"X-Emulator-Reasoning": "true"}).json()
    assert answer["choices"][0]["message"]["content"] == "You said: "
    assert answer["choices"][0]["finish_reason"] == "length"
    cut = post(emulator, "/v1/chat/completions", chat_body(max_tokens=4),
               {"X-Emulator-Reasoning": "1"}).json()
    assert cut["choices"][0]["message"]["content"] == ""
    assert len(cut["choices"][0]["message"]["reasoning_content"].split()) == 4


def test_without_reasoning_the_message_has_no_reasoning_content(emulator):
    answer = post(emulator, "/v1/chat/completions", chat_body("hello!"),
                  {"X-Emulator-Reasoning": "0"}).json()
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "You said: hello!"}
    assert "completion_tokens_details" not in answer["usage"]


def test_a_service_configured_to_reason_reasons_unless_the_header_says_0(start_emulator):
    thinker = start_emulator(services={"thinker": {"token": "t", "kind": "llm",
                                                   "reasoning": True}})

    def message(**headers):
        answer = post(thinker, "/v1/chat/completions", chat_body("hi"), headers, "thinker")
        return answer.json()["choices"][0]["message"]

    assert len(message()["reasoning_content"].split()) == REASONING_WORDS
    assert "reasoning_content" not in message(**{"X-Emulator-Reasoning": "0"})
    completion = post(thinker, "/v1/completions", {"prompt": "hi"}, service="thinker").json()
    assert completion["choices"][0]["text"] == "You wrote: hi"  # completions do not reason


@pytest.mark.parametrize("after, sent", [(3, 3), (0, 0), (500, 62)])
def test_break_after_drops_the_connection_after_that_many_content_chunks(
        emulator, emulator_received, after, sent):
    headers = {"X-Emulator-Break-After": str(after)}
    with post(emulator, "/v1/chat/completions", chat_body(stream=True), headers,
              stream=True) as answer:
        lines = []
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for line in answer.iter_lines():
                lines.append(line)
    events = [json.loads(line.removeprefix(b"data: ")) for line in lines if line]
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [event["choices"][0]["finish_reason"] for event in events] == [None] * (sent + 1)
    assert len(events) == sent + 1  # no finish, no usage, no [DONE]
    record = emulator_received[-1]
    assert (record["status"], record["finished_at"], record["disconnected"]) == (200, None, False)


def test_break_after_leaves_a_non_streamed_answer_alone(emulator):
    answer = post(emulator, "/v1/chat/completions", chat_body("hello!"),
                  {"X-Emulator-Break-After": "1"})
    assert answer.json()["choices"][0]["message"]["content"] == "You said: hello!"
