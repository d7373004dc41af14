"""The runs layer's fixtures: an emulator of its own that remembers enough requests to see a
whole run arrive, and a service that calls it. The worker process is the shared `worker`
fixture (tests/conftest.py)."""

import pytest

import emulator as eas_emulator


@pytest.fixture
def upstream(start_emulator):
    """An emulator of the test's own, which keeps its last 2,000 requests."""
    running = start_emulator()
    running.app.received = eas_emulator.Received(2000)
    return running


@pytest.fixture
def slow(acme, upstream):
    """Acme's service "slow": the emulator's demo-echo, whose default request is GET
    /slow?seconds=0.05."""
    return upstream.service(acme, "demo-echo", slug="slow", name="Slow",
                            default_path="/slow?seconds=0.05", default_method="GET")
