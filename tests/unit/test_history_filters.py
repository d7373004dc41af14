"""Every filter the history page offers is served by an index, or searched in a bounded window
(services/history.py, docs/api.md "History filters"): the database's own plan of each page's
query, on SQLite and on PostgreSQL, reads an index that holds the filter and gives the page's
order, so that no page sorts or scans the history; the path's search reads at most
PATH_WINDOW calls a page; and paging through a date's calls, whose order is then
(created_at, id), or through a path's windows, misses and repeats nothing."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.http import QueryDict

from services import history
from services.history import CallFilter
from services.models import Call, Run
from tests.helpers import logged_in, make_service, make_superuser

ROWS = 4000
START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def seeded(acme, globex, alice, bob, charlie):
    """ROWS calls a minute apart, a quarter of them Acme's, the others Globex's; in each team
    most alike (chat, 2xx, alice, not streamed), half of them probes, and one in fifty
    different in each way a filter asks. Analysed, so that each database plans as it would
    with a large history of many teams."""
    chat, other = make_service(acme), make_service(acme, slug="other", name="Other")
    theirs = make_service(globex, slug="gx", name="Gx")
    run = Run.objects.create(team=acme, service=chat, service_slug=chat.slug,
                             service_name=chat.name, user=alice, username="alice", total=30,
                             concurrency=1, max_seconds=1)
    calls = []
    for n in range(ROWS):
        ours, kind = n % 4 == 0, (n // 4) % 50
        rare = kind == 7
        service = (other if rare else chat) if ours else theirs
        calls.append(Call(
            team=service.team, service=service, service_slug=service.slug,
            service_name=service.name, user=bob if rare else alice,
            username="bob" if rare else "alice", created_at=START + timedelta(minutes=n),
            endpoint="public", method="POST", path="/v1/chat/completions",
            url=service.public_endpoint + ("/v1/rerank" if rare else "/v1/chat/completions"),
            status=503 if rare else 200, status_class="5xx" if rare else "2xx",
            elapsed_ms=1, streamed=kind == 8, source="gateway" if rare else (
                "probe" if (n // 4) % 2 else "portal"),
            run=run if ours and kind == 11 else None))
    Call.objects.bulk_create(calls, batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return run


def page_queries(who, **query):
    """[(sql, params)] of the queries one page of the history makes, and its result."""
    filters = CallFilter(QueryDict(urlencode(query)), user=who)
    assert filters.is_valid(), filters.errors
    seen = []

    def record(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = filters.page()
    return seen, result


def plan(sql, params):
    """The plan's lines, as the database explains it. PostgreSQL is kept from what would hide
    a missing index (a scan, a sort, a sort of the ties of a presorted key): the plan it must
    then make shows whether an index serves the query in its order."""
    with connection.cursor() as cursor, transaction.atomic():
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return [row[3] for row in cursor.fetchall()]
        for kind in ("seqscan", "bitmapscan", "sort", "incremental_sort"):
            cursor.execute(f"SET LOCAL enable_{kind} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def assert_served(lines, indexes, columns):
    """The plan reads one of these indexes, with these columns in its condition (the partial
    indexes have theirs in their own), and needs no sort."""
    text = "\n".join(lines)
    if text == "SCAN services_call":  # SQLite: the table itself, in the order of its rowid
        text = "SCAN services_call USING INTEGER PRIMARY KEY "
    used = [index for index in indexes if f" {index} " in text + " "]
    assert len(used) == 1, text
    if connection.vendor == "sqlite":
        # A SCAN reads an index from its start: only for an index that holds no more than
        # the filter keeps (a partial index, or no filter but the teams').
        assert "TEMP B-TREE" not in text and (text.startswith("SEARCH") or not columns), text
        condition = text.partition(f" {used[0]} ")[2]
    else:
        assert "Sort" not in text and "Seq Scan" not in text, text
        condition = text.partition("Index Cond:")[2].partition("\n")[0]
    for column in columns:
        assert column in condition, text


# filter -> the indexes that serve it (a team's, and every team's for a superuser), and the
# columns their condition holds
FILTERS = [
    ({}, ["call_team_everyday_id", "call_everyday_id"], []),
    ({"source": "all"}, ["call_team_id", "services_call_pkey", "INTEGER PRIMARY KEY"], []),
    ({"service": "other"}, ["call_team_service_id", "call_service_id"], ["service_slug"]),
    ({"status": "5xx"}, ["call_team_status_id", "call_status_id"], ["status_class"]),
    ({"user": "bob"}, ["call_team_username_id", "call_username_id"], ["username"]),
    ({"source": "gateway"}, ["call_team_source_id", "call_source_id"], ["source"]),
    ({"streamed": "true", "source": "all"}, ["call_team_streamed_id", "call_streamed_id"], []),
    ({"since": "2025-01-02"}, ["call_team_created_id", "call_created_id"], ["created_at"]),
    ({"until": "2025-01-02"}, ["call_team_created_id", "call_created_id"], ["created_at"]),
    ({"since": "2025-01-02", "until": "2025-01-02"}, ["call_team_created_id", "call_created_id"],
     ["created_at"]),
    ({"run": "RUN"}, ["call_run_id"], ["run_id"]),
]


@pytest.mark.parametrize("query, indexes, columns", FILTERS)
@pytest.mark.parametrize("who", ["member", "superuser"])
def test_each_filter_is_served_by_an_index_in_the_pages_order(
        seeded, alice, query, indexes, columns, who):
    user = alice if who == "member" else make_superuser()
    query = {name: str(seeded.pk) if value == "RUN" else value for name, value in query.items()}
    queries, (rows, next_cursor) = page_queries(user, **query, limit="5")
    assert rows and next_cursor
    assert_served(plan(*queries[-1]), indexes, columns)
    # The next page reads the same index from where the last one ended.
    queries, _ = page_queries(user, **query, limit="5", cursor=str(next_cursor))
    assert_served(plan(*queries[-1]), indexes, columns)


def test_a_path_is_searched_within_a_bounded_window(seeded, alice, monkeypatch):
    monkeypatch.setattr(history, "PATH_WINDOW", 500)
    queries, (rows, next_cursor) = page_queries(alice, path="RERANK")
    floor_sql, search_sql = queries[-2], queries[-1]
    # The window's oldest call is found by the everyday index, and the search reads no further.
    everyday = ["call_team_everyday_id", "call_everyday_id"]
    assert_served(plan(*floor_sql), everyday, [])
    assert_served(plan(*search_sql), everyday, ["id"])
    acme = Call.objects.filter(team__slug="acme").exclude(source__in=("run", "probe"))
    window = list(acme.order_by("-id").values_list("id", "url")[:500])
    assert [row.id for row in rows] == [i for i, url in window if "rerank" in url]
    assert 0 < len(rows) < 50 and next_cursor == window[-1][0]


def everything(client, query):
    """Every call of every page of /api/calls, in order, and how many pages it took."""
    seen, cursor, pages = [], "", 0
    while True:
        answer = client.get("/api/calls", {**query, "limit": "7", "cursor": cursor}).json()
        seen += [item["id"] for item in answer["items"]]
        pages += 1
        if answer["next"] is None:
            return seen, pages
        cursor = answer["next"]


@pytest.mark.parametrize("dated", [False, True])
def test_paging_through_a_paths_windows_misses_and_repeats_nothing(service, bob, monkeypatch,
                                                                    dated):
    monkeypatch.setattr(history, "PATH_WINDOW", 10)
    # Times out of the ids' order (as a capacity run's calls are), a few at the same instant.
    made = [Call.objects.create(
        team=service.team, service=service, service_slug=service.slug, service_name="Chat",
        user=bob, username="bob", endpoint="public", method="GET", path="/x",
        url=f"http://h/{'models' if n % 7 == 0 else 'chat'}/{n}", status=200,
        status_class="2xx", elapsed_ms=1,
        created_at=START + timedelta(minutes=(n * 37) % 45 // 2)) for n in range(45)]
    query = {"path": "models", **({"since": "2025-01-01"} if dated else {})}
    seen, pages = everything(logged_in(bob), query)
    key = (lambda call: (call.created_at, call.pk)) if dated else (lambda call: call.pk)
    assert seen == [call.pk for call in sorted(made, key=key, reverse=True)
                    if "models" in call.url]
    assert pages == 5  # four full windows of ten, then the last five calls


def test_the_history_page_says_when_a_path_was_searched_in_part(service, bob, monkeypatch):
    monkeypatch.setattr(history, "PATH_WINDOW", 10)
    for n in range(25):
        Call.objects.create(
            team=service.team, service=service, service_slug=service.slug, service_name="Chat",
            user=bob, username="bob", endpoint="public", method="GET", path="/x",
            url=f"http://h/{'models' if n == 3 else 'chat'}/{n}", status=200,
            status_class="2xx", elapsed_ms=1)
    client = logged_in(bob)
    first = client.get("/calls/", {"path": "models"})
    assert first.context["calls"] == [] and 'id="path-window"' in first.text
    assert "in 10 calls at a time" in first.text, first.text[first.text.index("path-window"):][:300]
    assert first.context["older_url"]
    last = client.get("/calls/" + first.context["older_url"]).context["older_url"]
    found = client.get("/calls/" + last)
    assert [call.url for call in found.context["calls"]] == ["http://h/models/3"]
    assert found.context["older_url"] is None and 'id="path-window"' not in found.text


def test_a_dates_pages_go_by_time_and_miss_and_repeat_nothing(service, bob):
    # A capacity run's calls are written after they end, with the time they began: ids and
    # times do not go in the same order.
    times = [START + timedelta(hours=hours) for hours in (5, 1, 3, 30, 2, 4, 0, 6, 2, 7)]
    made = [Call.objects.create(
        team=service.team, service=service, service_slug=service.slug, service_name="Chat",
        user=bob, username="bob", endpoint="public", method="GET", path="/x", url="http://h/x",
        status=200, status_class="2xx", elapsed_ms=1, created_at=at) for at in times]
    seen, _ = everything(logged_in(bob), {"since": "2025-01-01", "until": "2025-01-01"})
    expected = sorted((call for call in made if call.created_at.day == 1),
                      key=lambda call: (call.created_at, call.pk), reverse=True)
    assert seen == [call.pk for call in expected]
