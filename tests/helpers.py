"""What more than one test module needs, other than fixtures (those are in tests/conftest.py):
the people's and the service's values, building users, services and calls, logging a test client
or a browser in, the JSON API's request helpers, the endpoint tables, ports and processes, and
what the connection guard of tests/conftest.py decides with.

Test modules import from here (and from tests/processes.py, the processes a test starts on its
test database), never from each other nor from a conftest.py."""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from playwright.sync_api import expect

from services import snippets
from services.calls import REDACTED
from services.models import Call, Service
from services.net.endpoints import HostPolicy, parse_endpoint
from services.net.errors import EndpointError

BASE_DIR = Path(settings.BASE_DIR)
TESTS_DIR = Path(__file__).resolve().parent

# The service of the shared fixtures (tests/conftest.py): its token and its two endpoints.
TOKEN = "acme-Secret-Token-value-7Qz9"
EAS_PUBLIC = "http://1234567890123456.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/chat"
EAS_VPC = "http://1234567890123456.vpc.cn-hangzhou.pai-eas.aliyuncs.com/api/predict/chat"
# The token of a service created through the API (service_data).
NEW_TOKEN = "reranker-Token-never-shown-0042"


# People, services, calls

def make_user(username, **extra):
    """A user whose password is "pw-" and the username."""
    return get_user_model().objects.create_user(username, password="pw-" + username, **extra)


def make_superuser(username="root"):
    """The one way the suite builds a superuser (the `root` fixture is one)."""
    return get_user_model().objects.create_superuser(username, password="pw-" + username)


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


def make_call(service, user, **fields):
    """A call in history, as if sent: nothing goes out."""
    values = {
        "team": service.team, "service": service, "service_slug": service.slug,
        "service_name": service.name, "user": user, "username": user.username,
        "endpoint": "public", "method": "POST", "path": "/v1/chat/completions",
        "url": service.public_endpoint + "/v1/chat/completions",
        "request_headers": {"Content-Type": "application/json", "Authorization": REDACTED},
        "request_body": b'{"messages": []}', "status": 200, "status_class": "2xx",
        "elapsed_ms": 12.5,
    }
    values.update(fields)
    return Call.objects.create(**values)


# Logging in

def logged_in(user, **client_options):
    """A new Django test client, logged in as user; client_options go to Client (for example
    enforce_csrf_checks=True). The one way the suite logs a test client in."""
    client = Client(**client_options)
    client.force_login(user)
    return client


def log_in(page, live_server, username):
    """Logs the browser page in through the login form, as the user would; the password is the
    one make_user gives."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("main form button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/services/")


def without_clipboard_api(page):
    """The page as on plain http (not localhost), where navigator.clipboard does not exist;
    window.copyCommands counts the copy commands the page's script runs instead."""
    page.add_init_script("""
        Object.defineProperty(navigator, "clipboard", {value: undefined});
        window.copyCommands = 0;
        const execCommand = Document.prototype.execCommand;
        Document.prototype.execCommand = function (command) {
            if (command === "copy") window.copyCommands += 1;
            return execCommand.apply(this, arguments);
        };
    """)


def clipboard_reader(page, live_server, path):
    """A second page of the same browser that may read the clipboard: what a copy put there.
    It writes "before" first, so that a copy that did nothing shows."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    reader = page.context.new_page()
    reader.goto(f"{live_server.url}{path}")
    reader.evaluate("navigator.clipboard.writeText('before')")
    return reader


def open_builder(page, live_server, service, query=""):
    page.goto(f"{live_server.url}/services/{service.slug}/builder/{query}")
    expect(page.locator("#full-url")).to_be_visible()


# The JSON API

# Every route, with a body where one is needed, for the walks of the API's tests.
ROUTES = [
    ("get", "/api/teams", None),
    ("post", "/api/teams", {"slug": "ops", "name": "Ops"}),
    ("get", "/api/teams/acme/members", None),
    ("post", "/api/teams/acme/members", {"username": "bob", "role": "maintainer"}),
    ("delete", "/api/teams/acme/members/bob", None),
    ("get", "/api/services", None),
    ("post", "/api/services", {"slug": "x"}),
    ("get", "/api/services/chat", None),
    ("patch", "/api/services/chat", {"name": "Renamed"}),
    ("delete", "/api/services/chat", None),
    ("post", "/api/services/chat/invoke", {}),
    ("get", "/api/calls", None),
    ("get", "/api/calls/1", None),
    ("get", "/api/calls/1/snippet", None),
    ("post", "/api/calls/1/snippet", {}),
    ("post", "/api/snippet", {"service": "chat"}),
    ("get", "/api/calls/export", None),
    ("get", "/api/services/chat/requests", None),
    ("post", "/api/services/chat/requests", {"name": "x"}),
    ("get", "/api/requests/1", None),
    ("patch", "/api/requests/1", {"name": "x"}),
    ("delete", "/api/requests/1", None),
    ("post", "/api/requests/1/invoke", {}),
    ("get", "/api/requests/1/snippet", None),
    ("post", "/api/requests/1/snippet", {}),
    ("get", "/api/keys", None),
    ("post", "/api/keys", {"name": "ci"}),
    ("delete", "/api/keys/1", None),
    ("get", "/api/audit", None),
    ("get", "/api/audit/export", None),
    ("get", "/api/openapi.json", None),
]
OBJECT_ROUTES = [route for route in ROUTES if "/acme" in route[1] or "/chat" in route[1]]

JSON = "application/json"
# Bodies no route may answer with a 500.
BAD_BODIES = {
    "empty": (b"", JSON),
    "malformed": (b'{"slug": ', JSON),
    "a list": (b"[]", JSON),
    "null": (b"null", JSON),
    "a number": (b"42", JSON),
    "a string": (b'"slug"', JSON),
    "not UTF-8": (b'{"slug": "\xff\xfe"}', JSON),
    "UTF-16": ('{"slug": "x"}'.encode("utf-16"), JSON),
    "infinity": (b'{"slug": 1e999, "timeout_s": 1e999}', JSON),
    "NaN": (b'{"name": NaN, "timeout_s": NaN}', JSON),
    "a huge number": (b'{"timeout_s": 1' + b"0" * 4000 + b"}", JSON),
    "deeply nested": (b"[" * 100_000 + b"]" * 100_000, JSON),
    "a lone surrogate": (b'{"slug": "\\ud800", "name": "\\udfff"}', JSON),
    "a NUL": (b'{"slug": "a\\u0000b", "name": "\\u0000"}', JSON),
    "wrong types": (b'{"slug": ["x"], "name": {"a": 1}, "role": 3, "headers": [1]}', JSON),
    "unknown fields only": (b'{"what": "ever"}', JSON),
    "a form": (b"slug=ops&name=Ops", "application/x-www-form-urlencoded"),
    "broken multipart": (b"--x\r\nnonsense", "multipart/form-data; boundary=x"),
    "multipart without boundary": (b"junk", "multipart/form-data"),
    "plain text": (b"hello", "text/plain"),
}


def send(client, method, url, data=None, **extra):
    """A request to the JSON API, with data as its JSON body if given."""
    if data is None:
        return getattr(client, method)(url, **extra)
    return getattr(client, method)(url, json.dumps(data), content_type=JSON, **extra)


def detail(response):
    """The API's one readable sentence of a refusal, after checking it is there."""
    assert response["Content-Type"].startswith(JSON), response.content[:200]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body["detail"]


def service_data(team="acme", **overrides):
    """A valid body for POST /api/services: the service "reranker" of team, with NEW_TOKEN."""
    data = {
        "slug": "reranker", "name": "Reranker", "team": team, "kind": "model_gallery",
        "gateway": "dedicated", "public_endpoint": EAS_PUBLIC.replace("chat", "reranker"),
        "token": NEW_TOKEN,
    }
    data.update(overrides)
    return data


# Pages

def module_scripts(response):
    """The names of the page's scripts, each of which must be a module loaded by its hashed name."""
    tags = re.findall(r"<script\b[^>]*\bsrc=[^>]*>", response.text)
    names = [re.fullmatch(r'<script type="module" src="/static/js/(\w+)\.[0-9a-f]{12}\.js">', tag)
             for tag in tags]
    assert all(names), tags
    return [name.group(1) for name in names]


# Endpoints, the host policy and joining

DEFAULT = HostPolicy("*.pai-eas.aliyuncs.com")
EAS = "1234567890123456.cn-hangzhou.pai-eas.aliyuncs.com"
# One table for both joins, Python's (services/net/join.py) and the browser's (static/js/join.js).
JOIN_CASES = json.loads((TESTS_DIR / "unit" / "join_cases.json").read_text("utf-8"))


def allowed(policy, url):
    try:
        policy.check_endpoint(parse_endpoint(url))
    except EndpointError:
        return False
    return True


def address_allowed(policy, host, ip):
    try:
        policy.check_address(host, ip)
    except EndpointError:
        return False
    return True


def assert_readable(error):
    """An error of services/net is one sentence, its template filled in, without control
    characters."""
    text = str(error)
    assert text == error.message % error.params
    assert "%(" not in text and text.endswith(".")
    assert not any(ord(char) < 32 for char in text)


def all_table_text():
    """Every row of every table, as text: what a database dump would show."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)


@contextlib.contextmanager
def predict_client(endpoint, service_name, token, custom_url=""):
    """Alibaba's eas-prediction SDK, ready to predict, and put away after."""
    with warnings.catch_warnings():
        # Its generated protobuf modules call descriptor functions that protobuf deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        from eas_prediction import PredictClient

    client = PredictClient(endpoint, service_name, custom_url=custom_url)
    client.set_token(token)
    client.set_retry_count(1)  # it retries a 500 by itself otherwise
    client.init()
    try:
        yield client
    finally:
        client.destroy()  # ends the endpoint-sync thread that init() started


# Snippets through the API

ECHO_BODY = {"path": "/echo", "method": "PUT", "headers": {"Content-Type": "text/plain"},
             "body": "hello"}


SNIPPET_TEXT = "text/plain; charset=utf-8"


def expected_snippet(call_or_request, lang="curl", mode="env", token=None, service=None):
    """The snippet the API should answer: of a call in history, or (with service) of a
    request not sent, rendered as the snippets package renders it."""

    if service is None:
        request = snippets.from_call(call_or_request)
    else:
        request = snippets.from_request(service, call_or_request)
    return snippets.render(request, lang, mode, token=token)


def snippet_of(client, call, **query):
    """A call's snippet as the pages and scripts ask for it: a GET, except for the real token,
    which only a POST exports (docs/api.md, "Snippets")."""
    url = f"/api/calls/{call.pk}/snippet"
    if query.get("token") == "real":
        return client.post(url, json.dumps(query), content_type=JSON)
    return client.get(url, query)


def post_snippet(client, data, **extra):
    return client.post("/api/snippet", json.dumps(data), content_type="application/json",
                       **extra)


# Processes and ports

def manage(*args, **env):
    """Run manage.py in a clean environment: only what is given here, never a .env file."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
            "EASPORTAL_ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "easportal.settings"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def free_port():
    """A port of 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, deadline=60):
    """Waits until something listens on port of 127.0.0.1; fails if process ends first or the
    deadline passes."""
    started = time.monotonic()
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                return
        except OSError:
            if process.poll() is not None:
                raise AssertionError(
                    f"the process ended with status {process.returncode} before it listened "
                    f"on port {port}") from None
            if time.monotonic() - started > deadline:
                raise
            time.sleep(0.1)
