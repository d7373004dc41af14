"""The service pages record what they change in the audit log, in the same transaction as the
change (services/views/services.py): a service created, changed (its fields and its probe's
named, never their values), given a new token, deleted; nothing when the change is refused.

alice maintains Acme, bob is a member of it."""

import json

import pytest
from django.urls import reverse

from services import audit
from services.models import AuditEvent, Service
from tests.helpers import EAS_PUBLIC, TOKEN, logged_in

pytestmark = pytest.mark.django_db

NEW = "new-Token-value-5678"
PROBE_OFF = {"probe-method": "GET", "probe-path": "", "probe-body": "",
             "probe-interval_s": "300", "probe-expect_status": "200"}


def form_data(team, **overrides):
    data = {
        "name": "Reranker", "slug": "reranker", "team": team.pk, "kind": "model_gallery",
        "gateway": "dedicated", "public_endpoint": EAS_PUBLIC.replace("chat", "reranker"),
        "vpc_endpoint": "", "default_endpoint": "public", "region": "", "description": "",
        "default_method": "POST", "default_path": "/", "default_body": "", "timeout_s": "60",
        "token": "rerank-token-abcd", **PROBE_OFF,
    }
    data.update(overrides)
    return data


def edit_data(service, **overrides):
    data = {field: getattr(service, field) for field in (
        "name", "slug", "kind", "gateway", "public_endpoint", "vpc_endpoint", "default_endpoint",
        "region", "description", "default_method", "default_path", "default_body", "timeout_s")}
    data.update(team=service.team.pk, token="", **PROBE_OFF)
    data.update(overrides)
    return data


def recorded():
    return list(AuditEvent.objects.order_by("id").values_list(
        "username", "action", "team__slug", "target", "detail"))


def test_a_service_created_on_its_page_is_recorded(acme, alice):
    response = logged_in(alice).post(reverse("service_create"), form_data(acme))
    assert response.status_code == 302
    assert recorded() == [("alice", "service.created", "acme", "reranker",
                           {"name": "Reranker"})]


def test_a_refused_or_invalid_creation_records_nothing(acme, alice, bob):
    assert logged_in(bob).post(reverse("service_create"), form_data(acme)).status_code == 403
    response = logged_in(alice).post(reverse("service_create"),
                                     form_data(acme, public_endpoint="ftp://x"))
    assert response.status_code == 200  # the form again, with its errors
    assert recorded() == [] and not Service.objects.exists()


def test_an_edit_names_the_fields_and_a_new_token_is_an_event_of_its_own(service, alice):
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]),
                                     edit_data(service, name="Renamed", timeout_s="90",
                                               token=NEW))
    assert response.status_code == 302
    assert recorded() == [
        ("alice", "service.changed", "acme", "chat", {"fields": ["name", "timeout_s"]}),
        ("alice", "token.changed", "acme", "chat", {}),
    ]


def test_an_edit_that_changes_nothing_records_nothing(service, alice):
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]), edit_data(service))
    assert response.status_code == 302
    assert recorded() == []


def test_turning_the_probe_on_is_a_change_of_the_service(service, alice):
    data = edit_data(service, **{"probe-enabled": "on", "probe-interval_s": "60"})
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]), data)
    assert response.status_code == 302
    [(username, action, team, target, detail)] = recorded()
    assert (username, action, team, target) == ("alice", "service.changed", "acme", "chat")
    assert {"probe.enabled", "probe.interval_s"} <= set(detail["fields"])


def test_a_refused_or_invalid_edit_records_nothing(service, alice, bob):
    url = reverse("service_edit", args=["chat"])
    assert logged_in(bob).post(url, edit_data(service, name="Mine")).status_code == 403
    response = logged_in(alice).post(url, edit_data(service, name="Renamed",
                                                    public_endpoint="ftp://x", token=NEW))
    assert response.status_code == 200
    assert recorded() == []
    assert Service.objects.get().read_token() == TOKEN


def test_an_edit_whose_record_fails_is_rolled_back(service, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the audit log could not be written")

    monkeypatch.setattr(audit.AuditEvent.objects, "create", broken)
    with pytest.raises(RuntimeError):
        logged_in(alice).post(reverse("service_edit", args=["chat"]),
                              edit_data(service, name="Renamed", token=NEW))
    service = Service.objects.get()
    assert (service.name, service.read_token()) == ("Chat", TOKEN)


def test_a_service_deleted_on_its_page_is_recorded(service, alice, bob):
    url = reverse("service_delete", args=["chat"])
    assert logged_in(bob).post(url).status_code == 403
    assert recorded() == []
    assert logged_in(alice).post(url).status_code == 302
    assert recorded() == [("alice", "service.deleted", "acme", "chat", {"name": "Chat"})]


def test_no_event_of_the_pages_holds_a_token(service, acme, alice):
    client = logged_in(alice)
    client.post(reverse("service_create"), form_data(acme))
    client.post(reverse("service_edit", args=["chat"]), edit_data(service, token=NEW,
                                                                  default_body=TOKEN))
    client.post(reverse("service_delete", args=["reranker"]))
    assert len(recorded()) == 4
    text = json.dumps(recorded())
    assert not [secret for secret in (TOKEN, NEW, "rerank-token-abcd", NEW[-4:]) if secret in text]
