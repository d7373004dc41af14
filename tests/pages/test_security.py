import base64
import contextlib
import os
import re
import secrets
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from services.errors import Refusal
from services.middleware import ContentSecurityPolicy
from services.views import services as service_views
from tests.helpers import BASE_DIR, manage

# A value for every URL keyword the project uses; a new keyword without one fails the walk below.
SAMPLE_KWARGS = {
    "slug": "acme", "username": "bob", "app_label": "services", "object_id": "1",
    "content_type_id": "1", "url": "services/", "id": "1", "rest": "v1/models",
}
# The language switcher serves the login page too, and takes POST only (test_language.py).
PUBLIC = {"login": 200, "health": 200, "admin:login": 200, "set_language": 405}
# The JSON API answers a logged-out client 401 JSON instead of the login redirect; its docs
# page is a page, and redirects like the others.
API_REDIRECTS = {"api:openapi-view"}
# The gateway is for scripts with a personal key: without one it answers 401 JSON, too.
GATEWAY = {"gateway", "gateway_path"}


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern


def sample_urls():
    for namespace, pattern in walk(get_resolver().url_patterns):
        names = list(pattern.pattern.regex.groupindex)
        if pattern.name:
            name = namespace + pattern.name
            yield name, reverse(name, kwargs={key: SAMPLE_KWARGS[key] for key in names})
        else:  # the admin's catch-all view
            yield f"{namespace}<unnamed {pattern.pattern}>", "/admin/no/such/page/"


def test_every_url_requires_login(db):
    client = Client()
    seen = 0
    for name, url in sample_urls():
        seen += 1
        response = client.get(url)
        if name in PUBLIC:
            assert response.status_code == PUBLIC[name], name
            continue
        if name in GATEWAY or (name.startswith("api:") and name not in API_REDIRECTS):
            assert response.status_code == 401, (name, url, response.status_code)
            assert response.json()["detail"], name
            continue
        assert response.status_code == 302, (name, url, response.status_code)
        login_pages = ("/accounts/login/?next=", "/admin/login/?next=")
        assert response["Location"].startswith(login_pages), name
    assert seen > 30  # the walk found the admin's and our own patterns


def test_static_files_are_served_without_login(db):
    page = Client().get(reverse("login"))
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]+\.css)"', page.text).group(1)
    response = Client().get(stylesheet)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b":root")


def test_pages_carry_a_content_security_policy(db):
    policy = Client().get(reverse("login"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_the_policy_built_once_is_django_csps_and_a_view_can_still_change_it(db):
    # services.middleware.ContentSecurityPolicy keeps the header; django-csp would build this.
    assert (Client().get(reverse("login"))["Content-Security-Policy"]
            == build_policy() != "")
    assert Client().get("/api/teams")["Content-Security-Policy"] == build_policy()

    def changes_it(request):
        response = HttpResponse()
        response._csp_update = {"img-src": ["https://example.com"]}
        return response

    policies = [middleware(changes_it)(RequestFactory().get("/"))["Content-Security-Policy"]
                for middleware in (ContentSecurityPolicy, CSPMiddleware)]
    assert "img-src 'self' data: https://example.com" in policies[0]
    assert policies[0] == policies[1]
    # Asked for after the header is written, a nonce is an error, as with django-csp.
    plain = RequestFactory().get("/")
    middleware = ContentSecurityPolicy(lambda request: HttpResponse())
    middleware(plain)
    with pytest.raises(CSPNonceError):
        str(plain.csp_nonce)


def test_templates_have_no_inline_script_or_style():
    for template in (BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert not re.search(r"<style|\sstyle\s*=", text), template


@pytest.mark.parametrize("view", [service_views.service_create, service_views.service_edit])
def test_views_that_take_a_token_hide_it_from_error_reports(view, alice):
    request = RequestFactory().post("/", {"token": "x"})
    request.user = alice
    # The view refuses (404 or 403): only the marking, set before it runs, matters here.
    with contextlib.suppress(Refusal):
        view(request, slug="none") if view is service_views.service_edit else view(request)
    assert request.sensitive_post_parameters == ("token",)


def post_login_form(client, username, password, address):
    """One attempt at the login form from address: what the throttle counts."""
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_login_is_throttled_per_username_and_address(alice, bob):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login_form(attacker, "alice", "wrong", "203.0.113.9")
    # Locked out for alice from this address, even with the right password ...
    assert post_login_form(attacker, "alice", "pw-alice", "203.0.113.9").status_code == 429
    # ... but alice herself, from her own address, and bob from the attacker's, still get in.
    assert post_login_form(Client(), "alice", "pw-alice", "198.51.100.7").status_code == 302
    assert post_login_form(Client(), "bob", "pw-bob", "203.0.113.9").status_code == 302


def test_the_lockout_lifts_after_the_cool_off(alice):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login_form(client, "alice", "wrong", "203.0.113.9")
    assert post_login_form(client, "alice", "pw-alice", "203.0.113.9").status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert post_login_form(client, "alice", "pw-alice", "203.0.113.9").status_code == 302


GOOD = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "EASPORTAL_TOKEN_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
}
PRODUCTION = {
    **GOOD, "DEBUG": "0", "ALLOWED_HOSTS": "portal.example.com", "SECURE_SSL_REDIRECT": "1",
    "SECURE_COOKIES": "1", "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1",
}


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_the_deploy_check_fails_without_https_settings():
    plain = {key: value for key, value in PRODUCTION.items() if not key.startswith("SECURE_")}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **plain)
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr


@pytest.mark.parametrize("env, variable", [
    ({"EASPORTAL_TOKEN_KEYS": GOOD["EASPORTAL_TOKEN_KEYS"]}, "SECRET_KEY"),
    ({**GOOD, "SECRET_KEY": "short-and-weak"}, "SECRET_KEY"),
    ({**GOOD, "SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5}, "SECRET_KEY"),
    ({"SECRET_KEY": GOOD["SECRET_KEY"]}, "EASPORTAL_TOKEN_KEYS"),
    ({**GOOD, "EASPORTAL_TOKEN_KEYS": "not-a-key"}, "EASPORTAL_TOKEN_KEYS"),
    ({**GOOD, "EASPORTAL_TOKEN_KEYS": GOOD["EASPORTAL_TOKEN_KEYS"] + ",c2hvcnQ="},
     "EASPORTAL_TOKEN_KEYS"),
    ({**GOOD, "EASPORTAL_ALLOWED_ENDPOINT_HOSTS": "*"}, "EASPORTAL_ALLOWED_ENDPOINT_HOSTS"),
    ({**GOOD, "DEBUG": "maybe"}, "DEBUG"),
    ({**GOOD, "CONN_MAX_AGE": "ten"}, "CONN_MAX_AGE"),
    ({**GOOD, "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL"),
])
def test_it_refuses_to_start_with_one_line_naming_the_variable(env, variable):
    result = manage("check", **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_it_starts_with_good_values():
    assert manage("check", **GOOD).returncode == 0


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(alice, settings):
    settings.EASPORTAL_TRUSTED_PROXIES = 1
    attacker = Client(HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.9")  # the first one is forged
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login_form(attacker, "alice", "wrong", "10.0.0.2")
    assert post_login_form(attacker, "alice", "pw-alice", "10.0.0.2").status_code == 429
    # alice comes through the same proxy (same REMOTE_ADDR) from her own address.
    alice_client = Client(HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert post_login_form(alice_client, "alice", "pw-alice", "10.0.0.2").status_code == 302
