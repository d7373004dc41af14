"""Fixtures of the API's tests only."""

import pytest

from tests.helpers import make_call


@pytest.fixture
def odd_call(service, bob):
    """A PUT of binary bytes to a path of its own: not every client can send that."""
    return make_call(service, bob, method="PUT", path="/echo/raw",
                     url=service.public_endpoint + "/echo/raw",
                     request_headers={"Content-Type": "application/octet-stream"},
                     request_body=b"\xff\x00\xfe")
