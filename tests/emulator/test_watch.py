"""What the emulator records of an answer's life (started_at, finished_at, disconnected,
disconnected_at), and the control route /__emulator__/received.

Timings are checked with generous margins, so that a loaded 2-core machine does not fail
them; each margin still tells the behaviour apart from its absence."""

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
