"""The history pages: the list with its filters and cursor, a call's detail, and Send again."""

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from services import calls
from services.calls import REDACTED, CallRequest
from services.models import Call
from tests.helpers import TOKEN, logged_in, make_call, make_service


def listed(client, **query):
    response = client.get(reverse("call_list"), query)
    assert response.status_code == 200, response.text
    return [call.pk for call in response.context["calls"]]


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_list_shows_my_teams_calls_newest_first(service, globex, alice, bob, charlie):
    first, second = make_call(service, alice), make_call(service, bob)
    theirs = make_call(make_service(globex, slug="globex-chat"), charlie)
    assert listed(logged_in(bob)) == [second.pk, first.pk]
    assert listed(logged_in(charlie)) == [theirs.pk]


def test_a_row_shows_what_happened(service, bob):
    make_call(service, bob, created_at=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
              path="/v1/models", url="http://h/api/predict/chat/v1/models", method="GET",
              status=404, status_class="4xx", elapsed_ms=321.4, response_size=2048)
    make_call(service, bob, status=None, status_class="failed", elapsed_ms=5000,
              error="Could not resolve the host h.", response_size=0)
    text = logged_in(bob).get(reverse("call_list")).text
    for shown in ("2025-03-04 05:06:07", "Chat", "bob", "GET", "/v1/models",
                  "http://h/api/predict/chat/v1/models", ">404<", "321 ms", "2.0\xa0KB",
                  "failed", "Could not resolve the host h.", "5000 ms"):
        assert shown in text, shown


@pytest.fixture
def mixed(service, acme, alice, bob):
    """Calls that differ in one way each from the first: service, status, user, day, path."""
    other = make_service(acme, slug="other", name="Other")
    day = datetime(2025, 6, 10, 12, tzinfo=UTC)
    return {
        "base": make_call(service, bob, created_at=day),
        "other_service": make_call(other, bob, created_at=day),
        "server_error": make_call(service, bob, created_at=day, status=503,
                                  status_class="5xx"),
        "failed": make_call(service, bob, created_at=day, status=None, status_class="failed",
                            error="refused"),
        "by_alice": make_call(service, alice, created_at=day),
        "earlier": make_call(service, bob, created_at=datetime(2025, 6, 1, 8, tzinfo=UTC)),
        "models_path": make_call(service, bob, created_at=day, path="/v1/models",
                                 url="http://h/api/predict/chat/v1/models"),
    }


@pytest.mark.parametrize("query, expected", [
    ({"service": "other"}, {"other_service"}),
    ({"status": "5xx"}, {"server_error"}),
    ({"status": "failed"}, {"failed"}),
    ({"user": "alice"}, {"by_alice"}),
    ({"since": "2025-05-31", "until": "2025-06-01"}, {"earlier"}),
    ({"since": "2025-06-02"}, {"base", "other_service", "server_error", "failed", "by_alice",
                               "models_path"}),
    ({"path": "V1/MODELS"}, {"models_path"}),
    ({"service": "chat", "status": "2xx", "user": "bob", "path": "completions",
      "since": "2025-06-10", "until": "2025-06-10"}, {"base"}),
])
def test_each_filter_narrows_the_list(mixed, bob, query, expected):
    everything = listed(logged_in(bob))
    assert len(everything) == len(mixed)
    names = {pk: name for name, pk in ((name, call.pk) for name, call in mixed.items())}
    assert {names[pk] for pk in listed(logged_in(bob), **query)} == expected


def test_older_pages_follow_the_cursor_without_duplicates_or_gaps(service, acme, bob):
    other = make_service(acme, slug="other")
    mine = []
    for index in range(8):
        mine.append(make_call(service, bob).pk)
        if index % 2:
            make_call(other, bob)  # interleaved, filtered out on every page
    client = logged_in(bob)
    seen, query, pages = [], {"service": "chat", "limit": "3"}, 0
    while True:
        response = client.get(reverse("call_list"), query)
        assert response.status_code == 200
        pages += 1
        seen.extend(call.pk for call in response.context["calls"])
        older = response.context["older_url"]
        # No page numbers and no counts: only a way further back, and back to the newest.
        pager = re.search(r'<nav class="pager">(.*?)</nav>', response.text, re.DOTALL).group(1)
        assert re.sub(r"<a [^>]*>(Newest|Older)</a>", "", pager).strip() == ""
        if older is None:
            assert "Older" not in pager
            break
        assert f'href="{older.replace("&", "&amp;")}"' in response.text
        query = {key: values[0] for key, values in parse_qs(urlsplit(older).query).items()}
        # The link carries the filters along with the cursor.
        assert query["service"] == "chat" and query["limit"] == "3"
    assert pages == 3
    assert seen == sorted(mine, reverse=True)


@pytest.mark.parametrize("query", [
    {"status": "6xx"},
    {"since": "yesterday"},
    {"until": "2025-13-40"},
    {"since": "2025-06-02", "until": "2025-06-01"},
    {"cursor": "abc"},
    {"cursor": "-5"},
    {"limit": "0"},
    {"limit": "100000"},
    {"service": "not a slug!"},
    {"path": "x" * 500},
    {"user": "u" * 200},
])
def test_bad_filter_input_is_a_form_error_not_a_crash(service, bob, query):
    make_call(service, bob)
    response = logged_in(bob).get(reverse("call_list"), query)
    assert response.status_code == 400
    assert response.context["filter_error"]
    assert response.context["calls"] == []
    assert 'class="message error" role="alert"' in response.text


@pytest.mark.parametrize("cursor", [str(2**62), "9" * 40])
def test_a_cursor_past_the_newest_call_lists_from_the_newest(service, bob, cursor):
    call = make_call(service, bob)
    assert listed(logged_in(bob), cursor=cursor) == [call.pk]


@pytest.fixture
def echoed(echo, bob, emulator):
    """A call really sent to the emulator, with a secret header and a JSON answer."""
    return calls.call(bob, echo, CallRequest(
        method="POST", path="/echo?x=1",
        headers={"Content-Type": "application/json", "X-Api-Key": "my-other-secret",
                 "X-Trace": "trace-7"},
        body=b'{"prompt": "hello", "n": 1}'))


def test_the_detail_page_shows_everything_recorded_with_secrets_redacted(echoed, echo, bob,
                                                                         emulator):
    response = logged_in(bob).get(reverse("call_detail", args=[echoed.pk]))
    assert response.status_code == 200
    text = response.text
    assert f"<th>X-Api-Key</th><td class=\"redacted\">{REDACTED}</td>" in text
    assert f"<th>Authorization</th><td class=\"redacted\">{REDACTED}</td>" in text
    assert "<th>X-Trace</th><td>trace-7</td>" in text
    # (The echo in the response carries the header back: history redacts only the token there.)
    request_part = text.split("<h2>Request</h2>")[1].split("<h2>Response</h2>")[0]
    assert "my-other-secret" not in request_part
    assert emulator.token("demo-echo") not in text
    assert f"{echo.public_endpoint}/echo?x=1" in text
    assert "200 OK" in text
    assert "bob" in text and "Public" in text
    # The request body, and the response (the emulator's echo), pretty-printed as JSON.
    assert "&quot;prompt&quot;: &quot;hello&quot;" in text
    echoed_back = json.loads(bytes(echoed.response_body))
    assert echoed_back["headers"]["X-Trace"] == "trace-7"
    assert '  &quot;method&quot;: &quot;POST&quot;' in text
    assert response.context["response_body"]["json"] is True
    assert 'id="open-in-builder"' in text
    assert f'href="{reverse("service_builder", args=["echo"])}?call={echoed.pk}"' in text


def test_the_detail_page_shows_binary_bodies_as_hex_and_failures(service, bob):
    call = make_call(service, bob, request_body=b"\x00\x01\xfe\xff" * 20, status=None,
                     status_class="failed", error="Could not resolve the host h.",
                     response_body=b"")
    response = logged_in(bob).get(reverse("call_detail", args=[call.pk]))
    assert "Binary body, 80 bytes" in response.text
    assert "00 01 fe ff 00 01 fe ff 00 01 fe ff 00 01 fe ff\n" in response.text
    assert "Could not resolve the host h." in response.text
    assert 'data-hint="dns"' in response.text  # the hint is there for hints.js to show
    assert "No response: the call failed before an answer arrived." in response.text


def test_the_detail_page_notes_a_cut_response(service, bob):
    call = make_call(service, bob, response_body=b"x" * 10, response_size=10,
                     response_declared_size=9000, response_truncated=True)
    response = logged_in(bob).get(reverse("call_detail", args=[call.pk]))
    assert "The response was cut at the limit: 10 bytes kept." in response.text
    assert "The server declared 9000 bytes." in response.text


def test_teammates_see_each_others_calls_and_outsiders_get_404(service, alice, bob, charlie,
                                                               globex):
    call = make_call(service, alice)
    assert logged_in(bob).get(reverse("call_detail", args=[call.pk])).status_code == 200
    assert logged_in(charlie).get(reverse("call_detail", args=[call.pk])).status_code == 404
    response = logged_in(charlie).post(reverse("call_send_again", args=[call.pk]))
    assert response.status_code == 404
    assert logged_in(bob).get(f"/calls/{'9' * 30}/").status_code == 404


def test_a_call_of_a_deleted_service_still_reads_right(service, bob):
    call = make_call(service, bob)
    service.delete()
    response = logged_in(bob).get(reverse("call_detail", args=[call.pk]))
    assert response.status_code == 200
    assert "no longer exists" in response.text
    assert 'id="open-in-builder"' not in response.text
    assert 'id="send-again"' not in response.text


def test_send_again_records_a_new_call_with_the_same_request(echo, alice, bob, emulator):
    original = calls.call(alice, echo, CallRequest(
        method="PUT", path="/echo/again?q=1",
        headers={"Content-Type": "text/plain", "X-Trace": "t-1"}, body=b"same body"))
    emulator.app.clear()
    response = logged_in(bob).post(reverse("call_send_again", args=[original.pk]))
    new = Call.objects.latest("id")
    assert new.pk != original.pk
    assert response.status_code == 302
    assert response["Location"] == reverse("call_detail", args=[new.pk])
    assert messages_of(response) == ["Sent again: 200 OK."]
    assert (new.username, new.method, new.url, new.status) == (
        "bob", "PUT", original.url, 200)
    assert new.request_headers == original.request_headers
    assert bytes(new.request_body) == b"same body"
    arrived = emulator.app.received[-1]
    assert arrived["method"] == "PUT"
    assert arrived["body"] == b"same body"
    assert arrived["headers"]["X-Trace"] == "t-1"
    assert arrived["headers"]["Authorization"] == emulator.token("demo-echo")


def test_send_again_refuses_when_history_redacted_a_header(echoed, bob, emulator):
    emulator.app.clear()
    before = Call.objects.count()
    response = logged_in(bob).post(reverse("call_send_again", args=[echoed.pk]))
    assert response.status_code == 302
    assert response["Location"] == (
        f'{reverse("service_builder", args=["echo"])}?call={echoed.pk}')
    [message] = messages_of(response)
    assert "X-Api-Key" in message and "re-enter" in message
    assert Call.objects.count() == before
    assert len(emulator.app.received) == 0


def test_send_again_of_a_deleted_service_says_so(service, bob):
    call = make_call(service, bob)
    service.delete()
    response = logged_in(bob).post(reverse("call_send_again", args=[call.pk]))
    assert response["Location"] == reverse("call_detail", args=[call.pk])
    assert "no longer exists" in messages_of(response)[0]


def test_a_refused_send_again_is_an_error_message(service, bob):
    # The service lost the endpoint the call went to: nothing is sent.
    call = make_call(service, bob, endpoint="vpc")
    service.vpc_endpoint = ""
    service.save()
    before = Call.objects.count()
    response = logged_in(bob).post(reverse("call_send_again", args=[call.pk]))
    assert response["Location"] == reverse("call_detail", args=[call.pk])
    assert messages_of(response) == ["This service has no VPC endpoint."]
    assert Call.objects.count() == before


def test_send_again_is_post_only(service, bob):
    call = make_call(service, bob)
    response = logged_in(bob).get(reverse("call_send_again", args=[call.pk]))
    assert response.status_code == 405


def test_no_page_shows_the_token(echoed, bob):
    client = logged_in(bob)
    for url in (reverse("call_list"), reverse("call_detail", args=[echoed.pk]),
                reverse("service_builder", args=["echo"]) + f"?call={echoed.pk}"):
        text = client.get(url).text
        assert "demo-echo-token-0001" not in text
        assert TOKEN not in text
