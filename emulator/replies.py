"""What a route is handed and what it gives back: the Request, the (status, headers, body)
replies, and Refusal, which ends a request early with a ready reply. Shared by emulator.app,
emulator.routes and emulator.openai. See docs/emulator.md."""

import json
from http import HTTPStatus
from urllib.parse import parse_qs


class Refusal(Exception):
    """Ends a request early with a ready response."""

    def __init__(self, response):
        super().__init__(response[0])
        self.response = response


def reply(status, body=b"", content_type="text/plain; charset=utf-8", headers=()):
    if isinstance(body, str):
        body = body.encode()
    return status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                    *headers], [body]


def reply_json(status, data, headers=()):
    return reply(status, json.dumps(data, ensure_ascii=False).encode(), "application/json",
                 headers)


def openai_error(message, param=None, status=400):
    return reply_json(status, {"error": {"message": message, "type": "invalid_request_error",
                                         "param": param, "code": None}})


def bad_request(message):
    return Refusal(reply(400, message + "\n"))


def phrase(code):
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


class Request:
    """One request that passed the gateway's checks. watch (an emulator.watch.Watch) tells
    whether the client is still there and waits while watching; tokens_per_s is the server's
    default pace for streamed answers."""

    def __init__(self, method, path, query, headers, body, service, client_port=None, *,
                 watch, tokens_per_s=0.0):
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.service = headers, body, service
        self.client_port, self.watch, self.tokens_per_s = client_port, watch, tokens_per_s

    def param(self, name, default=None):
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else default

    def number(self, name, default, maximum, kind=float):
        text = self.param(name)
        try:
            value = kind(text) if text is not None else default
        except ValueError:
            raise bad_request(f"{name} must be a number, not {text!r}.") from None
        if not 0 <= value < float("inf"):
            raise bad_request(f"{name} must be 0 or more.")
        return min(value, maximum)

    def json(self):
        try:
            data = json.loads(self.body)
        except ValueError:
            raise Refusal(openai_error("The body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise Refusal(openai_error("The body must be a JSON object."))
        return data
