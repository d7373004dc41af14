"""Shared people and objects: alice maintains team Acme, bob is a member of it, and charlie
maintains team Globex, so he should have no access to Acme's services."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from pytest_django.live_server_helper import LiveServer

from services.models import Membership, Role, Service, Team

pytest_plugins = ["tests.emulator"]

TOKEN = "acme-Secret-Token-value-7Qz9"
EAS_PUBLIC = "http://1234567890123456.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/chat"
EAS_VPC = "http://1234567890123456.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/chat"


@pytest.fixture(scope="session", autouse=True)
def static_files():
    # The pages use the same hashed, compressed static files as production.
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server, with static files served by WhiteNoise from the collected
    STATIC_ROOT as in production: its default handler looks files up with the finders, which
    know no hashed names ("js/builder.0123abcd.js"), so every script would 404."""
    server = LiveServer("localhost", start=False)
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()


def make_user(username, **extra):
    return get_user_model().objects.create_user(username, password="pw-" + username, **extra)


def make_service(team, token=TOKEN, **fields):
    values = {
        "name": "Chat", "slug": "chat", "kind": Service.Kind.LLM,
        "gateway": Service.Gateway.SHARED, "public_endpoint": EAS_PUBLIC,
        "vpc_endpoint": EAS_VPC, "default_path": "/v1/chat/completions",
    }
    values.update(fields)
    service = Service(team=team, **values)
    service.set_token(token)
    service.full_clean()
    service.save()
    return service


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def charlie(db):
    return make_user("charlie")


@pytest.fixture
def acme(alice, bob):
    team = Team.objects.create(slug="acme", name="Acme")
    Membership.objects.create(team=team, user=alice, role=Role.MAINTAINER)
    Membership.objects.create(team=team, user=bob, role=Role.MEMBER)
    return team


@pytest.fixture
def globex(charlie):
    team = Team.objects.create(slug="globex", name="Globex")
    Membership.objects.create(team=team, user=charlie, role=Role.MAINTAINER)
    return team


@pytest.fixture
def service(acme):
    return make_service(acme)


@pytest.fixture
def client_for(client):
    """A test client logged in as the given user."""

    def log_in(user):
        client.force_login(user)
        return client

    return log_in
