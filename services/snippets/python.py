"""Python snippets: requests, the OpenAI SDK and Alibaba's eas-prediction SDK
(services/snippets/targets.py lists every target).

What each client adds or changes was read in its source and proven by running the snippets
against the emulator (tests/snippets/); the reasons below say what it would change.
"""

import json
import math

from django.utils.translation import gettext as _

from services.snippets.quoting import py_body, py_dict, py_str, py_value
from services.snippets.request import header_value, headers_of, non_ascii_header

# Python (requests)

def python_reason(request):
    return None


def _py_token(token):
    """The token (or the personal key) itself, as the SDKs take it: they add what goes with it."""
    return f'os.environ["{token.env_var}"]' if token.from_env else py_str(token.literal)


def _py_authorization(token):
    """The Authorization header's value: "Bearer <key>" for a personal key."""
    return ('"Bearer " + ' if token.is_key else "") + _py_token(token)


def python_context(request, token):
    headers = [(py_str(name), py_str(value)) for name, value in headers_of(request)]
    headers.append((py_str("Authorization"), _py_authorization(token)))
    # A streamed answer is written as it arrives, byte for byte: iter_content(chunk_size=None)
    # yields each chunk of a chunked answer (as streamed answers come) the moment it is read;
    # iter_lines would re-split the server-sent events, dropping the blank line after each,
    # and change the bytes of an answer that is not text.
    return {"env": token.from_env, "method": py_str(request.method), "url": py_str(request.url),
            "headers": headers, "body": py_body(request.body) if request.body else "",
            "timeout_s": request.timeout_s, "stream": request.stream}


# OpenAI SDK (Python)

# The deepest nesting of lists and objects an OpenAI SDK snippet writes out; a deeper body
# (no model request needs one) gets no such snippet, the others still do.
MAX_DEPTH = 64
# route: (method, create function, required body keys)
OPENAI_ROUTES = {
    "/v1/chat/completions": ("POST", "client.chat.completions.create", ("model", "messages")),
    "/v1/completions": ("POST", "client.completions.create", ("model", "prompt")),
    "/v1/embeddings": ("POST", "client.embeddings.create", ("model", "input")),
    "/v1/models": ("GET", "client.models.list", ()),
}
STREAMING_FUNCTIONS = ("client.chat.completions.create", "client.completions.create")


def _openai_route(request):
    for route, (method, _function, _required) in OPENAI_ROUTES.items():
        if request.method == method and request.url == request.base + route:
            return route
    return None


def _refuse_constant(name):
    raise ValueError(name)


class _TooDeep(Exception):
    """A body nested more than MAX_DEPTH levels deep."""


def _json_object(body):
    """The body parsed as plain JSON, or None: NaN, Infinity or a number too large for a float
    would not come back the same from the SDK, and a body nested more than MAX_DEPTH levels
    deep is not written out as code (py_value() recurses once a level)."""
    try:
        return _parsed_object(body)
    except _TooDeep:
        return None


def _parsed_object(body):
    """_json_object(), raising _TooDeep for a body nested too deep. Judged by a walk with a
    stack of its own, not by recursion: a body of any depth is judged without reaching the
    interpreter's recursion limit, wherever it is called from."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:  # deeper than the parser goes: far deeper than MAX_DEPTH
        raise _TooDeep from None
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _TooDeep
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return data


def openai_reason(request):
    if request.service_kind != "llm":
        return _("The OpenAI SDK is offered for OpenAI-compatible LLM services only.")
    route = _openai_route(request)
    if route is None:
        return _("The OpenAI SDK calls only POST /v1/chat/completions, /v1/completions and "
                 "/v1/embeddings and GET /v1/models, right after the endpoint, without a "
                 "query string.")
    if non_ascii_header(request):
        return _("The OpenAI SDK sends only ASCII header values.")
    content_type = header_value(request, "Content-Type")
    if route == "/v1/models":
        if request.body or content_type is not None:
            return _("The OpenAI SDK sends GET /v1/models without a body or Content-Type; "
                     "remove them to get this snippet.")
        return None
    if content_type is None:
        return _("The OpenAI SDK always sends a Content-Type, and this request has none.")
    try:
        data = _parsed_object(request.body)
    except _TooDeep:
        return _("The body is nested more than %(depth)s levels deep, too deep to write out as "
                 "the OpenAI SDK's arguments.") % {"depth": MAX_DEPTH}
    if data is None:
        return _("The OpenAI SDK sends a JSON object, and this body is not one.")
    required = OPENAI_ROUTES[route][2]
    if any(key not in data for key in required):
        return _("The OpenAI SDK needs the keys %(keys)s in the body of %(route)s.") % {
            "keys": ", ".join(required), "route": route}
    if not isinstance(data.get("stream", False), bool):
        return _("The OpenAI SDK takes stream as true or false.")
    return None


def openai_context(request, token):
    route = OPENAI_ROUTES[_openai_route(request)]
    notes = ["The OpenAI SDK sends the key as \"Authorization: Bearer <key>\", as the gateway "
             "reads it." if token.is_key else
             "The OpenAI SDK sends the token as \"Authorization: Bearer <token>\", which EAS "
             "accepts too."]
    data = _json_object(request.body) if request.body else {}
    arguments = [(key, py_value(data[key])) for key in route[2]]
    # chat and completions take stream, and must: the SDK reads the answer as a stream only
    # then. The body decides, as it decides whether the server streams; embeddings has no such
    # argument, so there "stream" is one more key of the body.
    streams = route[1] in STREAMING_FUNCTIONS and "stream" in data
    if streams:
        arguments.append(("stream", py_value(data["stream"])))
    extra_body = [(key, py_value(value)) for key, value in data.items()
                  if key not in route[2] and not (streams and key == "stream")]
    omit = route[1] == "client.embeddings.create" and "encoding_format" not in data
    if omit:
        extra_body.append(("encoding_format", "omit"))
        notes.append("omit keeps the SDK from adding \"encoding_format\": \"base64\" to the "
                     "body.")
    if extra_body:
        arguments.append(("extra_body", py_dict(extra_body)))
    extra_headers = [(name, py_str(value)) for name, value in headers_of(request)
                     if (name.lower(), value) != ("content-type", "application/json")]
    if extra_headers:
        arguments.append(("extra_headers", py_dict(extra_headers)))
    return {"env": token.from_env, "imports": "OpenAI, omit" if omit else "OpenAI",
            "base_url": py_str(request.base + "/v1"), "api_key": _py_token(token),
            "timeout_s": request.timeout_s, "function": route[1], "arguments": arguments,
            "models": route[0] == "GET", "stream": streams and data["stream"] is True,
            "chat": route[1] == "client.chat.completions.create",
            "usage": bool(streams and isinstance(data.get("stream_options"), dict)
                          and data["stream_options"].get("include_usage")),
            "notes": notes}


# eas-prediction SDK

# With custom_url the SDK sends the token as the whole Authorization value; the gateway reads a
# personal key sent so.
EAS_SDK_KEY_NOTE = ("The SDK sends the key as it is, as the whole Authorization value, which the "
                    "gateway accepts as it accepts \"Bearer <key>\".")
# PredictClient.predict() reads the whole answer (urllib3's preload_content) before it returns
# it, and the SDK has no other way to read one: a streamed request is still sent the same, and
# its answer printed once it has ended.
EAS_SDK_STREAM_NOTE = ("The eas-prediction SDK cannot read an answer as it arrives: this waits "
                       "for the whole streamed answer, then prints it at once.")


def eas_sdk_reason(request):
    if request.method != "POST":
        return _("The eas-prediction SDK sends only POST requests.")
    if not request.url.startswith("http://"):
        return _("The eas-prediction SDK snippet is offered for http:// endpoints only.")
    if not header_value(request, "Content-Type"):
        return _("The eas-prediction SDK always sends a Content-Type (application/octet-stream "
                 "unless told otherwise), and this request has none.")
    if header_value(request, "Date") is not None:
        return _("The eas-prediction SDK sets the Date header itself, so it cannot send this "
                 "request's.")
    return None


def eas_sdk_context(request, token):
    extra_headers = [(name, py_str(value)) for name, value in headers_of(request)
                     if name.lower() != "content-type"]
    return {"env": token.from_env, "url": py_str(request.url), "token": _py_token(token),
            "content_type": next(py_str(value) for name, value in headers_of(request)
                                 if name.lower() == "content-type"),
            "extra_headers": py_dict(extra_headers) if extra_headers else "",
            "body": py_body(request.body), "timeout_ms": request.timeout_s * 1000,
            "notes": ["The SDK also sends a Date header of its own."] + (
                [EAS_SDK_KEY_NOTE] if token.is_key else []) + (
                [EAS_SDK_STREAM_NOTE] if request.stream else [])}
