"""The connection guard of tests/conftest.py: a connection to an address that is not loopback is
refused before it leaves and recorded, so the test fails at teardown even if the code under test
swallowed the error; loopback and AF_UNIX pass."""

import contextlib
import socket

import pytest

from tests.guard import OutsideConnection, is_loopback

TEST_NET = ("192.0.2.1", 80)  # TEST-NET-1, documentation only (RFC 5737)


def test_a_connection_outside_loopback_is_refused_and_recorded(connection_guard):
    assert connection_guard == []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OutsideConnection) as refused:
            sock.connect(TEST_NET)
        assert isinstance(refused.value, OSError)
        assert "loopback only" in str(refused.value) and "192.0.2.1" in str(refused.value)
        with pytest.raises(OutsideConnection):
            sock.connect_ex(TEST_NET)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, \
            pytest.raises(OutsideConnection):
        sock.connect(("::ffff:192.0.2.1", 80, 0, 0))
    assert connection_guard == [(socket.AF_INET, TEST_NET), (socket.AF_INET, TEST_NET),
                                (socket.AF_INET6, ("::ffff:192.0.2.1", 80, 0, 0))]
    # Swallowing the error hides nothing: the record is what fails the test at teardown.
    with socket.socket() as sock, contextlib.suppress(OSError):
        sock.connect(TEST_NET)
    assert len(connection_guard) == 4
    connection_guard.clear()  # this test's own attempts, on purpose


def test_loopback_connections_pass_and_are_not_recorded(connection_guard):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) == 0
    assert connection_guard == []


@pytest.mark.parametrize("family, address", [
    (socket.AF_INET, ("127.0.0.1", 80)),
    (socket.AF_INET, ("127.255.255.254", 80)),
    (socket.AF_INET, ("localhost", 80)),
    (socket.AF_INET6, ("::1", 80, 0, 0)),
    (socket.AF_INET6, ("::ffff:127.0.0.1", 80, 0, 0)),
    (socket.AF_UNIX, "/tmp/easportal.sock"),
    (socket.AF_UNIX, b"\0abstract"),
])
def test_these_stay_on_the_machine(family, address):
    assert is_loopback(family, address)


@pytest.mark.parametrize("family, address", [
    (socket.AF_INET, TEST_NET),
    (socket.AF_INET, ("10.0.0.1", 80)),
    (socket.AF_INET, ("169.254.169.254", 80)),
    (socket.AF_INET, ("100.100.100.200", 80)),
    (socket.AF_INET, ("0.0.0.0", 80)),
    (socket.AF_INET, ("", 80)),
    (socket.AF_INET, ("<broadcast>", 80)),
    (socket.AF_INET6, ("::", 80, 0, 0)),
    (socket.AF_INET6, ("2001:db8::1", 80, 0, 0)),
    (socket.AF_INET6, ("::ffff:192.0.2.1", 80, 0, 0)),
    (socket.AF_INET6, ("fe80::1%lo", 80, 0, 0)),
])
def test_these_do_not(family, address):
    assert not is_loopback(family, address)
