"""The token mode key: each target's snippet calls the portal's gateway, /gw/<slug> and the
path and query after the service's endpoint, with the personal key from $EASPORTAL_KEY.
tests/snippets/test_run.py runs them against the live portal."""

import re
from dataclasses import replace

import pytest

from services import gateway, snippets
from services.calls import CallRequest
from services.errors import Refusal
from services.net import client
from services.snippets import SnippetRequest
from services.snippets.request import GATEWAY_DROPS, GATEWAY_ENDPOINT_HEADER
from tests.helpers import EAS_VPC, make_call, make_service

PORTAL = "http://portal.example:8000/"
GW = "http://portal.example:8000/gw/chat"


def a_request(**changes):
    request = SnippetRequest(
        method="POST", url="http://h.example/api/predict/s/echo?a=%5B1%5D&b=x",
        headers=[("Content-Type", "application/json"), ("X-Id", "7")], body=b'{"q": 1}',
        endpoint="public", service_kind="llm", base="http://h.example/api/predict/s",
        path="/echo?a=[1]&b=x", timeout_s=60, service_slug="chat", default_endpoint="public")
    return replace(request, **changes)


def chat(**changes):
    return a_request(**{"url": "http://h.example/api/predict/s/v1/chat/completions",
                        "path": "/v1/chat/completions", "headers": [("Content-Type",
                                                                     "application/json")],
                        "body": b'{"model": "m", "messages": []}', **changes})


def key_snippet(target, request=None, portal=PORTAL):
    return snippets.render(request or (chat() if target == "openai" else a_request()), target,
                           "key", portal=portal)


def code_of(text, comment):
    return "\n".join(line for line in text.splitlines() if not line.startswith(comment))


# Each target

def test_curl_calls_the_gateway_with_bearer_and_the_key_from_the_environment():
    text = key_snippet("curl")
    assert f"curl '{GW}/echo?a=%5B1%5D&b=x' \\\n" in text
    assert '  -H "Authorization: Bearer ${EASPORTAL_KEY}" \\\n' in text
    assert "  -H 'Content-Type: application/json' \\\n  -H 'X-Id: 7' \\\n" in text
    assert "--data-raw '{\"q\": 1}'" in text and "--max-time 60" in text
    assert "h.example" not in text and "EAS_TOKEN" not in text


def test_httpie_calls_the_gateway_with_bearer_and_the_key_from_the_environment():
    text = key_snippet("httpie")
    assert f"http --ignore-stdin --timeout=60 POST '{GW}/echo?a=%5B1%5D&b=x' \\\n" in text
    assert '  "Authorization: Bearer ${EASPORTAL_KEY}" \\\n' in text
    assert "'X-Id:7'" in text and "EAS_TOKEN" not in text


def test_python_calls_the_gateway_with_bearer_and_the_key_from_the_environment():
    text = key_snippet("python")
    assert text.splitlines()[2] == "import os"
    assert f'    "{GW}/echo?a=%5B1%5D&b=x",\n' in text
    assert '        "Authorization": "Bearer " + os.environ["EASPORTAL_KEY"],\n' in text
    assert '        "X-Id": "7",\n' in text and "EAS_TOKEN" not in text
    compile(text, "request.py", "exec")


def test_fetch_calls_the_gateway_with_bearer_and_the_key_from_the_environment():
    text = key_snippet("fetch")
    assert f'const response = await fetch("{GW}/echo?a=%5B1%5D&b=x", {{\n' in text
    assert '    "Authorization": "Bearer " + process.env.EASPORTAL_KEY,\n' in text
    assert "// In a browser, paste the key in place of process.env.EASPORTAL_KEY." in text
    assert "EAS_TOKEN" not in text


def test_the_openai_sdk_takes_the_gateway_as_its_base_url_and_the_key_as_its_api_key():
    text = key_snippet("openai")
    assert f'    base_url="{GW}/v1",\n' in text
    assert '    api_key=os.environ["EASPORTAL_KEY"],\n' in text
    assert "Bearer" not in code_of(text, "#")  # the SDK adds it
    assert '# The OpenAI SDK sends the key as "Authorization: Bearer <key>"' in text
    assert "EAS_TOKEN" not in text
    compile(text, "request.py", "exec")


def test_eas_prediction_posts_to_the_gateway_with_the_raw_key():
    text = key_snippet("eas_sdk", portal="http://portal.example:8000")
    assert ('client = PredictClient(custom_url="http://portal.example:8000/gw/chat/echo'
            '?a=%5B1%5D&b=x")\n') in text
    assert 'client.set_token(os.environ["EASPORTAL_KEY"])\n' in text
    assert "Bearer" not in code_of(text, "#")
    assert "# The SDK sends the key as it is, as the whole Authorization value" in text
    assert 'client.add_extra_headers({"X-Id": "7"})' in text
    compile(text, "request.py", "exec")


@pytest.mark.parametrize("target", snippets.NAMES)
def test_every_target_says_where_the_key_comes_from_and_holds_no_secret(target):
    text = key_snippet(target, portal="http://portal.example:8000")
    lines = text.splitlines()
    assert "through the portal's gateway with your personal key, read from the environment " \
           "variable EASPORTAL_KEY" in lines[0]
    assert lines[1].endswith("Make a key on the portal's keys page: "
                             "http://portal.example:8000/account/keys/")
    assert "EASPORTAL_KEY" in code_of(text, "//" if target == "fetch" else "#")
    assert "eap_" not in text and "<EAS_TOKEN>" not in text and "h.example" not in text


@pytest.mark.parametrize("target", ["curl", "httpie"])
def test_nothing_expands_in_a_shell_snippet_but_the_key(target):
    request = a_request(headers=[("Content-Type", "text/plain"), ("X-S", "$(id) `id` $HOME")],
                        body=b"$(id) `id` ${HOME} '\"",
                        url="http://h.example/api/predict/s/p?$(id)")
    unquoted = re.sub(r"'[^']*'", "", code_of(key_snippet(target, request), "#"))
    assert unquoted.replace("${EASPORTAL_KEY}", "").count("$") == 0
    assert "`" not in unquoted


@pytest.mark.parametrize("target", snippets.NAMES)
def test_the_request_is_otherwise_the_same_as_in_env_mode(target):
    """Only the URL and the Authorization change (and the notes): method, headers, body and the
    way the answer is read are the same, streamed too."""
    request = replace(chat(body=b'{"model": "m", "messages": [], "stream": true}'), stream=True)
    env = snippets.render(request, target, "env")
    key = snippets.render(request, target, "key", portal=PORTAL)
    env_code = code_of(env, "//" if target == "fetch" else "#")
    key_code = code_of(key, "//" if target == "fetch" else "#")
    swapped = (env_code.replace("http://h.example/api/predict/s", GW)
               .replace('os.environ["EAS_TOKEN"]', '"Bearer " + os.environ["EASPORTAL_KEY"]'
                        if target == "python" else 'os.environ["EASPORTAL_KEY"]')
               .replace("process.env.EAS_TOKEN", '"Bearer " + process.env.EASPORTAL_KEY')
               .replace("${EAS_TOKEN}", "Bearer ${EASPORTAL_KEY}"))
    assert key_code == swapped


# Where the gateway takes the request

@pytest.mark.parametrize(("url", "expected"), [
    ("http://h.example/api/predict/s", GW),
    ("http://h.example/api/predict/s?x=1", GW + "?x=1"),
    ("http://h.example/api/predict/s/", GW + "/"),
    ("http://h.example/api/predict/s/a/b%20c?q=%27&r", GW + "/a/b%20c?q=%27&r"),
])
def test_the_path_and_query_after_the_endpoint_follow_the_gateway(url, expected):
    request = snippets.via_gateway(a_request(url=url), "http://portal.example:8000")
    assert (request.url, request.base, request.portal) == (
        expected, GW, "http://portal.example:8000")
    assert snippets.via_gateway(request, "http://other.example/") is request


def test_another_endpoint_than_the_default_is_chosen_with_the_endpoint_header():
    default = snippets.via_gateway(a_request(), PORTAL)
    assert default.headers == a_request().headers
    vpc = snippets.via_gateway(a_request(endpoint="vpc"), PORTAL)
    assert vpc.headers == [*a_request().headers, ("X-Easportal-Endpoint", "vpc")]
    public = snippets.via_gateway(a_request(default_endpoint="vpc"), PORTAL)
    assert public.headers[-1] == ("X-Easportal-Endpoint", "public")
    assert "-H 'X-Easportal-Endpoint: vpc'" in snippets.render(a_request(endpoint="vpc"),
                                                              "curl", "key", portal=PORTAL)


def test_the_eas_sdk_is_offered_as_the_portals_scheme_allows():
    # It posts to the portal: http:// there is what counts (services/snippets/python.py).
    https_eas = a_request(url="https://h.example/api/predict/s/echo",
                          base="https://h.example/api/predict/s")
    assert snippets.unavailable_reason(https_eas, "eas_sdk")
    assert snippets.render(https_eas, "eas_sdk", "key", portal="http://portal.example")
    with pytest.raises(Refusal) as refused:
        snippets.render(a_request(), "eas_sdk", "key", portal="https://portal.example")
    assert refused.value.extra == {"unavailable": "eas_sdk"}
    assert "http:// endpoints only" in refused.value.message


def test_a_call_whose_service_is_gone_cannot_use_the_key():
    with pytest.raises(Refusal) as refused:
        snippets.render(a_request(service_slug=""), "curl", "key", portal=PORTAL)
    assert refused.value.status == 400
    assert refused.value.message == (
        "The service of this call no longer exists, so there is no gateway to call with a "
        "personal key: choose token=env or token=placeholder.")
    assert "unavailable" not in refused.value.extra


def test_a_url_that_is_not_under_its_base_is_refused():
    with pytest.raises(Refusal, match="cannot be told apart") as refused:
        snippets.via_gateway(a_request(base="http://other.example/api/predict/s"), PORTAL)
    assert refused.value.status == 400


@pytest.mark.parametrize("name", ["Cookie", "TE", "Upgrade", "Keep-Alive", "Trailer",
                                  "Proxy-Authorization", "x-easportal-endpoint"])
def test_a_header_the_gateway_does_not_pass_on_is_refused(name):
    with pytest.raises(Refusal) as refused:
        snippets.render(a_request(headers=[(name, "x")]), "python", "key", portal=PORTAL)
    assert refused.value.status == 400
    assert f"does not pass on the header {name}" in refused.value.message


def test_the_headers_refused_are_those_the_gateway_drops_and_a_call_may_have():
    refused_by_every_call = client.TRANSPORT_HEADERS | {"authorization"}
    assert gateway.NOT_FORWARDED - refused_by_every_call == GATEWAY_DROPS
    assert gateway.ENDPOINT_HEADER == GATEWAY_ENDPOINT_HEADER


def test_key_mode_needs_the_portal_and_a_gateway_request_needs_key_mode():
    with pytest.raises(ValueError):
        snippets.render(a_request(), "curl", "key")
    through = snippets.via_gateway(a_request(), PORTAL)
    assert snippets.render(through, "curl", "key") == snippets.render(a_request(), "curl", "key",
                                                                    portal=PORTAL)
    with pytest.raises(ValueError):
        snippets.render(through, "curl", "env")


def test_key_is_a_token_mode_and_env_stays_the_default():
    assert snippets.TOKEN_MODES == ("env", "placeholder", "real", "key")
    assert snippets.KEY_ENV == "EASPORTAL_KEY"


# The requests key mode is made from

def test_from_request_knows_the_services_slug_and_default_endpoint(acme):
    service = make_service(acme, default_endpoint="vpc")
    request = snippets.from_request(service, CallRequest(endpoint="public"))
    assert (request.service_slug, request.default_endpoint, request.endpoint) == (
        "chat", "vpc", "public")
    assert snippets.via_gateway(request, PORTAL).url == GW + "/v1/chat/completions"
    assert ("X-Easportal-Endpoint", "public") in snippets.via_gateway(request, PORTAL).headers


def test_from_call_takes_the_services_slug_as_it_is_now(acme, bob):
    service = make_service(acme)
    call = make_call(service, bob, endpoint="vpc", url=EAS_VPC + "/v1/chat/completions")
    service.slug = "renamed"
    service.save()
    call.refresh_from_db()
    request = snippets.from_call(call)
    assert (request.service_slug, request.default_endpoint) == ("renamed", "public")
    through = snippets.via_gateway(request, PORTAL)
    assert through.url == "http://portal.example:8000/gw/renamed/v1/chat/completions"
    assert through.headers[-1] == ("X-Easportal-Endpoint", "vpc")
    service.delete()
    call.refresh_from_db()
    assert snippets.from_call(call).service_slug == ""
