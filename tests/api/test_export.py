"""History export (docs/api.md, "History export"): GET /api/calls/export?format=csv|jsonl with
the filters of /api/calls, streamed, redacted as stored."""

import csv
import io
import json

import pytest

from services import history
from services.api.export import CSV_COLUMNS
from tests.helpers import TOKEN, detail, logged_in, make_call, make_service, send


def exported(client, **query):
    response = client.get("/api/calls/export", query)
    assert response.status_code == 200, response.content
    assert response.streaming
    return response, b"".join(response.streaming_content)


def json_lines(client, **query):
    response, content = exported(client, format="jsonl", **query)
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert content == b"" or content.endswith(b"\n")
    return [json.loads(line) for line in content.decode().splitlines()]


def csv_rows(client, **query):
    response, content = exported(client, format="csv", **query)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(content.decode(), newline="")))
    return rows


@pytest.fixture
def history_of_two_teams(service, bob, globex, charlie):
    """Five calls of acme's chat (bob's, one failed, one 5xx) and one of globex's."""
    calls = [make_call(service, bob, path=f"/v1/{n}", url=f"{service.public_endpoint}/v1/{n}")
             for n in range(3)]
    calls.append(make_call(service, bob, status=None, status_class="failed", error="timed out",
                           error_kind="timeout"))
    calls.append(make_call(service, bob, status=503, status_class="5xx", streamed=True))
    theirs = make_call(make_service(globex, slug="theirs"), charlie)
    return calls, theirs


@pytest.mark.django_db
def test_json_lines_are_the_calls_of_the_api_newest_first(history_of_two_teams, bob):
    calls, theirs = history_of_two_teams
    client = logged_in(bob)
    lines = json_lines(client)
    assert [line["id"] for line in lines] == [call.pk for call in reversed(calls)]
    for line in lines:
        assert line == send(client, "get", f"/api/calls/{line['id']}").json()
    assert theirs.pk not in {line["id"] for line in lines}


@pytest.mark.django_db
def test_the_filters_of_the_list_apply(history_of_two_teams, bob):
    calls, _theirs = history_of_two_teams
    client = logged_in(bob)
    assert [line["id"] for line in json_lines(client, status="failed")] == [calls[3].pk]
    assert [line["id"] for line in json_lines(client, streamed="true")] == [calls[4].pk]
    assert [line["id"] for line in json_lines(client, path="/v1/1")] == [calls[1].pk]
    assert [line["id"] for line in json_lines(client, cursor=calls[2].pk)] == [
        calls[1].pk, calls[0].pk]
    assert json_lines(client, service="theirs") == []
    assert json_lines(client, user="charlie") == []
    # The export is the whole filtered history: limit does not cut it.
    assert len(json_lines(client, limit="1")) == 5


@pytest.mark.django_db
def test_a_superuser_exports_every_team(history_of_two_teams, root):
    calls, theirs = history_of_two_teams
    lines = json_lines(logged_in(root))
    assert [line["id"] for line in lines] == [theirs.pk, *(call.pk for call in reversed(calls))]
    assert [line["team"] for line in lines] == ["globex"] + ["acme"] * 5


@pytest.mark.django_db
def test_csv_has_one_row_per_call_with_the_main_columns(history_of_two_teams, bob):
    calls, _theirs = history_of_two_teams
    response, content = exported(logged_in(bob), format="csv")
    assert content.startswith(",".join(CSV_COLUMNS).encode() + b"\r\n")
    assert response["Content-Disposition"].startswith('attachment; filename="easportal-calls-')
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(logged_in(bob))
    assert [int(row["id"]) for row in rows] == [call.pk for call in reversed(calls)]
    failed = rows[1]
    assert (failed["status"], failed["error_kind"], failed["error"]) == ("", "timeout",
                                                                          "timed out")
    first = rows[-1]
    assert first["created_at"].endswith("Z")
    assert (first["team"], first["service"], first["user"], first["method"], first["url"],
            first["status"], first["elapsed_ms"], first["streamed"], first["source"]) == (
        "acme", "chat", "bob", "POST", calls[0].url, "200", "12.5", "false", "portal")
    assert rows[0]["streamed"] == "true"


@pytest.mark.django_db
def test_a_csv_cell_a_spreadsheet_would_run_is_defused(service, bob):
    make_call(service, bob, status=None, status_class="failed", error="=HYPERLINK(\"x\")",
              error_kind="connection")
    rows = csv_rows(logged_in(bob))
    assert rows[0]["error"] == "'=HYPERLINK(\"x\")"
    line = json_lines(logged_in(bob))[0]
    assert line["error"] == "=HYPERLINK(\"x\")"


@pytest.mark.django_db
def test_the_export_is_redacted_as_stored(service, bob):
    make_call(service, bob, request_headers={"Authorization": "[redacted]",
                                             "X-Api-Key": "[redacted]"},
              request_body=b'{"token": "[redacted]"}', response_body="中文 answer".encode())
    client = logged_in(bob)
    for fmt in ("csv", "jsonl"):
        _response, content = exported(client, format=fmt)
        assert TOKEN.encode() not in content
    line = json_lines(client)[0]
    assert line["request_headers"] == {"Authorization": "[redacted]", "X-Api-Key": "[redacted]"}
    assert line["response_body"] == "中文 answer"


def test_a_real_calls_token_stays_out_of_the_export(echo, bob, emulator_received):
    """A call really sent with the token in its path, a header and its body (the emulator echoes
    them back): the export holds the call, redacted in every part, and never the token."""
    token = echo.read_token()
    response = send(logged_in(bob), "post", "/api/services/echo/invoke", {
        "path": f"/echo?key={token}", "headers": {"X-Copy": f"see {token}"},
        "body": json.dumps({"pasted": token})})
    assert response.status_code == 200, response.content
    assert token in emulator_received[0]["body"].decode()  # it was sent as given
    client = logged_in(bob)
    for fmt in ("csv", "jsonl"):
        _response, content = exported(client, format=fmt)
        assert token.encode() not in content
        assert b"[redacted]" in content
    [line] = json_lines(client)
    assert line["id"] == response.json()["id"]
    assert line["request_headers"]["X-Copy"] == "see [redacted]"
    assert line["request_body"] == '{"pasted": "[redacted]"}'
    assert line["url"].endswith("/echo?key=[redacted]")


@pytest.mark.django_db
def test_many_calls_in_many_batches_come_once_each_newest_first(service, bob, monkeypatch):
    calls = [make_call(service, bob, request_body=b"x" * (n * 10)) for n in range(23)]
    monkeypatch.setattr(history, "BATCH_IDS", 5)
    monkeypatch.setattr(history, "BATCH_BODY_BYTES", 50)
    client = logged_in(bob)
    expected = [call.pk for call in reversed(calls)]
    assert [line["id"] for line in json_lines(client)] == expected
    assert [int(row["id"]) for row in csv_rows(client)] == expected


def test_batches_group_by_body_size():
    sizes = [(9, 30), (8, 30), (7, 100), (6, 0), (5, 10), (4, 60)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(history, "BATCH_BODY_BYTES", 60)
        assert list(history._grouped(sizes)) == [(9, 8), (7, 7), (6, 5), (4, 4)]


@pytest.mark.django_db
@pytest.mark.parametrize("query, words", [
    ({"format": "xml"}, "format: choose csv or jsonl"),
    ({"status": "9xx"}, "Status:"),
    ({"since": "yesterday"}, "From:"),
    ({"since": "2026-02-02", "until": "2026-01-01"}, "The start date comes after the end date"),
    ({"cursor": "-3"}, "cursor"),
    ({"streamed": "maybe"}, "Streamed:"),
])
def test_bad_filters_get_400_with_a_message(service, bob, query, words):
    response = logged_in(bob).get("/api/calls/export", query)
    assert response.status_code == 400
    assert words in detail(response)


@pytest.mark.django_db
def test_logged_out_gets_401(client):
    response = client.get("/api/calls/export")
    assert response.status_code == 401
