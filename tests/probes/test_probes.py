"""Probes (services/probes.py, `manage.py run_probes`, docs/api.md "Probes and status"): the
probe on the Service JSON and its refusals, a pass of the runner against the emulator, the
state it finds and its changes (audited), the claim, and what the history and the board see."""

import base64
import io
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from emulator import most_at_once
from services import probes
from services.models import AuditEvent, Call, Probe, ProbeHour
from tests.helpers import detail, free_port, logged_in, make_service, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checked(emulator_received):
    """emulator_received, where the probes' requests land."""
    return emulator_received


def patch_probe(client, slug, **probe):
    return send(client, "patch", f"/api/services/{slug}", {"probe": probe})


def one_pass():
    with ThreadPoolExecutor(max_workers=4) as pool:
        return probes.run_pass(pool)


def test_an_llm_service_defaults_to_get_v1_models_every_300_s_off(acme, emulator, alice):
    emulator.service(acme, "demo-chat", slug="chat-p")
    probe = logged_in(alice).get("/api/services/chat-p").json()["probe"]
    assert probe == {"enabled": False, "method": "GET", "path": "/v1/models", "body": "",
                     "interval_s": 300, "expect_status": 200}


def test_another_service_defaults_to_its_own_request(echo, alice):
    probe = logged_in(alice).get("/api/services/echo").json()["probe"]
    assert (probe["method"], probe["path"], probe["enabled"]) == ("POST", "/echo", False)


def test_a_maintainer_turns_it_on_and_changes_it(echo, alice, bob):
    response = patch_probe(logged_in(alice), "echo", enabled=True, method="GET",
                           path="/status/204", interval_s=60, expect_status=204)
    assert response.status_code == 200, response.content
    assert response.json()["probe"] == {"enabled": True, "method": "GET", "path": "/status/204",
                                        "body": "", "interval_s": 60, "expect_status": 204}
    probe = Probe.objects.get()
    assert probe.next_at is None  # due at once
    assert patch_probe(logged_in(bob), "echo", enabled=False).status_code == 403
    assert Probe.objects.get().enabled


def test_a_new_service_may_come_with_its_probe(acme, alice, emulator):
    response = send(logged_in(alice), "post", "/api/services", {
        "slug": "p-new", "name": "P", "team": "acme", "kind": "custom", "gateway": "shared",
        "public_endpoint": emulator.base("demo-echo"), "token": emulator.token("demo-echo"),
        "probe": {"enabled": True, "path": "/echo", "interval_s": 30}})
    assert response.status_code == 201, response.content
    assert response.json()["probe"]["enabled"] and Probe.objects.get().interval_s == 30


@pytest.mark.parametrize(("probe", "status", "named"), [
    ({"interval_s": 29}, 400, "at least 30 seconds"),
    ({"interval_s": 86401}, 400, "at most 86400"),
    ({"path": "/../admin"}, 400, "probe.path"),
    ({"path": "//elsewhere/x"}, 400, "probe.path"),
    ({"expect_status": 99}, 400, "HTTP status"),
    ({"method": "BREW"}, 400, "method"),
    ({"body": "x" * 1_048_577}, 413, "1 MB"),
])
def test_bad_probe_values_are_refused_and_nothing_changes(echo, alice, probe, status, named):
    response = patch_probe(logged_in(alice), "echo", **probe)
    assert response.status_code == status
    assert named in detail(response)
    assert not Probe.objects.exists()


def test_a_token_the_keys_cannot_read_cannot_be_probed(echo, alice, settings):
    settings.EASPORTAL_TOKEN_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    response = patch_probe(logged_in(alice), "echo", enabled=True)
    assert response.status_code == 409 and "probe" in detail(response)
    assert not Probe.objects.exists()


def test_a_pass_checks_due_probes_through_the_call_path(echo, alice, checked):
    patch_probe(logged_in(alice), "echo", enabled=True, method="GET", path="/echo/ping")
    assert one_pass() == 1
    [arrived] = list(checked)
    assert (arrived["method"], arrived["path"]) == ("GET", "/api/predict/demo-echo/echo/ping")
    assert arrived["headers"]["Authorization"] == echo.read_token()
    probe = Probe.objects.get()
    assert probe.state == "up" and probe.last_error == "" and probe.last_latency_ms > 0
    assert probe.next_at > timezone.now() + timedelta(seconds=290)
    call = Call.objects.get()
    assert (call.source, call.user, call.username, call.status) == ("probe", None, "", 200)
    assert call.request_headers["Authorization"] == "[redacted]"
    # Not due again until its interval has passed.
    assert one_pass() == 0 and len(checked) == 1
    hour = ProbeHour.objects.get()
    assert (hour.checks, hour.ups) == (1, 1)
    assert hour.latency_sum_ms == pytest.approx(call.elapsed_ms)
    # The history hides probe calls unless asked.
    client = logged_in(alice)
    assert client.get("/api/calls").json()["items"] == []
    assert len(client.get("/api/calls?source=probe").json()["items"]) == 1


def test_state_changes_between_up_and_down_are_audited(echo, alice, checked):
    client = logged_in(alice)
    patch_probe(client, "echo", enabled=True, method="GET", path="/echo")
    one_pass()
    assert Probe.objects.get().state == "up"
    patch_probe(client, "echo", path="/status/503")
    one_pass()
    probe = Probe.objects.get()
    assert probe.state == "down" and "HTTP 503, where 200 was expected" in probe.last_error
    patch_probe(client, "echo", path="/echo")
    one_pass()
    assert Probe.objects.get().state == "up"
    events = list(AuditEvent.objects.filter(action__in=["service.down", "service.up"])
                  .order_by("id").values_list("action", "username", "target", "team__slug"))
    assert events == [("service.down", "", "echo", "acme"), ("service.up", "", "echo", "acme")]
    hour = ProbeHour.objects.get()
    assert (hour.checks, hour.ups) == (3, 2)


def test_down_is_also_a_connection_that_fails(acme, alice, checked):
    service = make_service(acme, slug="gone", public_endpoint=f"http://127.0.0.1:{free_port()}",
                           vpc_endpoint="", default_path="/x")
    Probe.objects.create(service=service, enabled=True, path="/x")
    one_pass()
    probe = Probe.objects.get()
    assert probe.state == "down" and "refused" in probe.last_error
    assert Call.objects.get().error_kind == "refused"


def test_down_is_also_an_answer_cut_at_the_response_limit(echo, alice, checked, settings):
    patch_probe(logged_in(alice), "echo", enabled=True, method="POST", path="/echo",
                body='{"pad": "' + "x" * 500 + '"}', expect_status=200)
    settings.EASPORTAL_MAX_RESPONSE_BYTES = 100
    one_pass()
    call = Call.objects.get()
    assert (call.status, call.error, call.response_truncated) == (200, "", True)
    probe = Probe.objects.get()
    assert probe.state == "down"
    assert "cut at the limit of 100 bytes" in probe.last_error
    assert (ProbeHour.objects.get().checks, ProbeHour.objects.get().ups) == (1, 0)


def test_down_is_also_the_deadline_of_the_call_path(acme, emulator, alice, checked):
    service = emulator.service(acme, "demo-echo", slug="sleepy", timeout_s=1)
    Probe.objects.create(service=service, enabled=True, method="GET", path="/slow?seconds=5")
    one_pass()
    probe = Probe.objects.get()
    assert probe.state == "down"
    assert "within the deadline of 1 s" in probe.last_error
    assert 900 <= probe.last_latency_ms < 4000
    call = Call.objects.get()
    assert (call.source, call.error_kind, call.status) == ("probe", "timeout", None)


def test_an_address_the_policy_refuses_shows_unknown_and_sends_nothing(echo, alice, checked,
                                                                        settings):
    patch_probe(logged_in(alice), "echo", enabled=True, method="GET", path="/echo")
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["*.pai-eas.aliyuncs.com"]
    one_pass()
    probe = Probe.objects.get()
    assert probe.state == "unknown" and "127.0.0.1" in probe.last_error
    assert probe.last_checked_at is not None and probe.last_latency_ms is None
    assert len(checked) == 0 and not Call.objects.exists() and not ProbeHour.objects.exists()
    row = logged_in(alice).get("/api/status").json()[0]
    assert (row["state"], row["last_error"]) == ("unknown", probe.last_error)


def test_the_pool_bounds_the_probes_sent_at_once(acme, emulator, checked):
    for n in range(6):
        service = emulator.service(acme, "demo-echo", slug=f"slow{n}")
        Probe.objects.create(service=service, enabled=True, method="GET",
                             path="/slow?seconds=0.3")
    out = io.StringIO()
    call_command("run_probes", "--once", "--pool", "2", stdout=out)
    records = [record for record in checked if "/slow" in record["path"]]
    assert len(records) == 6
    assert most_at_once(records) == 2
    # Three rounds of two, 0.3 s each: no faster than that.
    assert out.getvalue().startswith("6 probes checked in ")
    assert float(out.getvalue().split(" in ")[1].split()[0]) >= 0.9
    assert set(Probe.objects.values_list("state", flat=True)) == {"up"}


def test_an_unreadable_token_shows_unknown_with_the_reason_and_sends_nothing(
        echo, alice, checked, settings):
    patch_probe(logged_in(alice), "echo", enabled=True)
    settings.EASPORTAL_TOKEN_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    one_pass()
    probe = Probe.objects.get()
    assert probe.state == "unknown" and "token" in probe.last_error.lower()
    assert len(checked) == 0 and not Call.objects.exists() and not ProbeHour.objects.exists()
    row = logged_in(alice).get("/api/status").json()[0]
    assert (row["state"], row["last_error"]) == ("unknown", probe.last_error)


def test_the_claim_is_a_compare_and_set(echo, alice):
    patch_probe(logged_in(alice), "echo", enabled=True)
    first, second = Probe.objects.get(), Probe.objects.get()  # two runners read it
    assert probes.claim(first) is True
    assert probes.claim(second) is False
    later = Probe.objects.get()
    assert probes.claim(later) is True  # what a runner reads after the claim can claim again
    later.enabled = False
    later.save()
    assert probes.claim(Probe.objects.get()) is False  # turned off: never


def test_run_probes_once_is_the_command(echo, alice, checked):
    patch_probe(logged_in(alice), "echo", enabled=True, method="GET", path="/echo")
    call_command("run_probes", "--once", verbosity=0)
    assert Probe.objects.get().state == "up" and len(checked) == 1


def test_the_demo_services_have_their_probes_on(db, emulator, checked):
    call_command("seed_demo", "--emulator-port", str(emulator.port), verbosity=0)
    on = Probe.objects.filter(enabled=True)
    # Each one's default request, every minute: GET /v1/models for the LLM service.
    assert sorted(on.values_list("service__slug", "method", "path", "interval_s")) == [
        ("demo-chat", "GET", "/v1/models", 60),
        ("demo-echo", "POST", "/echo", 60),
        ("demo-reranker", "POST", "/v1/rerank", 60),
    ]
    one_pass()
    assert set(on.values_list("state", flat=True)) == {"up"}
    assert sorted((record["method"], record["path"]) for record in checked) == [
        ("GET", "/api/predict/demo-chat/v1/models"),
        ("POST", "/api/predict/demo-echo/echo"),
        ("POST", "/api/predict/demo-reranker/v1/rerank"),
    ]
