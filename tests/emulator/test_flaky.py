"""The emulator's /flaky route: a known share of 503s, counted per key across threads."""

import json
from concurrent.futures import ThreadPoolExecutor

from tests.emulator.test_routes import send


def test_every_kth_request_of_a_key_answers_503(emulator):
    answers = [send(emulator, "GET", "/flaky?every=3&key=kth") for _ in range(7)]
    assert [status for status, _response, _body in answers] == [200, 200, 503, 200, 200, 503,
                                                                200]
    status, response, body = answers[2]
    assert response.getheader("Retry-After") == "1"
    assert json.loads(body) == {"status": 503, "reason": "Service Unavailable", "request": 3,
                                "every": 3}
    assert json.loads(answers[3][2]) == {"request": 4, "every": 3}
    assert answers[3][1].getheader("Retry-After") is None


def test_each_key_has_its_own_count_shared_by_every_service(emulator):
    assert send(emulator, "GET", "/flaky?every=2&key=shared")[0] == 200
    # Another service, the same key: the second request of the key.
    assert send(emulator, "POST", "/flaky?every=2&key=shared", service="demo-chat")[0] == 503
    assert send(emulator, "GET", "/flaky?every=2&key=other")[0] == 200


def test_the_default_is_one_in_ten(emulator):
    statuses = [send(emulator, "GET", "/flaky?key=default-ten")[0] for _ in range(20)]
    assert [index for index, status in enumerate(statuses, 1) if status == 503] == [10, 20]


def test_the_count_holds_under_concurrent_requests(emulator):
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _n: send(emulator, "GET", "/flaky?every=4&key=many")[0],
                                 range(200)))
    assert (statuses.count(503), statuses.count(200)) == (50, 150)


def test_every_must_be_a_whole_number_of_one_or_more(emulator):
    for query, message in (("every=0", b"every must be 1 or more"),
                           ("every=x", b"every must be a number"),
                           ("key=" + "k" * 65, b"key may be at most 64 characters")):
        status, _response, body = send(emulator, "GET", f"/flaky?{query}")
        assert status == 400 and message in body, (query, body)
    assert send(emulator, "GET", "/flaky?every=1&key=always")[0] == 503
