"""easportal/serving.py: gunicorn's response writer with an answer's head sent together with
its body. Each case is written by gunicorn's own writer and by ours, for a request gunicorn parsed
from a real socket, to a socket that records each send: the bytes must be the same, and ours
must take no more sends."""

import io
import re
import socket
import tempfile

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from easportal import serving


class Recording:
    """A socket that keeps what each send wrote (sendfile counts as one send)."""

    def __init__(self):
        self.sends = []

    def sendall(self, data):
        self.sends.append(bytes(data))

    def sendfile(self, file, offset=0, count=None):
        file.seek(offset)
        self.sends.append(file.read(count))


def respond(response_class, method, status, headers, body=(), file=None, version="1.1"):
    """The sends of one response, written as gunicorn's threaded worker writes it."""
    cfg = Config()
    client, server = socket.socketpair()
    with client, server:
        client.sendall(f"{method} /x HTTP/{version}\r\nHost: portal\r\n\r\n".encode())
        request = next(iter(RequestParser(cfg, server, ("127.0.0.1", 5000))))
        sock = Recording()
        response, environ = wsgi.create(request, sock, ("127.0.0.1", 5000),
                                        ("127.0.0.1", 8000), cfg, response_class=response_class)
        response.start_response(status, headers)
        if file is not None:
            response.write_file(environ["wsgi.file_wrapper"](file))
        else:
            for piece in body:
                response.write(piece)
        response.close()
    # The Date header is the only part that may differ between two writes.
    return [re.sub(rb"Date: [^\r]*", b"Date: -", data) for data in sock.sends]


SMALL = b'{"id": 1, "status": 200}'
LARGE = bytes(range(256)) * (serving.COALESCE_BYTES // 256 + 1)
CASES = {
    "small": ("POST", "200 OK", [("Content-Type", "application/json"),
                                 ("Content-Length", str(len(SMALL)))], [SMALL], 1),
    "large": ("GET", "200 OK", [("Content-Length", str(len(LARGE)))], [LARGE], 2),
    "empty": ("GET", "200 OK", [("Content-Length", "0")], [b""], 1),
    "nothing written": ("GET", "302 Found", [("Location", "/"), ("Content-Length", "0")], [], 1),
    "head": ("HEAD", "200 OK", [("Content-Length", str(len(SMALL)))], [SMALL], 1),
    "no content": ("DELETE", "204 No Content", [], [b""], 1),
    # No length: HTTP/1.1 chunks it; the head goes with the first chunk, the end alone.
    "streamed": ("POST", "200 OK", [("Content-Type", "text/event-stream")],
                 [b"event: head\n\n", b"", b"event: data\n\n", b"event: call\n\n"], 4),
    "streamed, nothing": ("POST", "200 OK", [("Content-Type", "text/event-stream")], [], 1),
    "HTTP/1.0, no length": ("GET", "200 OK", [], [b"one", b"two"], 2),
}


@pytest.mark.parametrize("case", CASES)
def test_the_bytes_are_gunicorns_in_fewer_sends(case):
    method, status, headers, body, sends = CASES[case]
    version = "1.0" if "1.0" in case else "1.1"
    theirs = respond(wsgi.Response, method, status, headers, body, version=version)
    ours = respond(serving.Response, method, status, headers, body, version=version)
    assert b"".join(ours) == b"".join(theirs)
    assert len(ours) == sends <= len(theirs)
    assert ours[0].startswith(f"HTTP/{version} {status}\r\n".encode())


def test_a_file_gets_its_head_before_sendfile():
    content = b"static file " * 1000
    with tempfile.TemporaryFile() as file:
        file.write(content)
        file.seek(0)
        theirs = respond(wsgi.Response, "GET", "200 OK",
                         [("Content-Length", str(len(content)))], file=file)
        file.seek(0)
        ours = respond(serving.Response, "GET", "200 OK",
                       [("Content-Length", str(len(content)))], file=file)
    assert ours == theirs
    assert ours[0].endswith(b"\r\n\r\n") and ours[1] == content


def test_a_file_without_a_descriptor_is_written_as_a_body():
    content = b"in memory"
    ours = respond(serving.Response, "GET", "200 OK",
                   [("Content-Length", str(len(content)))], file=io.BytesIO(content))
    assert len(ours) == 1 and ours[0].endswith(b"\r\n\r\nin memory")


def test_install_makes_gunicorn_build_ours(monkeypatch):
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)
    serving.install()
    assert wsgi.Response is serving.Response
