"""POST /api/import/curl: a curl command read back into the request it sends and the caller's
service it calls, with nothing sent and nothing recorded. The round trip: every request of the
snippet corpus (tests/snippets/corpus.py), made into the portal's own curl snippet and imported
by a member of the service's team, comes back as the same request.

alice maintains Acme, bob is a member; charlie, of Globex, sees none of Acme's services."""

import base64

import pytest
from django.test import Client

from services import keys, snippets
from services.calls import CallRequest
from services.models import AuditEvent, Call
from tests.helpers import (
    BAD_BODIES,
    EAS_PUBLIC,
    EAS_VPC,
    detail,
    logged_in,
    make_service,
    send,
)
from tests.snippets.corpus import CORPUS

URL = "/api/import/curl"
AUTH = "The Authorization header was left out: the portal sends the service's token in it."
NO_SERVICE = ("No service of yours has an endpoint that this URL starts with: choose the "
              "service, or register it first.")
DOCS_COMMAND = (f"curl {EAS_PUBLIC}/v1/chat/completions \\\n"
                '  -H "Content-Type: application/json" \\\n'
                '  -H "Authorization: <token>" \\\n'
                """  -d '{"model": "Qwen3-8B", "messages": [{"role": "user", "content": "hi"}]}'""")


def import_curl(client, command, **extra):
    return send(client, "post", URL, {"command": command}, **extra)


def test_a_member_gets_the_request_and_the_service(service, bob):
    response = import_curl(logged_in(bob), DOCS_COMMAND)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "service": "chat", "endpoint": "public", "method": "POST",
        "url": f"{EAS_PUBLIC}/v1/chat/completions", "path": "/v1/chat/completions",
        "headers": {"Content-Type": "application/json"},
        "body": '{"model": "Qwen3-8B", "messages": [{"role": "user", "content": "hi"}]}',
        "notes": [AUTH],
    }


def test_the_vpc_endpoint_is_recognized_with_its_query(service, bob):
    response = import_curl(logged_in(bob), f"curl '{EAS_VPC}/v1/models?limit=2'")
    assert response.status_code == 200
    found = response.json()
    assert (found["service"], found["endpoint"], found["path"]) == ("chat", "vpc",
                                                                    "/v1/models?limit=2")
    assert (found["method"], found["headers"], found["body"], found["notes"]) == (
        "GET", {}, "", [])


def test_another_teams_service_is_not_matched(service, globex, charlie):
    response = import_curl(logged_in(charlie), DOCS_COMMAND)
    assert response.status_code == 200
    found = response.json()
    assert (found["service"], found["endpoint"]) == (None, None)
    assert found["path"] == "/api/predict/chat/v1/chat/completions"
    assert found["notes"] == [AUTH, NO_SERVICE]


def test_a_superuser_finds_any_teams_service(service, root):
    response = import_curl(logged_in(root), DOCS_COMMAND)
    assert response.json()["service"] == "chat"


def test_the_longest_endpoint_wins_and_a_path_boundary_counts(acme, bob):
    make_service(acme, slug="chat", public_endpoint=EAS_PUBLIC)
    make_service(acme, slug="v1", public_endpoint=EAS_PUBLIC + "/v1", vpc_endpoint="")
    client = logged_in(bob)
    assert import_curl(client, f"curl {EAS_PUBLIC}/v1/models").json()["service"] == "v1"
    found = import_curl(client, f"curl {EAS_PUBLIC}/v1x").json()
    assert (found["service"], found["path"]) == ("chat", "/v1x")
    found = import_curl(client, f"curl {EAS_PUBLIC}x/v1").json()
    assert (found["service"], found["notes"]) == (None, [NO_SERVICE])


def test_bytes_that_are_not_utf8_come_as_base64(service, bob):
    command = (f"printf '\\377\\000\\376' | curl {EAS_PUBLIC}/echo --data-binary @- "
               "-H 'Content-Type: application/octet-stream'")
    found = import_curl(logged_in(bob), command).json()
    assert found["body_base64"] == base64.b64encode(b"\xff\x00\xfe").decode()
    assert "body" not in found


def test_a_personal_key_imports_too(service, bob):
    key = keys.make(bob, "ci", None)[1]
    response = import_curl(Client(), DOCS_COMMAND, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.json()["service"] == "chat"


@pytest.mark.parametrize(("command", "message"), [
    ("wget http://h/", "This is not a curl command: it starts with wget."),
    (f"curl {EAS_PUBLIC} -d 'x", "A single quote (') is not closed."),
    (f"curl {EAS_PUBLIC} -F a=@x.png",
     "curl's -F changes the request in a way the import does not understand: remove it, or "
     "build the request in the builder."),
    (f"curl {EAS_PUBLIC} -d @body.json",
     "-d reads the file body.json, which the portal cannot see: paste its content instead."),
    (f"curl {EAS_PUBLIC} --frobnicate",
     "--frobnicate is not a curl option the import knows: remove it or send the request from "
     "the builder."),
])
def test_what_the_import_cannot_read_is_400_naming_it(service, bob, command, message):
    response = import_curl(logged_in(bob), command)
    assert response.status_code == 400
    assert detail(response) == message


@pytest.mark.parametrize("data", [{}, {"command": 5}, {"command": "curl x", "cmd": "y"},
                                  {"command": "curl http://h/\u0000"}])
def test_a_body_that_is_not_one_command_is_400(bob, data):
    response = send(logged_in(bob), "post", URL, data)
    assert response.status_code == 400
    assert detail(response)


@pytest.mark.parametrize("name", BAD_BODIES)
def test_no_body_makes_it_answer_500(bob, name):
    body, content_type = BAD_BODIES[name]
    response = logged_in(bob).post(URL, body, content_type=content_type)
    assert response.status_code == 400, (name, response.content[:200])
    assert detail(response)


def test_logged_out_is_401_and_a_session_needs_its_csrf_header(service, bob):
    response = import_curl(Client(), DOCS_COMMAND)
    assert response.status_code == 401
    assert "log in" in detail(response).lower()
    browser = logged_in(bob, enforce_csrf_checks=True)
    assert import_curl(browser, DOCS_COMMAND).status_code == 403


def test_the_openapi_document_has_the_route(alice):
    paths = logged_in(alice).get("/api/openapi.json").json()["paths"]
    operation = paths[URL]["post"]
    assert operation["operationId"] == "curl_import"
    assert operation["tags"] == ["import"]


def test_an_import_sends_nothing_and_records_nothing(echo, bob, emulator_received):
    command = f"curl {echo.public_endpoint}/echo -H 'Authorization: Bearer x' -d hello"
    for _repeat in range(2):
        assert import_curl(logged_in(bob), command).status_code == 200
    assert import_curl(logged_in(bob), command + " -F x=y").status_code == 400
    assert emulator_received.snapshot() == []
    assert not Call.objects.exists()
    assert not AuditEvent.objects.exists()


# The round trip

def service_for(case, team, emulator):
    return make_service(team, slug="s-" + case.name[:60], kind=case.kind,
                        public_endpoint=emulator.base(case.service), vpc_endpoint="",
                        token=emulator.token(case.service), default_path="/echo")


def body_of(found):
    return (found["body"].encode() if "body" in found
            else base64.b64decode(found["body_base64"]))


# Every case that has a curl snippet (test_the_availability_matrix in tests/snippets/test_run.py
# proves the others have none).
@pytest.mark.parametrize("case", [case for case in CORPUS if "curl" in case.targets], ids=str)
def test_our_curl_snippet_imports_as_the_same_request(case, acme, bob, emulator):
    service = service_for(case, acme, emulator)
    request = snippets.from_request(service, CallRequest(
        method=case.method, path=case.path, headers=case.headers, body=case.body))
    assert snippets.unavailable_reason(request, "curl") is None
    text = snippets.render(request, "curl", "env")
    response = import_curl(logged_in(bob), text)
    assert response.status_code == 200, response.content[:500]
    found = response.json()
    assert (found["service"], found["endpoint"]) == (service.slug, "public")
    assert (found["method"], found["url"]) == (request.method, request.url)
    assert found["path"] == request.url[len(request.base):]
    assert list(found["headers"].items()) == request.headers  # exactly, in order
    assert body_of(found) == request.body
    assert found["notes"] == [AUTH]
