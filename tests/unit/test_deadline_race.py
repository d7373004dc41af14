"""The deadline and the connection pool (issue 14, defect 10): a call's deadline must be
finished before its connection goes back to the pool, or a deadline firing in between shuts a
socket that the next call has taken. The watchdog's firing is placed exactly in that window;
the client, the pool and the emulator are real."""

import json
import time

from services.net import client
from services.net.deadline import Deadline
from services.net.endpoints import HostPolicy

POLICY = HostPolicy("127.0.0.1")


def echo(emulator):
    return client.OutboundRequest(method="GET", url=f"{emulator.base('demo-echo')}/echo",
                                  headers={"Authorization": emulator.token("demo-echo")})


def port_of(response):
    return json.loads(response.body)["client_port"]


def test_a_deadline_firing_as_its_connection_returns_to_the_pool_leaves_it_alone(emulator):
    request = echo(emulator)
    first = client.send(request, policy=POLICY, deadline_s=30, max_response_bytes=1 << 20)
    target = client.resolve(request.url, POLICY)
    deadline = Deadline(30)
    opened = client.open_answer(request, target, deadline=deadline, deadline_s=30,
                                started=time.perf_counter())
    body = opened.raw.read()
    returned = opened.raw.release_conn

    def returned_then_fired():
        returned()
        deadline.fire()  # the watchdog wakes now: the connection is the pool's again

    opened.raw.release_conn = returned_then_fired
    opened.release(reusable=True)
    assert json.loads(body)["client_port"] == port_of(first)
    # The next call takes the pooled connection: still open, the same one.
    after = client.send(request, policy=POLICY, deadline_s=30, max_response_bytes=1 << 20)
    assert after.status == 200 and not after.error
    assert port_of(after) == port_of(first)

