"""A WSGI app that answers with the thread that served the request and the size of its body,
for tests/load/test_serving.py to serve with gunicorn; it imports nothing of the portal."""

import threading


def app(environ, start_response):
    body = environ["wsgi.input"].read()
    answer = f"{threading.get_ident()} {len(body)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(answer)))])
    return [answer]
