"""What the emulator records of a stream's life (started_at, finished_at, disconnected,
disconnected_at), that it stops a stream whose client left, the control route
/__emulator__/received, and that many paced streams are served at once.

Timings are checked with generous margins, so that a loaded 2-core machine does not fail
them; each margin still tells the behaviour apart from its absence."""

import json
import threading
import time

import pytest
import requests

LONG = " ".join(f"w{index}" for index in range(60))


def chat(max_tokens, **fields):
    return {"model": "Qwen3-8B", "messages": [{"role": "user", "content": LONG}],
            "max_tokens": max_tokens, "stream": True, **fields}


def open_stream(emulator, body, headers=None, path="/v1/chat/completions"):
    headers = {"Authorization": emulator.token("demo-chat"), **(headers or {})}
    response = requests.post(emulator.base("demo-chat") + path, json=body, headers=headers,
                             stream=True, timeout=30)
    assert response.status_code == 200
    return response


def newest(app, path_end, until, deadline=5.0):
    """The newest record whose path ends with path_end, once until(record) holds (or the
    deadline passes)."""
    give_up = time.monotonic() + deadline
    while True:
        record = next(r for r in reversed(app.received) if r["path"].endswith(path_end))
        if until(record) or time.monotonic() > give_up:
            return record
        time.sleep(0.01)


def test_a_stream_that_ends_records_when_it_started_and_finished(emulator, emulator_received):
    before = time.monotonic()
    with open_stream(emulator, chat(5), {"X-Emulator-Tokens-Per-S": "20"}) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == b"data: [DONE]"
    record = newest(emulator.app, "/completions", lambda r: r["finished_at"])
    assert before <= record["started_at"] < record["finished_at"] <= time.monotonic()
    assert record["finished_at"] - record["started_at"] >= 0.24  # 5 tokens, 50 ms apart
    assert (record["disconnected"], record["disconnected_at"]) == (False, None)


def test_a_client_that_leaves_between_slow_chunks_is_seen_at_once(emulator, emulator_received):
    # One token a second: waiting for the next write to fail would take up to a second.
    response = open_stream(emulator, chat(30), {"X-Emulator-Tokens-Per-S": "1"})
    lines = response.iter_lines()
    first = next(line for line in lines if line)
    assert b'"role": "assistant"' in first  # sent at once; the first token is a second away
    closed = time.monotonic()
    response.close()
    record = newest(emulator.app, "/completions", lambda r: r["disconnected"])
    assert record["disconnected"] is True
    assert 0 <= record["disconnected_at"] - closed < 0.5
    assert record["finished_at"] is None


def test_a_stream_whose_client_left_stops_and_frees_its_thread(start_emulator):
    # One thread: the next request is answered only once the stream has stopped.
    alone = start_emulator(threads=1, tokens_per_s=10)
    response = open_stream(alone, chat(60))  # 6 s of tokens
    lines = response.iter_lines()
    assert b"content" in next(line for line in lines if line)
    response.close()
    started = time.monotonic()
    models = requests.get(alone.base("demo-chat") + "/v1/models", timeout=30,
                          headers={"Authorization": alone.token("demo-chat")})
    assert models.status_code == 200
    assert time.monotonic() - started < 3  # not the 6 s the stream would have lasted
    stream = next(r for r in alone.app.received if r["path"].endswith("/completions"))
    assert stream["disconnected"] and stream["finished_at"] is None


def test_a_trickle_whose_client_left_is_recorded_and_stops(emulator, emulator_received):
    response = requests.get(emulator.base("demo-echo") + "/trickle?seconds=10", stream=True,
                            headers={"Authorization": emulator.token("demo-echo")}, timeout=30)
    assert response.raw.read(1) == b"."
    closed = time.monotonic()
    response.close()
    record = newest(emulator.app, "/trickle", lambda r: r["disconnected"])
    assert record["disconnected"] and record["disconnected_at"] - closed < 0.5
    assert record["finished_at"] is None


def test_a_plain_answer_records_its_finish_too(emulator, emulator_received):
    requests.get(emulator.base("demo-chat") + "/v1/models", timeout=30,
                 headers={"Authorization": emulator.token("demo-chat")})
    record = newest(emulator.app, "/v1/models", lambda r: r["finished_at"])
    assert record["started_at"] <= record["finished_at"]
    assert record["disconnected"] is False


def control(emulator, query="", method="GET"):
    return requests.request(method, f"{emulator.url}/__emulator__/received{query}", timeout=30)


def test_the_control_route_gives_the_last_records_without_a_token(emulator, emulator_received):
    token = {"Authorization": emulator.token("demo-echo")}
    for word in ("one", "two", "three"):
        requests.post(emulator.base("demo-echo") + f"/echo?w={word}", data=b"secret body",
                      headers=token, timeout=30)
    answer = control(emulator, "?last=2")
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "application/json")
    records = answer.json()["received"]
    assert [record["query"] for record in records] == ["w=two", "w=three"]
    assert set(records[0]) == {"method", "path", "query", "status", "client_port", "started_at",
                               "finished_at", "disconnected", "disconnected_at"}
    assert records[1]["path"] == "/api/predict/demo-echo/echo"
    assert (records[1]["method"], records[1]["status"]) == ("POST", 200)
    assert "secret body" not in answer.text and token["Authorization"] not in answer.text
    # Polling it is not recorded: it would push out what it looks for.
    assert len(control(emulator).json()["received"]) == len(emulator_received) == 3
    assert control(emulator, "?last=0").json() == {"received": []}
    assert len(control(emulator, "?last=50").json()["received"]) == 3


def test_the_control_routes_times_are_the_records(emulator, emulator_received):
    with open_stream(emulator, chat(2)) as response:
        response.content  # noqa: B018  (read to the end)
    record = newest(emulator.app, "/completions", lambda r: r["finished_at"])
    given = control(emulator, "?last=1").json()["received"][0]
    assert given["started_at"] == record["started_at"]
    assert given["finished_at"] == record["finished_at"]


@pytest.mark.parametrize("query, method, status", [
    ("?last=two", "GET", 400), ("?last=-1", "GET", 400), ("?last=", "GET", 400),
    ("", "POST", 405), ("", "DELETE", 405),
])
def test_the_control_route_refuses_what_it_does_not_answer(emulator, query, method, status):
    answer = control(emulator, query, method)
    assert answer.status_code == status
    assert answer.text.count("\n") == 1
    if status == 405:
        assert answer.headers["Allow"] == "GET"


def test_other_paths_outside_the_services_are_still_404(emulator):
    answer = requests.get(f"{emulator.url}/__emulator__/other", timeout=30)
    assert answer.status_code == 404


def test_64_paced_streams_are_served_at_once(start_emulator):
    # 20 tokens at 10 a second: 2 s each. Served 16 at a time (waitress's default thread
    # count) they would take at least 8 s.
    paced = start_emulator(tokens_per_s=10)
    counts, errors = [], []

    def one():
        try:
            with open_stream(paced, chat(20)) as response:
                events = [json.loads(line[6:]) for line in response.iter_lines()
                          if line.startswith(b"data: {")]
            counts.append(sum(1 for event in events if event["choices"]
                              and event["choices"][0]["delta"].get("content")))
        except Exception as exc:  # reported below, with the others
            errors.append(repr(exc))

    threads = [threading.Thread(target=one) for _ in range(64)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    took = time.monotonic() - started
    assert errors == []
    assert counts == [20] * 64
    assert 1.9 <= took < 5, took
