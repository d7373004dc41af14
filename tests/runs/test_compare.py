"""Compare (POST /api/compare): one request to 2 to 4 targets, interleaved round by round, each
request a Call of the compare; who may, and what is refused before anything is sent."""

import pytest

from services.models import Call, Run
from tests.helpers import detail, logged_in, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(slow, upstream):
    """slow, with a VPC endpoint too (the same emulator, as a VPC address would be)."""
    slow.vpc_endpoint = slow.public_endpoint
    slow.save()
    return slow


def compare(client, targets, **body):
    return send(client, "post", "/api/compare", {"targets": targets, **body})


def test_public_and_vpc_interleaved_each_a_call_of_the_compare(both, bob, upstream):
    response = compare(logged_in(bob), [{"service": "slow", "endpoint": "public"},
                                        {"service": "slow", "endpoint": "vpc"}],
                       request={"path": "/echo", "method": "POST", "body": "same"}, rounds=3)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert [(t["service"], t["endpoint"]) for t in answer["targets"]] == [
        ("slow", "public"), ("slow", "vpc")]
    calls = list(Call.objects.order_by("id"))
    assert [call.endpoint for call in calls] == ["public", "vpc"] * 3
    assert [call.pk for call in calls[0::2]] == answer["targets"][0]["calls"]
    assert [call.pk for call in calls[1::2]] == answer["targets"][1]["calls"]
    assert {(call.source, call.run_id) for call in calls} == {("run", answer["id"])}
    assert all(t["statuses"] == {"200": 3} for t in answer["targets"])
    latencies = [call.elapsed_ms for call in calls[0::2]]
    assert answer["targets"][0]["latency_ms"]["max"] == pytest.approx(max(latencies), abs=0.001)
    assert answer["same_body"] is True
    assert (answer["rounds"], answer["reason"]) == (3, "")
    assert len(upstream.app.received) == 6
    run = logged_in(bob).get(f"/api/runs/{answer['id']}").json()
    assert (run["kind"], run["state"], run["sent"], run["ok"]) == ("compare", "done", 6, 6)


def test_two_services_that_answer_differently(slow, acme, alice, upstream):
    upstream.service(acme, "demo-chat", slug="chat-b")
    answer = compare(logged_in(alice), [{"service": "slow"}, {"service": "chat-b"}],
                     request={"path": "/echo", "method": "GET"}, rounds=2).json()
    assert [t["service"] for t in answer["targets"]] == ["slow", "chat-b"]
    assert [t["statuses"] for t in answer["targets"]] == [{"200": 2}, {"200": 2}]
    # /echo answers the path it was called on: each service's own.
    assert answer["same_body"] is False
    paths = [record["path"] for record in upstream.app.received]
    assert paths == ["/api/predict/demo-echo/echo", "/api/predict/demo-chat/echo"] * 2


@pytest.mark.parametrize(("body", "named"), [
    ({"targets": [{"service": "slow"}]}, "from 2 to 4 targets"),
    ({"targets": [{"service": "slow"}] * 5}, "from 2 to 4 targets"),
    ({"targets": [{"service": "slow"}, {"service": "slow", "endpoint": "public"}]},
     "must differ"),
    ({"targets": [{"service": "slow"}, {"service": "slow", "endpoint": "vpc"}], "rounds": 21},
     "rounds must be from 1 to 20"),
    ({"targets": [{"service": "slow"}, {"service": "slow", "endpoint": "vpc"}], "rounds": 0},
     "rounds must be from 1 to 20"),
    ({"targets": [{"service": "slow"}, {"service": "slow", "endpoint": "vpc"}],
      "request": {"body": "x" * 1_048_577}}, "1 MB"),
])
def test_refused_before_anything_is_sent(both, alice, upstream, body, named):
    response = send(logged_in(alice), "post", "/api/compare", body)
    assert response.status_code in (400, 413)
    assert named in detail(response)
    assert len(upstream.app.received) == 0 and not Call.objects.exists()
    assert not Run.objects.exists()


def test_no_vpc_endpoint_is_refused(slow, alice, upstream):
    response = compare(logged_in(alice), [{"service": "slow", "endpoint": "public"},
                                          {"service": "slow", "endpoint": "vpc"}])
    assert response.status_code == 400 and "no VPC endpoint" in detail(response)


def test_another_teams_service_is_404(both, alice, charlie, globex, upstream):
    upstream.service(globex, "demo-echo", slug="theirs")
    response = compare(logged_in(alice), [{"service": "slow"}, {"service": "theirs"}])
    assert response.status_code == 404
    response = compare(logged_in(charlie), [{"service": "slow"}, {"service": "theirs"}])
    assert response.status_code == 404
    assert len(upstream.app.received) == 0


def test_no_round_starts_after_the_compares_time(both, alice, upstream, monkeypatch):
    from services.runs import compare as compare_module

    monkeypatch.setattr(compare_module, "MAX_SECONDS", 0.15)
    answer = compare(logged_in(alice), [{"service": "slow", "endpoint": "public"},
                                        {"service": "slow", "endpoint": "vpc"}],
                     request={"path": "/slow?seconds=0.1", "method": "GET"}, rounds=10).json()
    # Round one ends after 0.2 s, past 0.15: no second round.
    assert answer["rounds"] == 1 and "1 of 10 rounds" in answer["reason"]
    assert [len(target["calls"]) for target in answer["targets"]] == [1, 1]
    assert len(upstream.app.received) == 2


def test_a_compare_longer_than_a_heartbeat_is_not_taken_for_a_dead_one(both, alice, upstream,
                                                                        monkeypatch):
    from services import calls
    from services.runs import state

    # Each request takes longer than a run may go without a heartbeat.
    monkeypatch.setattr(state, "STALE_S", 0.05)
    client, seen = logged_in(alice), []
    send_ready = calls.send_ready

    def send_then_look(*args, **kwargs):
        answer = send_ready(*args, **kwargs)
        seen.append(client.get(f"/api/runs/{Run.objects.get().pk}").json()["state"])
        return answer

    monkeypatch.setattr(calls, "send_ready", send_then_look)
    answer = compare(client, [{"service": "slow", "endpoint": "public"},
                              {"service": "slow", "endpoint": "vpc"}],
                     request={"path": "/slow?seconds=0.1", "method": "GET"}, rounds=2).json()
    # What a viewer saw while it ran: running, not failed.
    assert seen == ["running"] * 4
    run = Run.objects.get()
    assert (run.state, run.reason, answer["rounds"]) == ("done", "", 2)
