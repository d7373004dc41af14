"""The PostgreSQL connection's health check (easportal/postgres/base.py): a kept connection
whose server has said nothing is usable without a query; one whose session the server ended
is not, and Django replaces it before the request's first query."""

import time
from unittest import mock

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

from easportal.postgres.base import DatabaseWrapper


@pytest.fixture
def own_connection(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's backend; SQLite's check is Django's, which costs nothing")
    assert isinstance(connections["default"], DatabaseWrapper)
    own = connections.create_connection("default")
    own.ensure_connection()
    yield own
    own.close()


def backend_pid(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_quiet_connection_is_usable_without_a_query(own_connection):
    backend_pid(own_connection)
    with mock.patch.object(DjangoWrapper, "is_usable", side_effect=AssertionError("a query")):
        assert own_connection.is_usable()


def test_a_connection_whose_session_the_server_ended_is_not_usable(own_connection):
    pid = backend_pid(own_connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's goodbye takes a moment to arrive.
    until = time.monotonic() + 5
    while own_connection.is_usable() and time.monotonic() < until:
        time.sleep(0.01)
    assert not own_connection.is_usable()


def test_a_notice_on_the_socket_gets_the_full_check_and_keeps_the_connection(own_connection):
    with own_connection.cursor() as cursor:
        cursor.execute("LISTEN easportal_health")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY easportal_health")
    until = time.monotonic() + 5
    checked = mock.patch.object(DjangoWrapper, "is_usable", autospec=True,
                                side_effect=DjangoWrapper.is_usable)
    with checked as full_check:
        while not full_check.called and time.monotonic() < until:
            assert own_connection.is_usable()
            time.sleep(0.01)
        assert full_check.called
    with own_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_request_after_the_session_ended_gets_a_new_connection(own_connection):
    pid = backend_pid(own_connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    own_connection.close_if_unusable_or_obsolete()  # as a request starts
    # The request's first query.
    assert backend_pid(own_connection) != pid
