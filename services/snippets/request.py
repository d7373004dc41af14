"""The one normalized request every snippet target is made from, and what the targets share
about it: the token mode, the same request sent through the portal's gateway (key mode), named
placeholders for redacted headers, header lookups."""

import json
import re
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from services import calls
from services.errors import Refusal
from services.net import join
from services.net.errors import PathError

TOKEN_ENV = "EAS_TOKEN"
TOKEN_PLACEHOLDER = "<EAS_TOKEN>"
KEY_ENV = "EASPORTAL_KEY"
TOKEN_MODES = ("env", "placeholder", "real", "key")
DEFAULT_TIMEOUT_S = 60
# services/gateway.py: the header that chooses the endpoint, and the headers it does not pass
# on (its NOT_FORWARDED, less those calls.prepare() refuses in any request). The snippets part
# does not import the gateway; tests/snippets/test_key_mode.py holds the two together.
GATEWAY_ENDPOINT_HEADER = "X-Easportal-Endpoint"
GATEWAY_DROPS = frozenset({"cookie", "keep-alive", "proxy-authenticate", "proxy-authorization",
                           "te", "trailer", "upgrade", "x-easportal-endpoint"})


@dataclass
class SnippetRequest:
    method: str
    url: str  # as the portal sends it: join_url writes it the way requests does
    headers: list[tuple[str, str]]  # in order, without Authorization
    body: bytes
    endpoint: str  # "public" or "vpc"
    service_kind: str  # a Service.Kind value; "" once the service is deleted
    base: str  # the service endpoint the URL was joined to
    path: str  # the interface path as given
    timeout_s: int
    # Headers whose value history replaced by [redacted]: shown as named placeholders.
    redacted_headers: tuple[str, ...] = ()
    # History replaced the token inside the URL, a header or the body: the snippet keeps
    # [redacted] there and says so.
    token_in_url_or_body: bool = False
    # The answer is asked for as a stream: the snippet prints it as it arrives. Only how the
    # answer is read changes; the request sent is the same.
    stream: bool = False
    # The service's slug now and its default endpoint: where the portal's gateway takes the
    # request (key mode). "" once the service is deleted.
    service_slug: str = ""
    default_endpoint: str = ""
    # Set by via_gateway(): the portal's base URL (no trailing /), whose gateway the url and
    # base are then.
    portal: str = ""


@dataclass(frozen=True)
class Token:
    mode: str  # env, placeholder, real or key
    plaintext: str = ""

    @property
    def from_env(self):
        """The snippet reads it from the environment: the token (env) or a personal key (key)."""
        return self.mode in ("env", "key")

    @property
    def env_var(self):
        return KEY_ENV if self.mode == "key" else TOKEN_ENV

    @property
    def is_key(self):
        """A personal key, for the gateway: sent as "Bearer <key>", except by eas-prediction,
        which sends it raw (the gateway reads both)."""
        return self.mode == "key"

    @property
    def literal(self):
        return TOKEN_PLACEHOLDER if self.mode == "placeholder" else self.plaintext


def from_request(service, call_request):
    """The request a call of this service would send (calls.prepare()), without sending it;
    raises services.errors.Refusal as a call would."""
    kind, path, outbound = calls.prepare(service, call_request)
    return SnippetRequest(
        method=outbound.method, url=outbound.url,
        headers=list(outbound.headers.items()), body=bytes(outbound.body), endpoint=kind,
        service_kind=service.kind, base=service.endpoint_url(kind), path=path,
        timeout_s=service.timeout_s,
        stream=bool(call_request.stream) or asks_to_stream(outbound.body),
        service_slug=service.slug, default_endpoint=service.default_endpoint,
    )


def from_call(call):
    """The request a call in history sent, as far as history kept it: Authorization is
    dropped (the token mode puts it back), other redacted headers become placeholders."""
    headers = [(name, value) for name, value in call.request_headers.items()
               if name.lower() != "authorization"]
    body = bytes(call.request_body)
    service = call.service
    return SnippetRequest(
        method=call.method, url=call.url, headers=headers, body=body,
        endpoint=call.endpoint, service_kind=service.kind if service else "",
        base=_base_of(call, service), path=call.path,
        timeout_s=service.timeout_s if service else DEFAULT_TIMEOUT_S,
        **_redactions(call.url, headers, body),
        stream=call.streamed or asks_to_stream(body),
        # The slug of the service as it is now (a slug may be edited): the gateway's.
        service_slug=service.slug if service else "",
        default_endpoint=service.default_endpoint if service else "",
    )


def from_saved(service, call_request):
    """from_request() for a saved request, which keeps the history's redactions: a header
    whose value it holds as [redacted] becomes a named placeholder."""
    request = from_request(service, call_request)
    return replace(request, **_redactions(request.url, request.headers, request.body))


def _redactions(url, headers, body):
    """What history (or a saved request) redacted: the headers whose value is [redacted], and
    whether the token was replaced inside the URL, a header or the body."""
    return {
        "redacted_headers": tuple(name for name, value in headers if value == calls.REDACTED),
        "token_in_url_or_body": (calls.REDACTED in url or calls.REDACTED.encode() in body
                                 or any(calls.REDACTED in value and value != calls.REDACTED
                                        for _name, value in headers)),
    }


def via_gateway(request, portal):
    """The same request sent through the portal's gateway (docs/api.md, "Personal keys and the
    gateway"): <portal>/gw/<slug> and the path and query after the endpoint, as the request has
    them; the same method, headers and body, plus X-Easportal-Endpoint where the request's
    endpoint is not the service's default. portal: the portal's base URL. Raises Refusal (400)
    for a request the gateway cannot send as it is."""
    if request.portal:
        return request
    if not portal:
        raise ValueError("A snippet through the gateway needs the portal's base URL.")
    if not request.service_slug:
        raise Refusal(400, _("The service of this call no longer exists, so there is no gateway "
                             "to call with a personal key: choose token=env or "
                             "token=placeholder."))
    if not request.base or not request.url.startswith(request.base):
        raise Refusal(400, _("The path after the service's endpoint cannot be told apart in this "
                             "call's URL, so it cannot be sent through the gateway: choose "
                             "token=env or token=placeholder."))
    dropped = next((name for name, _value in request.headers
                    if name.lower() in GATEWAY_DROPS), None)
    if dropped:
        raise Refusal(400, _("The portal's gateway does not pass on the header %(name)s, so a "
                             "snippet with a personal key cannot send this request: choose "
                             "another token mode.") % {"name": dropped})
    headers = list(request.headers)
    if request.default_endpoint and request.endpoint != request.default_endpoint:
        headers.append((GATEWAY_ENDPOINT_HEADER, request.endpoint))
    portal = portal.rstrip("/")
    base = f"{portal}/gw/{request.service_slug}"
    return replace(request, url=base + request.url[len(request.base):], base=base,
                   headers=headers, portal=portal)


def asks_to_stream(body):
    """True when the body is a JSON object with "stream": true, as an OpenAI-compatible
    request asking for server-sent events."""
    try:
        data = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("stream") is True


def _base_of(call, service):
    # The URL was joined from base and path: take the path off again, which still holds after
    # the service's endpoint was changed or the service deleted.
    try:
        suffix = join.join_url("", call.path) if call.path else ""
    except PathError:
        suffix = None
    if suffix is not None and call.url.endswith(suffix):
        return call.url[: len(call.url) - len(suffix)]
    return service.endpoint_url(call.endpoint) if service else ""


def placeholder(header_name):
    return "<" + re.sub(r"[^A-Za-z0-9]", "_", header_name).upper() + ">"


def headers_of(request):
    """The request's headers, with a named placeholder for each value history redacted."""
    redacted = {name.lower() for name in request.redacted_headers}
    return [(name, placeholder(name) if name.lower() in redacted else value)
            for name, value in request.headers]


def header_value(request, name):
    return next((value for key, value in request.headers if key.lower() == name.lower()), None)


def query_of(request):
    return request.url.partition("?")[2]


def non_ascii_header(request):
    """The name of the first header whose value is not ASCII, or None."""
    return next((name for name, value in request.headers if not value.isascii()), None)
