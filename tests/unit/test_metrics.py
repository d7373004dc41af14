"""The figures of LLM serving read from an answer (services/metrics.py): TTFT, TPOT, tokens and
finish reason, as vLLM's benchmark defines them."""

import json

import pytest

from services.metrics import EventParser, StreamMetrics, answer_metrics, assembled_text


def event(data):
    return f"data: {json.dumps(data)}\n\n".encode()


def chunk(content=None, reasoning=None, role=None, finish=None, tool_calls=None):
    delta = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return event({"object": "chat.completion.chunk",
                  "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def usage(prompt, completion):
    return event({"choices": [], "usage": {"prompt_tokens": prompt,
                                           "completion_tokens": completion,
                                           "total_tokens": prompt + completion}})


def measure(pieces):
    """pieces: (bytes, at_ms) as they arrive."""
    metrics = StreamMetrics()
    for data, at_ms in pieces:
        metrics.feed(data, at_ms)
    return metrics.figures()


# Server-sent events

@pytest.mark.parametrize("pieces", [
    ["data: a\n\n", "data: b\n\n"],
    ["data: a\r\n\r\ndata: b\r\n\r\n"],
    ["data: a\r", "\n\r\ndata: b\r\n", "\r\n"],  # a CRLF split between two pieces
    ["data:a\n\nda", "ta: b\n", "\n"],
    [": a comment\ndata: a\n\nevent: x\nid: 1\ndata: b\n\n"],
])
def test_events_are_read_whatever_the_pieces_and_line_ends(pieces):
    parser = EventParser()
    events = [data for piece in pieces for data in parser.feed(piece)]
    assert events == ["a", "b"]


def test_an_event_of_several_data_lines_joins_them():
    assert EventParser().feed("data: one\ndata: two\n\n") == ["one\ntwo"]


# Streams

def test_ttft_is_the_first_content_and_the_role_only_chunk_does_not_count():
    figures = measure([(chunk(role="assistant", content=""), 5.0), (chunk(content="Hi"), 40.0),
                       (chunk(content=" there"), 60.0), (chunk(content="!", finish="stop"), 80.0),
                       (b"data: [DONE]\n\n", 81.0)])
    assert figures.ttft_ms == 40.0
    assert (figures.completion_tokens, figures.tokens_source) == (3, "chunks")
    # (E2E - TTFT) / (tokens - 1): the last content at 80, the first at 40, three tokens.
    assert figures.tpot_ms == 20.0
    assert figures.tokens_per_s == 50.0
    assert figures.finish_reason == "stop" and figures.prompt_tokens is None


def test_the_usage_chunk_gives_the_tokens():
    figures = measure([(chunk(content="a"), 10.0), (chunk(content="b"), 30.0),
                       (chunk(finish="length"), 31.0), (usage(7, 2), 32.0)])
    assert (figures.prompt_tokens, figures.completion_tokens) == (7, 2)
    assert figures.tokens_source == "usage" and figures.finish_reason == "length"
    assert figures.tpot_ms == 20.0


def test_reasoning_and_tool_calls_are_output_too():
    figures = measure([(chunk(reasoning="think"), 12.0), (chunk(content="x"), 20.0),
                       (chunk(tool_calls=[{"index": 0, "function": {"name": "f"}}]), 30.0)])
    assert figures.ttft_ms == 12.0 and figures.completion_tokens == 3


def test_completions_count_their_text():
    pieces = [(event({"object": "text_completion", "choices": [{"text": word}]}), at)
              for word, at in (("", 1.0), ("a", 9.0), (" b", 19.0))]
    figures = measure(pieces)
    assert figures.ttft_ms == 9.0 and figures.completion_tokens == 2 and figures.tpot_ms == 10.0


def test_one_token_has_no_tpot():
    figures = measure([(chunk(content="only"), 10.0), (usage(1, 1), 11.0)])
    assert figures.ttft_ms == 10.0 and figures.tpot_ms is None and figures.tokens_per_s is None


def test_a_stream_that_is_not_openai_shaped_has_ttft_at_its_first_byte_only():
    figures = measure([(b"plain text, not events", 3.5), (b" and more", 9.0)])
    assert figures.ttft_ms == 3.5
    assert (figures.tpot_ms, figures.prompt_tokens, figures.completion_tokens) == (None,) * 3
    assert (figures.tokens_source, figures.finish_reason) == ("", "")
    assert measure([(b"data: {\"no\": \"choices\"}\n\n", 2.0)]).ttft_ms == 2.0


def test_invalid_json_in_an_event_is_skipped_not_raised():
    figures = measure([(b"data: {not json\n\n", 1.0), (b"data: [1, 2]\n\n", 2.0),
                       (chunk(content="ok"), 5.0), (b"data: " + b"[" * 5000 + b"\n\n", 6.0)])
    assert figures.ttft_ms == 5.0 and figures.completion_tokens == 1


def test_pieces_split_anywhere_give_the_same_figures():
    body = (chunk(role="assistant", content="") + chunk(content="你好") + chunk(content="!")
            + usage(3, 2))
    whole = measure([(body, 10.0)])
    split = measure([(body[i:i + 7], 10.0) for i in range(0, len(body), 7)])
    assert whole == split and whole.completion_tokens == 2


def test_malformed_usage_is_not_taken():
    figures = measure([(chunk(content="a"), 1.0),
                       (event({"choices": [], "usage": {"completion_tokens": "many"}}), 2.0)])
    assert (figures.completion_tokens, figures.tokens_source) == (1, "chunks")


# Answers that came whole

def test_a_whole_openai_answer_gives_tokens_and_finish_reason():
    body = json.dumps({"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 4, "completion_tokens": 9}}).encode()
    figures = answer_metrics(body, "application/json")
    assert (figures.prompt_tokens, figures.completion_tokens, figures.tokens_source) == (
        4, 9, "usage")
    assert figures.finish_reason == "stop" and figures.ttft_ms is None


@pytest.mark.parametrize(("body", "content_type"), [
    (b'{"echo": 1}', "application/json"),
    (b'{"choices": "nope"}', "application/json"),
    (b"not json", "application/json"),
    (b'{"choices": []}', "text/plain"),
    (b"", "application/json"),
])
def test_other_answers_give_nothing(body, content_type):
    figures = answer_metrics(body, content_type)
    assert (figures.completion_tokens, figures.finish_reason, figures.tokens_source) == (
        None, "", "")


def test_a_whole_stream_gives_tokens_but_no_times():
    figures = answer_metrics(chunk(content="a") + chunk(content="b", finish="stop"),
                             "text/event-stream")
    assert (figures.completion_tokens, figures.finish_reason) == (2, "stop")
    assert figures.ttft_ms is None and figures.tpot_ms is None


# The assembled text

def test_the_text_of_a_stream_is_assembled_with_the_reasoning_apart():
    body = (chunk(role="assistant", content="") + chunk(reasoning="Let me ") +
            chunk(reasoning="think.") + chunk(content="Hello") + chunk(content=", world") +
            b"data: [DONE]\n\n")
    assert assembled_text(body) == ("Let me think.", "Hello, world")


def test_a_body_without_openai_events_is_not_assembled():
    assert assembled_text(b"data: hello\n\n") is None
    assert assembled_text(b'{"choices": []}') is None
