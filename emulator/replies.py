"""What a route is handed and what it gives back: the Request, the (status, headers, body)
replies, and Refusal, which ends a request early with a ready reply. Shared by emulator.app,
emulator.routes and emulator.openai. See docs/emulator.md."""

import json
import os
from http import HTTPStatus
from urllib.parse import parse_qs

# The gateway's refusals, in English or in Simplified Chinese as the portal speaks (docs/i18n.md):
# the language of the request's Accept-Language, else the emulator's own, from its environment
# (LC_ALL, LC_MESSAGES, LANG). {names} are filled in.
GATEWAY_WORDS = {
    "not_service_address": (
        "Not Found: {path} is not a service address; services are served under "
        "/api/predict/<service>.",
        "未找到：{path} 不是服务地址，服务的地址形如 /api/predict/<service>。"),
    "no_service": (
        "Not Found: there is no service named {name!r} on this gateway.",
        "未找到：此网关上没有名为 {name!r} 的服务。"),
    "too_large": (
        "Request body too large: the gateway accepts at most {limit} bytes.",
        "请求体过大：网关最多接受 {limit} 字节。"),
    "no_interface": (
        "Not Found: no interface at {path}; the endpoint is a base address; check the "
        "interface path.",
        "未找到：{path} 没有对应的接口。访问地址只是基础地址，请检查接口路径。"),
    "method": (
        "Method Not Allowed: {route} answers {methods}.",
        "不支持该方法：{route} 只接受 {methods}。"),
    "auth_missing": (
        "Authorization failed: send the service token in the Authorization header.",
        "鉴权失败：请在 Authorization 请求头中携带服务的 Token。"),
    "auth_wrong": (
        "Authorization failed: the token is wrong.",
        "鉴权失败：Token 不正确。"),
    "auth_md5_date": (
        "Authorization failed: an EAS-signed request needs Content-MD5 and Date headers.",
        "鉴权失败：EAS 签名的请求需要 Content-MD5 和 Date 请求头。"),
    "auth_signature": (
        "Authorization failed: the EAS signature does not match this request and token.",
        "鉴权失败：EAS 签名与该请求和 Token 不匹配。"),
    "auth_md5": (
        "Authorization failed: Content-MD5 is not the hex MD5 of the body.",
        "鉴权失败：Content-MD5 不是请求体的十六进制 MD5。"),
}


def is_chinese(tag):
    return tag.strip().lower().startswith("zh")


def environment_language():
    """The emulator's own language: its environment's locale, as a shell's programs read it."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(name):
            return "zh-hans" if is_chinese(os.environ[name]) else "en"
    return "en"


def language_of(accept_language, default):
    """The first language of Accept-Language that the emulator speaks, else default."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if is_chinese(tag):
            return "zh-hans"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return default


def gateway_says(language, key, **values):
    english, chinese = GATEWAY_WORDS[key]
    return (chinese if language == "zh-hans" else english).format(**values) + "\n"


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
