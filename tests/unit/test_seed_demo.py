import http.client
import io
import json
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from emulator import DEMO_SERVICES
from services import access
from services.models import Role, Service, Team
from tests.helpers import make_service, make_superuser, make_user


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_demo_team_and_services(db):
    out = seed("--emulator-port", "8123")
    assert "3 service(s) created, 0 updated" in out
    team = Team.objects.get(slug="demo")
    assert team.name == "Demo"
    services = {service.slug: service for service in team.services.all()}
    assert set(services) == set(DEMO_SERVICES)
    for name, entry in DEMO_SERVICES.items():
        service = services[name]
        assert service.public_endpoint == f"http://127.0.0.1:8123/api/predict/{name}"
        assert service.read_token() == entry["token"]
        assert service.gateway == Service.Gateway.SHARED
        assert "emulator" in service.description
    chat = services["demo-chat"]
    assert (chat.kind, chat.default_path) == (Service.Kind.LLM, "/v1/chat/completions")
    assert json.loads(chat.default_body)["model"] == DEMO_SERVICES["demo-chat"]["model"]
    assert services["demo-reranker"].default_path == "/v1/rerank"
    assert services["demo-echo"].default_path == "/echo"


def test_it_takes_the_port_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("EMULATOR_PORT", "8777")
    seed()
    assert Service.objects.get(slug="demo-echo").public_endpoint.startswith(
        "http://127.0.0.1:8777/")


def test_it_is_idempotent(db):
    seed()
    Service.objects.filter(slug="demo-chat").update(name="Renamed", default_path="/elsewhere")
    out = seed()
    assert "0 service(s) created, 3 updated" in out
    assert Team.objects.filter(slug="demo").count() == 1
    assert Service.objects.filter(team__slug="demo").count() == len(DEMO_SERVICES)
    assert Service.objects.get(slug="demo-chat").default_path == "/v1/chat/completions"


def test_it_makes_every_superuser_a_maintainer(db):
    root, other_root = make_superuser("root"), make_superuser("root2")
    plain = make_user("plain")
    seed()
    seed()
    team = Team.objects.get(slug="demo")
    roles = {m.user.username: m.role for m in team.memberships.select_related("user")}
    assert roles == {"root": Role.MAINTAINER, "root2": Role.MAINTAINER}
    assert access.role(plain, team) is None
    assert root.teams.count() == other_root.teams.count() == 1


def test_it_refuses_when_the_host_policy_does_not_allow_loopback(db, settings):
    settings.EASPORTAL_ALLOWED_ENDPOINT_HOSTS = ["*.pai-eas.aliyuncs.com"]
    with pytest.raises(CommandError, match="Add 127.0.0.1 to EASPORTAL_ALLOWED_ENDPOINT_HOSTS"):
        seed()
    assert not Team.objects.filter(slug="demo").exists()  # nothing half-done


def test_it_leaves_another_teams_service_alone(acme):
    make_service(acme, slug="demo-echo", name="Acme's own")
    with pytest.raises(CommandError, match="taken by a service of team 'acme'"):
        seed()
    assert Service.objects.get(slug="demo-echo").name == "Acme's own"


def test_each_demo_services_default_request_works_on_the_emulator(db, emulator):
    seed("--emulator-port", str(emulator.port))
    for service in Service.objects.filter(team__slug="demo"):
        url = urlsplit(service.public_endpoint + service.default_path)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        conn.request(service.default_method, url.path, body=service.default_body.encode(),
                     headers={"Authorization": service.read_token(),
                              "Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200, (service.slug, response.read())
        conn.close()
