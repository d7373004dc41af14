"""A key rotation cannot lose a token (issue 14, defect 12): an edit that read a service before
`rotate_token_keys` committed saves only what it changed, so the re-encrypted token stays; the
rotation itself replaces a token only if it is still what it read."""

import base64
import io
import json
import os

import pytest
from django.core.management import call_command
from django.urls import reverse

from services import access
from services.models import Service
from tests.helpers import TOKEN, logged_in

pytestmark = pytest.mark.django_db


def new_key():
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def keys(settings):
    """(old, new): the service's token is under old; new comes first once rotated."""
    old = settings.EASPORTAL_TOKEN_KEYS[0]
    return old, new_key()


def rotate(settings, old, new):
    settings.EASPORTAL_TOKEN_KEYS = [new, old]
    call_command("rotate_token_keys", stdout=io.StringIO())


def only(settings, key):
    settings.EASPORTAL_TOKEN_KEYS = [key]
    return Service.objects.get(slug="chat").read_token()


def test_a_save_of_a_service_read_before_the_rotation_keeps_the_rotated_token(
        service, keys, settings):
    old, new = keys
    edited = Service.objects.get(slug="chat")  # an edit reads the row...
    rotate(settings, old, new)                 # ...the rotation commits...
    edited.name = "Chat v2"
    edited.save()                              # ...the edit saves
    assert Service.objects.get(slug="chat").name == "Chat v2"
    assert only(settings, new) == TOKEN         # the old key can go


@pytest.fixture
def rotation_after_the_read(monkeypatch, settings, keys):
    """The rotation commits right after an edit has read the service, before it saves."""
    old, new = keys
    real = access.service

    def read_then_rotate(user, slug):
        found = real(user, slug)
        rotate(settings, old, new)
        return found

    monkeypatch.setattr(access, "service", read_then_rotate)
    return new


def test_an_api_edit_racing_a_rotation_keeps_the_token(service, alice, settings,
                                                       rotation_after_the_read):
    response = logged_in(alice).patch("/api/services/chat", json.dumps({"name": "Chat v2"}),
                                      content_type="application/json")
    assert response.status_code == 200
    assert only(settings, rotation_after_the_read) == TOKEN


def test_a_page_edit_racing_a_rotation_keeps_the_token(service, alice, settings,
                                                       rotation_after_the_read):
    data = {field: getattr(service, field) for field in (
        "name", "slug", "kind", "gateway", "public_endpoint", "vpc_endpoint", "default_endpoint",
        "region", "description", "default_method", "default_path", "default_body", "timeout_s")}
    data.update(team=service.team.pk, token="", name="Chat v2")
    response = logged_in(alice).post(reverse("service_edit", args=["chat"]), data)
    assert response.status_code == 302
    assert Service.objects.get(slug="chat").name == "Chat v2"
    assert only(settings, rotation_after_the_read) == TOKEN


def test_a_new_token_set_in_the_edit_is_the_one_kept(service, alice, settings,
                                                     rotation_after_the_read):
    response = logged_in(alice).patch(
        "/api/services/chat", json.dumps({"token": "brand-new-token-9876"}),
        content_type="application/json")
    assert response.status_code == 200
    assert only(settings, rotation_after_the_read) == "brand-new-token-9876"
