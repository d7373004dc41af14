"""The snippet targets (services/snippets.py): for each, why it cannot express a request, if it
cannot, and the context its template (templates/services/snippets/<target>.txt) is rendered
with. Every value reaches a template quoted by services/snippet_quoting.py.

What each client adds or changes was read in its source and proven by running the snippets
against the emulator (tests/test_snippets_run.py); the reasons below say what it would change.
"""

import json
import math
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from services.snippet_quoting import (
    MAX_ARG_BYTES,
    httpie_cannot_escape,
    httpie_escape,
    js_body,
    js_str,
    py_body,
    py_dict,
    py_str,
    py_value,
    sh_printf_bytes,
    sh_printf_text,
    sh_quote,
    text_of,
)

TOKEN_ENV = "EAS_TOKEN"
TOKEN_PLACEHOLDER = "<EAS_TOKEN>"
# The one word of a shell snippet that expands: double quotes, so that the token stays one word.
SH_ENV_AUTHORIZATION = f'"Authorization: ${{{TOKEN_ENV}}}"'

@dataclass(frozen=True)
class Token:
    mode: str  # env, placeholder or real
    plaintext: str = ""

    @property
    def from_env(self):
        return self.mode == "env"

    @property
    def literal(self):
        return TOKEN_PLACEHOLDER if self.mode == "placeholder" else self.plaintext


class Inexpressible(Exception):
    """The target cannot carry this token (real mode); the message says why."""


def placeholder(header_name):
    return "<" + re.sub(r"[^A-Za-z0-9]", "_", header_name).upper() + ">"


def headers_of(request):
    """The request's headers, with a named placeholder for each value history redacted."""
    redacted = {name.lower() for name in request.redacted_headers}
    return [(name, placeholder(name) if name.lower() in redacted else value)
            for name, value in request.headers]


def header_value(request, name):
    return next((value for key, value in request.headers if key.lower() == name.lower()), None)


def _query(request):
    return request.url.partition("?")[2]


def _non_ascii_header(request):
    return next((name for name, value in request.headers if not value.isascii()), None)


# curl

def curl_reason(request):
    if request.method == "HEAD" and request.body:
        return _("curl cannot send a body with a HEAD request.")
    name = _non_ascii_header(request)
    if name:
        return _("curl would send the value of the header %(name)s as UTF-8, not as the "
                 "single bytes (ISO-8859-1) the portal sends.") % {"name": name}
    return _too_long_header(request)


def _too_long_header(request):
    for name, value in request.headers:
        if len(f"{name}: {value}".encode()) > MAX_ARG_BYTES:
            return _("The header %(name)s is longer than a command-line argument may be "
                     "(128 KiB).") % {"name": name}
    return None


def _header_line(name, value):
    # curl reads "Name:" as "remove the header"; "Name;" sends it empty.
    return f"{name};" if value == "" else f"{name}: {value}"


def curl_context(request, token):
    options = ["--globoff"]
    if request.method == "HEAD":
        options.append("--head")
    elif request.method != ("POST" if request.body else "GET"):
        options.append(f"-X {request.method}")
    options += ["-H " + sh_quote(_header_line(name, value)) for name, value in headers_of(request)]
    options.append("-H " + (SH_ENV_AUTHORIZATION if token.from_env
                            else sh_quote("Authorization: " + token.literal)))
    if request.body and header_value(request, "Content-Type") is None:
        options.append("-H 'Content-Type:'")  # else curl sends a form type of its own
    options.append(f"--max-time {request.timeout_s}")
    stdin, text = "", text_of(request.body)
    if request.body:
        if text is not None and len(request.body) <= MAX_ARG_BYTES:
            options.append("--data-raw " + sh_quote(text))
        else:
            stdin = sh_printf_text(text) if text is not None else sh_printf_bytes(request.body)
            options.append("--data-binary @-")
    return {"stdin": stdin, "url": sh_quote(request.url), "options": options}


# Python (requests)

def python_reason(request):
    return None


def _py_token(token):
    return f'os.environ["{TOKEN_ENV}"]' if token.from_env else py_str(token.literal)


def python_context(request, token):
    headers = [(py_str(name), py_str(value)) for name, value in headers_of(request)]
    headers.append((py_str("Authorization"), _py_token(token)))
    return {"env": token.from_env, "method": py_str(request.method), "url": py_str(request.url),
            "headers": headers, "body": py_body(request.body) if request.body else "",
            "timeout_s": request.timeout_s}


# HTTPie

def httpie_reason(request):
    name = _non_ascii_header(request)
    if name:
        return _("HTTPie would send the value of the header %(name)s as UTF-8, not as the "
                 "single bytes (ISO-8859-1) the portal sends.") % {"name": name}
    for name, value in request.headers:
        if name.startswith("-"):
            return _("HTTPie would read the header %(name)s as an option.") % {"name": name}
        if httpie_cannot_escape(value):
            return _("HTTPie's request items cannot express the value of the header %(name)s: "
                     "a backslash right before :, ;, = or @.") % {"name": name}
    return _too_long_header(request)


def _httpie_item(name, value):
    return sh_quote(f"{name};" if value == "" else f"{name}:{httpie_escape(value)}")


def httpie_context(request, token):
    items = [_httpie_item(name, value) for name, value in headers_of(request)]
    if token.from_env:
        # The space keeps a token that starts with = or @ from reading as another item type;
        # HTTPie strips it.
        items.append(SH_ENV_AUTHORIZATION)
    elif httpie_cannot_escape(token.literal):
        raise Inexpressible(_("HTTPie's request items cannot express this token: it has a "
                              "backslash right before :, ;, = or @."))
    else:
        items.append(_httpie_item("Authorization", token.literal))
    if request.body and header_value(request, "Content-Type") is None:
        items.append("'Content-Type:'")  # else HTTPie sends application/json
    stdin, text = "", text_of(request.body)
    if request.body:
        if text is not None and len(("--raw=" + text).encode()) <= MAX_ARG_BYTES:
            items.append("--raw=" + sh_quote(text))
        else:
            stdin = sh_printf_text(text) if text is not None else sh_printf_bytes(request.body)
    # Without a body on stdin, --ignore-stdin: HTTPie would otherwise wait for one.
    command = (f"{stdin} | http" if stdin else "http --ignore-stdin")
    command += f" --timeout={request.timeout_s} {request.method} {sh_quote(request.url)}"
    return {"command": command, "items": items}


# fetch (JavaScript)

def fetch_reason(request):
    if request.method in ("GET", "HEAD") and request.body:
        return _("fetch cannot send a body with a GET or HEAD request.")
    if "'" in _query(request):
        return _("fetch would send the ' in the query string as %27 (the URL standard "
                 "encodes it there), so the URL would not be the same.")
    return None


def fetch_context(request, token):
    headers = [(js_str(name), js_str(value)) for name, value in headers_of(request)]
    headers.append((js_str("Authorization"),
                    f"process.env.{TOKEN_ENV}" if token.from_env else js_str(token.literal)))
    return {"url": js_str(request.url), "method": js_str(request.method), "headers": headers,
            "body": js_body(request.body) if request.body else "",
            "timeout_ms": request.timeout_s * 1000,
            "notes": [f"In a browser, paste the token in place of process.env.{TOKEN_ENV}."]
            if token.from_env else []}


# OpenAI SDK (Python)

# route: (method, create function, required body keys)
OPENAI_ROUTES = {
    "/v1/chat/completions": ("POST", "client.chat.completions.create", ("model", "messages")),
    "/v1/completions": ("POST", "client.completions.create", ("model", "prompt")),
    "/v1/embeddings": ("POST", "client.embeddings.create", ("model", "input")),
    "/v1/models": ("GET", "client.models.list", ()),
}


def _openai_route(request):
    for route, (method, _function, _required) in OPENAI_ROUTES.items():
        if request.method == method and request.url == request.base + route:
            return route
    return None


def _refuse_constant(name):
    raise ValueError(name)


def _json_object(body):
    """The body parsed as plain JSON, or None: NaN, Infinity or a number too large for a float
    would not come back the same from the SDK."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None

    def finite(value):
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, dict):
            return all(finite(item) for item in value.values())
        if isinstance(value, list):
            return all(finite(item) for item in value)
        return True

    return data if isinstance(data, dict) and finite(data) else None


def openai_reason(request):
    if request.service_kind != "llm":
        return _("The OpenAI SDK is offered for OpenAI-compatible LLM services only.")
    route = _openai_route(request)
    if route is None:
        return _("The OpenAI SDK calls only POST /v1/chat/completions, /v1/completions and "
                 "/v1/embeddings and GET /v1/models, right after the endpoint, without a "
                 "query string.")
    if _non_ascii_header(request):
        return _("The OpenAI SDK sends only ASCII header values.")
    content_type = header_value(request, "Content-Type")
    if route == "/v1/models":
        if request.body or content_type is not None:
            return _("The OpenAI SDK sends GET /v1/models without a body or Content-Type; "
                     "remove them to get this snippet.")
        return None
    if content_type is None:
        return _("The OpenAI SDK always sends a Content-Type, and this request has none.")
    data = _json_object(request.body)
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
    notes = ["The OpenAI SDK sends the token as \"Authorization: Bearer <token>\", which EAS "
             "accepts too."]
    data = _json_object(request.body) if request.body else {}
    arguments = [(key, py_value(data[key])) for key in route[2]]
    if "stream" in data:  # the SDK must know, to read the answer as a stream
        arguments.append(("stream", py_value(data["stream"])))
    extra_body = [(key, py_value(value)) for key, value in data.items()
                  if key not in route[2] and key != "stream"]
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
            "models": route[0] == "GET", "stream": data.get("stream") is True, "notes": notes}


# eas-prediction SDK

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
            "notes": ["The SDK also sends a Date header of its own."]}
