"""The pages of saved requests and export (issue 11), through Django's test client: the builder
opened on a saved request (?saved=<id>), who may Save it, "Save this request" on a call's page,
the history's export links, and the service page's list of saved requests, in one query.
In Chromium: tests/e2e/test_saved_requests_browser.py."""

import base64
import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services.calls import REDACTED
from services.models import Membership, Role, SavedRequest
from tests.helpers import EAS_VPC, logged_in, make_call, make_service, make_user


def keep(service, user, **fields):
    """A saved request of the service, saved by user, as the API would keep it."""
    values = {"name": "Say hello", "description": "The first thing to try.",
              "endpoint": "public", "method": "POST", "path": "/v1/chat/completions",
              "header_pairs": [["Content-Type", "application/json"], ["X-Trace", "t-1"]],
              "body": b'{"messages": []}'}
    values.update(fields)
    return SavedRequest.objects.create(service=service, created_by=user,
                                       created_by_name=user.username, **values)


def builder(client, service, **query):
    return client.get(reverse("service_builder", args=[service.slug]), query)


def script_json(response, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>',
                      response.text, re.DOTALL)
    return json.loads(match.group(1)) if match else None


@pytest.fixture
def dave(acme):
    """Another member of acme, who saved nothing."""
    user = make_user("dave")
    Membership.objects.create(team=acme, user=user, role=Role.MEMBER)
    return user


# The builder on a saved request

def test_a_saved_request_opens_the_builder_with_its_request_and_name(service, bob):
    kept = keep(service, bob, endpoint="vpc", method="PUT", path="/v1/models?x=1",
                header_pairs=[["Content-Type", "text/plain"], ["X-Api-Key", REDACTED],
                              ["X-Trace", "abc"]], body="héllo".encode())
    response = builder(logged_in(bob), service, saved=kept.pk)
    assert response.status_code == 200
    draft = response.context["draft"]
    assert (draft["endpoint"], draft["method"], draft["path"]) == ("vpc", "PUT", "/v1/models?x=1")
    assert draft["body"] == "héllo"
    assert draft["headers"] == [
        {"name": "Content-Type", "value": "text/plain", "redacted": False},
        {"name": "X-Api-Key", "value": "", "redacted": True},
        {"name": "X-Trace", "value": "abc", "redacted": False},
    ]
    assert draft["notes"] == []
    text = response.text
    assert 'name="endpoint" value="vpc" checked' in text
    assert '<option value="PUT" selected>' in text
    assert "re-enter: kept redacted" in text
    assert f"{EAS_VPC}/v1/models?x=1" in text
    # Its name and description at the top of the form, while it is open.
    assert '<strong id="saved-name">Say hello</strong>' in text
    assert "The first thing to try." in text
    saved = script_json(response, "keep-config")["saved"]
    assert saved == {"id": kept.pk, "name": "Say hello",
                     "description": "The first thing to try.", "mayChange": True}


def test_the_builder_without_a_saved_request_hides_the_head_and_saves_as_new(service, bob):
    response = builder(logged_in(bob), service)
    assert '<div id="saved-head" class="message info saved-head" hidden>' in response.text
    config = script_json(response, "keep-config")
    assert config["saved"] is None
    assert config["createUrl"] == "/api/services/chat/requests"
    assert config["requestsUrl"] == "/api/requests/"
    assert config["importUrl"] == "/api/import/curl"
    assert config["builderUrl"].replace(config["slugHole"], "other") == "/services/other/builder/"
    assert 'id="save" disabled' not in response.text


def test_a_binary_body_or_the_token_redacted_in_the_path_gives_notes(service, bob):
    data = b"\xff\xfe\x00binary"
    kept = keep(service, bob, path=f"/v1/x?token={REDACTED}", body=data)
    response = builder(logged_in(bob), service, saved=kept.pk)
    draft = response.context["draft"]
    assert draft["body"] == ""
    assert "binary (9 bytes)" in draft["notes"][0]
    assert "a saved request does not keep" in draft["notes"][1]
    # Save keeps the binary body while the field stays empty: the page has its bytes.
    builder_config = script_json(response, "builder-config")
    assert base64.b64decode(builder_config["keptBody"]) == data
    assert builder_config["redacted"] == REDACTED


def test_who_may_save_it(service, alice, bob, dave):
    kept = keep(service, bob)
    for user, may in ((bob, True), (alice, True), (dave, False)):
        response = builder(logged_in(user), service, saved=kept.pk)
        assert script_json(response, "keep-config")["saved"]["mayChange"] is may, user
        disabled = re.search(r'<button type="button" id="save" disabled title="([^"]*)"',
                             response.text)
        assert bool(disabled) is not may, user
    assert "Only bob, who saved this request, or a maintainer" in disabled.group(1)
    # Save as… is there for everyone.
    assert 'id="save-as"' in response.text


def test_a_saved_request_of_another_service_or_team_or_none_is_404(service, acme, globex,
                                                                   bob, charlie):
    other = make_service(acme, slug="other")
    theirs = make_service(globex, slug="globex-chat")
    of_other, of_theirs = keep(other, bob), keep(theirs, charlie)
    client = logged_in(bob)
    assert builder(client, other, saved=of_other.pk).status_code == 200
    assert builder(client, service, saved=of_other.pk).status_code == 404
    assert builder(client, service, saved=of_theirs.pk).status_code == 404
    assert builder(client, theirs, saved=of_theirs.pk).status_code == 404
    for wrong in ("abc", "²", "", "-1", "1.0", "999999", "9" * 30):
        assert builder(client, service, saved=wrong).status_code == 404, wrong
    # The outsider, with a saved request of acme's.
    assert builder(logged_in(charlie), theirs, saved=of_other.pk).status_code == 404


# A call's page: "Save this request"

def test_a_calls_page_offers_to_save_its_request(call, bob):
    response = logged_in(bob).get(reverse("call_detail", args=[call.pk]))
    assert 'id="save-call"' in response.text
    assert 'id="save-dialog"' in response.text
    config = script_json(response, "save-call-config")
    assert config["createUrl"] == "/api/services/chat/requests"
    assert config["call"] == call.pk
    assert config["builderUrl"] == "/services/chat/builder/"


def test_a_call_of_a_deleted_service_cannot_be_saved(call, service, bob):
    service.delete()
    response = logged_in(bob).get(reverse("call_detail", args=[call.pk]))
    assert response.status_code == 200
    assert 'id="save-call"' not in response.text
    assert script_json(response, "save-call-config") is None


# The history's export links

def export_links(response):
    return dict(re.findall(r'id="export-(\w+)" href="([^"]*)"', response.text))


def test_the_export_links_carry_the_lists_filters_and_not_its_page(service, bob):
    make_call(service, bob)
    filters = {"service": "chat", "status": "2xx", "user": "bob", "since": "2025-01-01",
               "until": "2030-12-31", "path": "v1 chat&x", "streamed": "false"}
    response = logged_in(bob).get(reverse("call_list"), {**filters, "cursor": "5",
                                                         "limit": "10"})
    links = export_links(response)
    assert set(links) == {"csv", "jsonl"}
    for format_, link in links.items():
        url = urlsplit(link.replace("&amp;", "&"))
        assert url.path == reverse("api:call_export")
        assert dict(parse_qsl(url.query)) == {**filters, "format": format_}
    assert ">CSV</a>" in response.text and ">JSON Lines</a>" in response.text


def test_without_filters_the_export_is_the_whole_history_and_it_downloads(service, bob):
    first, second = make_call(service, bob), make_call(service, bob)
    client = logged_in(bob)
    links = export_links(client.get(reverse("call_list")))
    assert links == {"csv": "/api/calls/export?format=csv",
                     "jsonl": "/api/calls/export?format=jsonl"}
    download = client.get(links["jsonl"])
    assert download["Content-Disposition"].startswith("attachment;")
    rows = [json.loads(line) for line in b"".join(download.streaming_content).splitlines()]
    assert [row["id"] for row in rows] == [second.pk, first.pk]


def test_bad_filters_offer_no_export(service, bob):
    response = logged_in(bob).get(reverse("call_list"), {"since": "2025-02-30"})
    assert response.status_code == 400
    assert export_links(response) == {}


# The service page's saved requests

def listed_names(response):
    return re.findall(r'<strong class="saved-name">([^<]*)</strong>', response.text)


def test_the_service_page_lists_its_saved_requests_with_what_each_offers(service, acme, alice,
                                                                         bob):
    mine = keep(service, bob, name="beta", description="Mine.", method="GET", path="/v1/models")
    hers = keep(service, alice, name="Alpha")
    keep(make_service(acme, slug="other"), bob, name="Elsewhere")
    response = logged_in(bob).get(reverse("service_detail", args=[service.slug]))
    assert listed_names(response) == ["Alpha", "beta"]
    text = response.text
    assert "GET /v1/models" in text and "Mine." in text and "alice" in text
    assert f'href="/services/chat/builder/?saved={mine.pk}"' in text
    assert f'data-url="/api/requests/{mine.pk}/invoke"' in text
    assert f'href="/api/requests/{mine.pk}/snippet?lang=curl"' in text
    # Delete for what bob may change: his own, not alice's.
    assert f'data-url="/api/requests/{mine.pk}" data-name="beta"' in text
    assert f'data-url="/api/requests/{hers.pk}"' not in text
    # A maintainer may delete both.
    text = logged_in(alice).get(reverse("service_detail", args=[service.slug])).text
    assert f'data-url="/api/requests/{hers.pk}" data-name="Alpha"' in text
    assert 'id="saved-empty" class="muted" hidden' in text


def test_what_a_member_wrote_is_escaped_in_the_list(service, bob):
    keep(service, bob, name='<img src=x onerror="alert(1)">', path="/v1/<b>",
         description="line one <i>\nline two & more")
    text = logged_in(bob).get(reverse("service_detail", args=[service.slug])).text
    assert "<img src=x" not in text and "<i>" not in text and "/v1/<b>" not in text
    assert ('<strong class="saved-name">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
            '</strong>') in text
    assert ('<span class="muted">line one &lt;i&gt;<br>line two &amp; more</span>') in text
    assert "POST /v1/&lt;b&gt;" in text
    assert 'data-name="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"' in text


def test_without_saved_requests_the_page_says_how_to_save_one(service, bob):
    text = logged_in(bob).get(reverse("service_detail", args=[service.slug])).text
    assert 'id="saved-empty" class="muted">' in text
    assert "No saved requests yet" in text and "Save as…" in text


def saved_request_queries(client, service):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("service_detail", args=[service.slug]))
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries], response


def test_the_list_is_one_query_whatever_its_length_and_never_reads_the_bodies(service, bob):
    client = logged_in(bob)
    for _ in range(2):  # the session: its user learned, then its row kept
        client.get(reverse("service_detail", args=[service.slug]))
    keep(service, bob, name="Only one")
    one, _response = saved_request_queries(client, service)
    for n in range(20):
        keep(service, bob, name=f"Request {n:02}", body=b"x" * 100_000)
    many, response = saved_request_queries(client, service)
    assert len(listed_names(response)) == 21
    # No query per row: as many queries for 21 as for 1, one of them reading the list.
    assert len(many) == len(one)
    reading = [sql for sql in many if "services_savedrequest" in sql]
    assert len(reading) == 1
    assert '"services_savedrequest"."body"' not in reading[0]
    assert '"services_savedrequest"."header_pairs"' not in reading[0]
