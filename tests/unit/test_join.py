"""Joining a base endpoint and an interface path, driven by tests/unit/join_cases.json (the
same table drives the browser's JavaScript in tests/e2e/test_join_js.py)."""

import pytest
import requests

from services.net.errors import PathError
from services.net.join import join_url
from tests.helpers import JOIN_CASES, assert_readable


def join_case(row):
    path, url, *base = row
    return (base[0] if base else JOIN_CASES["base"]), path, url


@pytest.mark.parametrize("base, path, url", [join_case(row) for row in JOIN_CASES["ok"]])
def test_it_joins_base_and_path(base, path, url):
    assert join_url(base, path) == url
    # Joining what we produced gives it back: requests and browsers leave it alone too.
    assert join_url(base, url[len(base):]) == url


@pytest.mark.parametrize("path", JOIN_CASES["refused"])
def test_it_refuses_paths_that_would_leave_the_endpoint(path):
    with pytest.raises(PathError) as caught:
        join_url(JOIN_CASES["base"], path)
    assert_readable(caught.value)


def test_the_join_table_holds_every_row_of_the_design():
    ok = {row[0]: row[1] for row in JOIN_CASES["ok"] if len(row) == 2}
    assert ok["v1/models"] == "http://h/api/predict/s/v1/models"
    assert ok["/a b/中"] == "http://h/api/predict/s/a%20b/%E4%B8%AD"
    assert {"//evil/x", "http://x/", "/../x", "/%2e%2e/x", "\\x"} <= set(JOIN_CASES["refused"])
    # Encoded separators and path parameters, for a gateway that decodes before it normalises.
    assert {"/..%2Fx", "/..%2fx", "/..%5Cx", "/..%5cx", "/..;/x", "/..%3B/x"} <= set(
        JOIN_CASES["refused"])
    assert {"/a%2Fb", "/a;b/x", "/x;.."} <= set(ok)


def test_it_joins_onto_a_base_given_with_its_trailing_slash():
    assert join_url("http://h/api/predict/s/", "v1/models") == "http://h/api/predict/s/v1/models"


def test_it_refuses_a_path_that_is_not_utf8():
    with pytest.raises(PathError):
        join_url("http://h", "/\ud800")


@pytest.mark.parametrize("base, path, url", [join_case(row) for row in JOIN_CASES["ok"]])
def test_the_joined_url_is_the_one_requests_puts_on_the_wire(base, path, url):
    # The portal sends with requests: the URL shown, recorded and sent must be one.
    assert requests.Request("GET", join_url(base, path)).prepare().url == url
