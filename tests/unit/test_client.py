"""The outbound client against real local servers: the emulator, and a few raw sockets for
what no well-behaved server does (trickling headers); test_wire.py holds how a call is written
and carried over TLS."""

import base64
import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

from services.net import client
from services.net.endpoints import HostPolicy
from services.net.errors import CallError, Refused
from tests.helpers import free_port

POLICY = HostPolicy("127.0.0.1,localhost,*.invalid")
MIB = 1024 * 1024


def send(url, method="POST", headers=None, body=b"", deadline_s=10, limit=5 * MIB):
    request = client.OutboundRequest(method, url, headers or {}, body)
    return client.send(request, policy=POLICY, deadline_s=deadline_s, max_response_bytes=limit)


@pytest.fixture
def echo_url(emulator):
    """The emulator's echo route, with nothing received yet."""
    emulator.app.clear()
    return emulator.base("demo-echo") + "/echo"


@pytest.fixture
def auth(emulator):
    return {"Authorization": emulator.token("demo-echo")}


def echoed(response):
    return json.loads(response.body)


def test_it_sends_the_request_as_given(echo_url, auth):
    response = send(echo_url + "/a%20b?x=1&y=%20", headers={**auth, "X-Trace": "t-1"},
                    body=b'{"a":1}')
    assert response.status == 200 and response.reason == "OK"
    seen = echoed(response)
    assert seen["method"] == "POST"
    assert seen["path"].endswith("/echo/a%20b") and seen["query"] == "x=1&y=%20"
    assert seen["headers"]["X-Trace"] == "t-1"
    assert seen["headers"]["Host"].startswith("127.0.0.1:")
    assert base64.b64decode(seen["body_base64"]) == b'{"a":1}'
    assert response.size == len(response.body) and not response.truncated


@pytest.mark.parametrize("body", [bytes(range(256)), "中文 emoji 🎉".encode(), b"\xff\xfe\x00"])
def test_binary_and_non_utf8_bodies_arrive_byte_for_byte(echo_url, auth, body):
    assert base64.b64decode(echoed(send(echo_url, headers=auth, body=body))["body_base64"]) == body


def test_a_body_of_exactly_the_gateway_limit_is_sent(echo_url, auth, emulator):
    body = b"x" * client.GATEWAY_BODY_LIMIT
    response = send(echo_url, headers=auth, body=body)
    assert response.status == 200
    assert emulator.app.received[-1]["body"] == body


@pytest.mark.parametrize("body", [b"x" * (client.GATEWAY_BODY_LIMIT + 1), "é".encode() * 524_289])
def test_one_byte_more_is_refused_and_nothing_is_sent(echo_url, auth, emulator, body):
    with pytest.raises(Refused) as refused:
        send(echo_url, headers=auth, body=body)
    assert refused.value.status == 413
    assert str(len(body)) in str(refused.value) and "1 MB" in str(refused.value)
    assert emulator.app.received == [] or list(emulator.app.received) == []


@pytest.mark.parametrize("headers, status", [
    ({"X-Bad": "a\r\nInjected: 1"}, 400),
    ({"X-Bad": "a\nb"}, 400),
    ({"X-Bad": "a\x00b"}, 400),
    ({"Bad Name": "x"}, 400),
    ({"Bad:Name": "x"}, 400),
    ({"Host": "evil.example.com"}, 400),
    ({"Content-Length": "5"}, 400),
    ({"X-Chinese": "中文"}, 400),
    ({"X-Spaced": " leading"}, 400),
])
def test_bad_headers_are_refused_before_sending(echo_url, auth, emulator, headers, status):
    with pytest.raises(Refused) as refused:
        send(echo_url, headers={**auth, **headers})
    assert refused.value.status == status
    assert list(emulator.app.received) == []


def test_redirects_are_shown_not_followed(emulator, auth):
    emulator.app.clear()
    url = emulator.base("demo-echo") + "/redirect?to=http://169.254.169.254/latest/meta-data"
    response = send(url, method="GET", headers=auth)
    assert response.status == 302
    assert response.headers["Location"] == "http://169.254.169.254/latest/meta-data"
    assert len(emulator.app.received) == 1


def test_a_slow_upstream_is_cut_off_at_the_deadline(emulator, auth):
    started = time.monotonic()
    with pytest.raises(CallError) as failure:
        send(emulator.base("demo-echo") + "/slow?seconds=5", headers=auth, deadline_s=1)
    assert failure.value.kind == "timeout"
    assert "1 s" in str(failure.value)
    assert time.monotonic() - started < 3  # the deadline, not the upstream, ended it


def test_a_trickled_body_is_cut_off_at_the_deadline_and_kept(emulator, auth):
    started = time.monotonic()
    response = send(emulator.base("demo-echo") + "/trickle?seconds=10", method="GET",
                    headers=auth, deadline_s=1.5)
    assert time.monotonic() - started < 4
    assert response.status == 200
    assert response.error_kind == "timeout" and "deadline" in response.error
    assert 0 < len(response.body) < 50


def test_trickled_headers_are_cut_off_at_the_deadline():
    port = serve_raw(lambda conn: trickle(conn, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: 1\r\n" * 200))
    started = time.monotonic()
    with pytest.raises(CallError) as failure:
        send(f"http://127.0.0.1:{port}/", method="GET", deadline_s=1)
    assert failure.value.kind == "timeout"
    assert time.monotonic() - started < 3


# The client runs in a process of its own here, so that its peak memory is its own (the
# emulator, in this process, buffers what it sends).
MEASURE = """
import json, resource, sys
from services.net import client
from services.net.endpoints import HostPolicy
url, token, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
response = client.send(client.OutboundRequest("GET", url, {"Authorization": token}),
                       policy=HostPolicy("127.0.0.1"), deadline_s=30, max_response_bytes=limit)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"kept": len(response.body), "zeros": response.body.count(0),
                  "size": response.size, "declared": response.declared_size,
                  "truncated": response.truncated, "error": response.error, "grown_kib": grown}))
"""


def measure(url, token, limit):
    result = subprocess.run([sys.executable, "-c", MEASURE, url, token, str(limit)],
                            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_large_response_is_cut_at_the_limit_and_memory_stays_bounded(emulator, auth):
    limit = 2 * MIB
    seen = measure(emulator.base("demo-echo") + f"/large?bytes={20 * MIB}",
                   auth["Authorization"], limit)
    assert seen["truncated"] and seen["kept"] == limit and seen["size"] > limit
    assert seen["declared"] == 20 * MIB and seen["error"] == ""
    assert seen["grown_kib"] * 1024 < 10 * MIB  # far below the 20 MiB on offer


def test_a_gzip_bomb_is_cut_after_decompression(emulator, auth):
    limit = 2 * MIB
    seen = measure(emulator.base("demo-echo") + f"/gzip?bytes={1024 * MIB}",
                   auth["Authorization"], limit)
    assert seen["truncated"] and seen["kept"] == limit and seen["zeros"] == limit
    assert seen["grown_kib"] * 1024 < 16 * MIB  # the bomb decompresses to 1 GiB


def test_connection_refused_is_one_readable_error():
    port = free_port()
    with pytest.raises(CallError) as failure:
        send(f"http://127.0.0.1:{port}/api/predict/x")
    assert failure.value.kind == "refused"
    assert "refused the connection" in str(failure.value)


def test_an_unresolvable_host_says_so_and_hints_at_vpc():
    with pytest.raises(CallError) as failure:
        send("http://no-such-host.invalid/api/predict/x")
    assert failure.value.kind == "dns"
    assert "no-such-host.invalid" in str(failure.value)


def test_a_name_resolving_to_a_metadata_address_is_refused(monkeypatch, emulator):
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(["169.254.169.254"]))
    with pytest.raises(Refused) as refused:
        send("http://metadata.invalid/latest/meta-data", method="GET")
    assert refused.value.status == 403


def test_a_wildcard_name_resolving_to_loopback_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(["127.0.0.1"]))
    request = client.OutboundRequest("GET", "http://sneaky.invalid/x")
    with pytest.raises(Refused):
        client.send(request, policy=HostPolicy("*.invalid"), deadline_s=1, max_response_bytes=1)


def test_the_policy_of_each_call_applies_to_a_url_already_called(echo_url, auth):
    """A URL's endpoint is parsed once per process (client._endpoint_of); the host policy is
    still checked on every call, so hosts refused since are refused at once."""
    assert send(echo_url, headers=auth).status == 200
    request = client.OutboundRequest("GET", echo_url, auth)
    with pytest.raises(Refused) as refused:
        client.send(request, policy=HostPolicy("*.invalid"), deadline_s=1, max_response_bytes=1)
    assert refused.value.status == 403
    assert send(echo_url, headers=auth).status == 200


def test_it_connects_to_the_address_it_checked(monkeypatch, emulator, auth):
    # The name is resolved once; a second answer (rebinding to the metadata address) would
    # never be asked for. The policy allows 127.0.0.1 by address, so the first answer passes.
    answers = fake_dns(["127.0.0.1"], then=["169.254.169.254"])
    monkeypatch.setattr(socket, "getaddrinfo", answers)
    emulator.app.clear()
    response = send(f"http://pinned.invalid:{emulator.port}/api/predict/demo-echo/echo",
                    headers=auth)
    assert response.status == 200
    assert answers.calls == 1
    assert echoed(response)["headers"]["Host"] == f"pinned.invalid:{emulator.port}"


def test_netrc_and_proxy_settings_in_the_environment_are_ignored(echo_url, auth, tmp_path,
                                                                 monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password stolen\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    response = send(echo_url, headers=auth)
    assert response.status == 200
    assert echoed(response)["headers"]["Authorization"] == auth["Authorization"]


def test_threads_share_connections_but_not_headers(echo_url, auth):
    def one(n):
        return echoed(send(echo_url, headers={**auth, "X-Caller": str(n)}, body=str(n).encode()))

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(one, range(40)))
    for n, seen in enumerate(results):
        assert seen["headers"]["X-Caller"] == str(n) and seen["body"] == str(n)


def test_sequential_calls_reuse_one_connection(echo_url, auth, emulator):
    emulator.app.clear()
    for _ in range(20):
        send(echo_url, headers=auth)
    assert len({seen["client_port"] for seen in emulator.app.received}) == 1


# Helpers: real sockets doing what the emulator will not.

def fake_dns(first, then=None):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host[0].isdigit():  # an address resolves to itself, without DNS
            return real(host, port, *args, **kwargs)
        getaddrinfo.calls += 1
        answer = first if getaddrinfo.calls == 1 or then is None else then
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answer]

    getaddrinfo.calls = 0
    return getaddrinfo


def serve_raw(handle):
    listener = socket.create_server(("127.0.0.1", 0))

    def run():
        conn, _ = listener.accept()
        with conn, listener:
            conn.recv(65536)
            handle(conn)

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]


def trickle(conn, data):
    for byte in data:
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("size, sends", [(0, 1), (1000, 1), (client.transport.COALESCE_BYTES, 2),
                                         (3 * client.transport.COALESCE_BYTES, 2)])
def test_a_request_goes_out_in_as_few_sends_as_it_can(echo_url, auth, monkeypatch, size, sends):
    """The request's head goes out with a body of up to COALESCE_BYTES in one send (every send
    wakes the server once more); a larger body follows its head. The bytes are the same."""
    written = []
    real_sendall = socket.socket.sendall

    def sendall(sock, data, *args):
        if threading.current_thread() is caller:
            written.append(bytes(data))
        return real_sendall(sock, data, *args)

    caller = threading.current_thread()
    monkeypatch.setattr(socket.socket, "sendall", sendall)
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    response = send(echo_url, headers=auth, body=body)
    assert base64.b64decode(echoed(response)["body_base64"]) == body
    assert len(written) == sends
    head = written[0].split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"POST ") and f"Content-Length: {size}".encode() in head
    assert b"".join(written).endswith(body)
