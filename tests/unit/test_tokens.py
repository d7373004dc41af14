import base64
import logging
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services import tokens
from services.models import Service
from tests.helpers import EAS_PUBLIC, TOKEN, all_table_text, logged_in, make_service

OTHER_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()
THIRD_KEY = base64.urlsafe_b64encode(b"t" * 32).decode()


def create_through_the_form(client, team, token=TOKEN, slug="chat"):
    return client.post(reverse("service_create"), {
        "name": "Chat", "slug": slug, "team": team.pk, "kind": "llm", "gateway": "shared",
        "public_endpoint": EAS_PUBLIC, "vpc_endpoint": "", "default_endpoint": "public",
        "default_method": "POST", "default_path": "/v1/chat/completions", "timeout_s": "60",
        "token": token,
    })


def test_it_encrypts_and_decrypts():
    ciphertext = tokens.encrypt_token(TOKEN)
    assert TOKEN not in ciphertext
    assert tokens.decrypt_token(ciphertext) == TOKEN


@pytest.mark.parametrize("plaintext, hint", [
    ("abcdefghijklmnop", "mnop"),
    ("abcdefghijkl", "ijkl"),
    ("abcdef", "ef"),
    ("ab", ""),
])
def test_the_hint_shows_at_most_four_characters_and_never_much_of_a_short_token(plaintext, hint):
    assert tokens.token_hint(plaintext) == hint


def test_the_plaintext_is_in_no_table(acme, alice):
    client = logged_in(alice)
    response = create_through_the_form(client, acme)
    acme.services.get(slug="chat")  # the form really created it
    assert response.status_code == 302
    dump = all_table_text()
    assert TOKEN not in dump
    assert Service.objects.get(slug="chat").token_encrypted in dump


@pytest.mark.django_db(transaction=True)
def test_the_plaintext_is_not_in_the_database_file(acme, alice):
    if connection.vendor != "sqlite":
        pytest.skip("a raw file exists only for SQLite; the table dump test covers PostgreSQL")
    create_through_the_form(logged_in(alice), acme)
    service = Service.objects.get(slug="chat")
    path = Path(connection.settings_dict["NAME"])
    raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert service.token_encrypted.encode() in raw  # we are reading the right file
    assert TOKEN.encode() not in raw


def test_the_token_is_never_logged_nor_sent_to_the_database(acme, alice, caplog):
    caplog.set_level(logging.DEBUG)
    client = logged_in(alice)
    with CaptureQueriesContext(connection) as queries:
        create_through_the_form(client, acme)
        client.post(reverse("service_edit", args=["chat"]), {"token": TOKEN + "-new"})
    statements = "\n".join(query["sql"] for query in queries.captured_queries)
    assert "INSERT INTO" in statements and caplog.records  # both were captured
    assert TOKEN not in statements
    assert TOKEN not in caplog.text


def test_rotation_keeps_every_token(acme, settings):
    originals = {f"svc-{n}": f"token-number-{n}-{os.urandom(4).hex()}" for n in range(3)}
    for slug, token in originals.items():
        make_service(acme, slug=slug, token=token)
    old_key = settings.EASPORTAL_TOKEN_KEYS[0]

    settings.EASPORTAL_TOKEN_KEYS = [OTHER_KEY, old_key]
    call_command("rotate_token_keys", stdout=(out := _Buffer()))
    assert "Re-encrypted 3 token(s)" in out.text

    settings.EASPORTAL_TOKEN_KEYS = [OTHER_KEY]  # the old key is gone
    for service in Service.objects.all():
        assert service.read_token() == originals[service.slug]


def test_rotation_names_tokens_it_cannot_read_and_keeps_them(acme, settings):
    make_service(acme, slug="readable", token="first-token-value")
    settings.EASPORTAL_TOKEN_KEYS = [THIRD_KEY]
    make_service(acme, slug="orphan", token="second-token-value")
    before = Service.objects.get(slug="orphan").token_encrypted

    settings.EASPORTAL_TOKEN_KEYS = [OTHER_KEY, base64.urlsafe_b64encode(b"x" * 32).decode()]
    with pytest.raises(CommandError, match="readable, orphan|orphan, readable"):
        call_command("rotate_token_keys", stdout=_Buffer())
    assert Service.objects.get(slug="orphan").token_encrypted == before


def test_a_wrong_key_shows_a_clear_message_on_the_service_page(service, alice,
                                                               settings):
    settings.EASPORTAL_TOKEN_KEYS = [OTHER_KEY]
    response = logged_in(alice).get(reverse("service_detail", args=[service.slug]))
    assert response.status_code == 200
    assert "cannot be decrypted with the configured keys" in response.text
    assert "re-enter the token" in response.text


def test_re_entering_the_token_under_the_new_key_clears_the_message(service, alice,
                                                                     settings):
    settings.EASPORTAL_TOKEN_KEYS = [OTHER_KEY]
    client = logged_in(alice)
    form = client.get(reverse("service_edit", args=[service.slug])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(team=service.team.pk, token="a-brand-new-token-1234")
    client.post(reverse("service_edit", args=[service.slug]), data)
    response = client.get(reverse("service_detail", args=[service.slug]))
    assert "cannot be decrypted" not in response.text
    assert Service.objects.get(pk=service.pk).read_token() == "a-brand-new-token-1234"


class _Buffer:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_a_calls_token_is_decrypted_once_and_read_again_under_new_keys(settings, monkeypatch):
    ciphertext = tokens.encrypt_token(TOKEN)
    decrypted = []
    real = tokens.MultiFernet.decrypt

    def counting(self, token, *args):
        decrypted.append(token)
        return real(self, token, *args)

    monkeypatch.setattr(tokens.MultiFernet, "decrypt", counting)
    assert tokens.read_service_token(ciphertext) == TOKEN
    assert tokens.read_service_token(ciphertext) == TOKEN
    assert len(decrypted) == 1
    # Other keys: read again, and a key set that cannot read it says so (nothing kept).
    settings.EASPORTAL_TOKEN_KEYS = [OTHER_KEY]
    for _ in range(2):
        with pytest.raises(tokens.TokenUnreadable):
            tokens.read_service_token(ciphertext)
    assert len(decrypted) == 3
    # A new token is a new ciphertext: decrypted, not confused with the other.
    settings.EASPORTAL_TOKEN_KEYS = [OTHER_KEY]
    other = tokens.encrypt_token("another-token")
    assert tokens.read_service_token(other) == "another-token"
