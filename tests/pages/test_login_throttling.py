"""Log-in throttling beyond the (username, address) pair (django-axes with
services.auth.LoginThrottle; README, "Configuration"). Within the cool-off:

- AXES_FAILURE_LIMIT failures of one username from one address lock that pair;
- EASPORTAL_LOGIN_FAILURES_PER_ADDRESS failures from one address, whatever the usernames, lock
  that address for every username;
- EASPORTAL_LOGIN_FAILURES_PER_USERNAME failures of one username, whatever the addresses, lock
  that username from every address.

A failed attempt answers the form again (200), a locked one 429, a log-in 302."""

import base64
import os
import secrets
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.helpers import manage

OFFICE = "203.0.113.9"  # one address for many people: a NAT, a VPN
HOME = "198.51.100.7"
GOOD_SETTINGS = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "EASPORTAL_TOKEN_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
}


def attempt(username, password, address):
    """One log-in attempt from address, as a new browser would make it: its status."""
    response = Client().post(reverse("login"), {"username": username, "password": password},
                             REMOTE_ADDR=address)
    return response.status_code


def many_addresses(count):
    return [f"192.0.2.{number}" for number in range(1, count + 1)]


def test_the_limits_are_looser_than_the_pairs():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.EASPORTAL_LOGIN_FAILURES_PER_ADDRESS == 20
    assert settings.EASPORTAL_LOGIN_FAILURES_PER_USERNAME == 10


def test_many_usernames_from_one_address_lock_the_address(alice, bob):
    limit = settings.EASPORTAL_LOGIN_FAILURES_PER_ADDRESS
    # 30 usernames x 4 passwords: never the pair's limit, but 120 guesses from one address.
    answers = [attempt(f"user{number}", f"guess{guess}", OFFICE)
               for number in range(30) for guess in range(4)]
    assert set(answers[:limit - 1]) == {200}
    assert set(answers[limit - 1:]) == {429}  # from the limit-th failure on
    # Every username from that address, with the right password too; not from elsewhere.
    assert attempt("alice", "pw-alice", OFFICE) == 429
    assert attempt("alice", "pw-alice", HOME) == 302
    assert attempt("user0", "guess", HOME) == 200


def test_one_username_from_many_addresses_is_locked(alice, bob):
    limit = settings.EASPORTAL_LOGIN_FAILURES_PER_USERNAME
    # 50 guesses from 50 addresses: one each, never a pair's or an address's limit.
    answers = [attempt("alice", f"guess{number}", address)
               for number, address in enumerate(many_addresses(50))]
    assert set(answers[:limit - 1]) == {200}
    assert set(answers[limit - 1:]) == {429}
    # The username is locked from every address, the owner's own included (the documented
    # price of this limit) ...
    assert attempt("alice", "pw-alice", HOME) == 429
    # ... and nobody else is: bob logs in from the attackers' addresses.
    assert attempt("bob", "pw-bob", many_addresses(1)[0]) == 302


def test_colleagues_mistakes_below_the_limits_lock_nobody_out(alice, bob):
    pair = settings.AXES_FAILURE_LIMIT
    # At the office, three colleagues and alice mistype their passwords, each below the pair's
    # limit: 16 failures from the address, below its limit of 20.
    for username in ("bob", "carol", "dave", "alice"):
        for _ in range(pair - 1):
            assert attempt(username, "typo", OFFICE) == 200
    # Someone elsewhere tries alice's name, one guess an address: 5 more failures of "alice",
    # 9 in all, below the username's limit of 10.
    for address in many_addresses(settings.EASPORTAL_LOGIN_FAILURES_PER_USERNAME - pair):
        assert attempt("alice", "guess", address) == 200
    assert attempt("alice", "pw-alice", OFFICE) == 302
    assert attempt("bob", "pw-bob", OFFICE) == 302
    assert attempt("alice", "pw-alice", HOME) == 302


def test_a_log_in_clears_its_own_pair_not_the_address(alice, bob):
    limit = settings.EASPORTAL_LOGIN_FAILURES_PER_ADDRESS
    for number in range(limit - 1):
        assert attempt(f"user{number}", "guess", OFFICE) == 200
    # Logging in with an account of one's own does not wipe the other usernames' failures.
    assert attempt("bob", "pw-bob", OFFICE) == 302
    assert attempt("user0", "guess", OFFICE) == 429


def test_the_address_and_username_locks_lift_after_the_cool_off(alice, bob):
    for address in many_addresses(settings.EASPORTAL_LOGIN_FAILURES_PER_USERNAME):
        attempt("alice", "guess", address)
    for number in range(settings.EASPORTAL_LOGIN_FAILURES_PER_ADDRESS):
        attempt(f"user{number}", "guess", OFFICE)
    assert attempt("alice", "pw-alice", HOME) == 429
    assert attempt("bob", "pw-bob", OFFICE) == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert attempt("alice", "pw-alice", HOME) == 302
    assert attempt("bob", "pw-bob", OFFICE) == 302


def test_the_locked_page_says_which_lock(alice, bob):
    for number in range(settings.EASPORTAL_LOGIN_FAILURES_PER_ADDRESS):
        attempt(f"user{number}", "guess", OFFICE)
    for address in many_addresses(settings.EASPORTAL_LOGIN_FAILURES_PER_USERNAME):
        attempt("bob", "guess", address)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt("alice", "guess", HOME)

    def page(username, address):
        response = Client().post(reverse("login"), {"username": username, "password": "x"},
                                 REMOTE_ADDR=address)
        assert response.status_code == 429
        return " ".join(response.content.decode().split())

    assert "for every account from your address" in page("nobody", OFFICE)
    assert "for this account from every address" in page("bob", HOME)
    assert "for this account from your address" in page("alice", HOME)


@pytest.mark.parametrize("name", ["EASPORTAL_LOGIN_FAILURES_PER_ADDRESS",
                                  "EASPORTAL_LOGIN_FAILURES_PER_USERNAME"])
def test_zero_turns_a_limit_off(alice, settings, name):
    setattr(settings, name, 0)
    if name.endswith("ADDRESS"):
        answers = [attempt(f"user{number}", "guess", OFFICE) for number in range(30)]
        assert set(answers) == {200}
        assert attempt("alice", "pw-alice", OFFICE) == 302
    else:
        answers = [attempt("alice", "guess", address) for address in many_addresses(30)]
        assert set(answers) == {200}
        assert attempt("alice", "pw-alice", HOME) == 302


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_limit_refuses_to_start(value):
    for name in ("EASPORTAL_LOGIN_FAILURES_PER_ADDRESS", "EASPORTAL_LOGIN_FAILURES_PER_USERNAME"):
        result = manage("check", **GOOD_SETTINGS, **{name: value})
        assert result.returncode != 0
        assert name in result.stderr and len(result.stderr.strip().splitlines()) == 1
