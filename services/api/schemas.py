"""The JSON shapes of the API (services/api/), as docs/api.md gives them, and the functions
that fill them.

Inputs refuse unknown fields, so that a typo ("bdy") is a 400 rather than a silent default.
"""

import base64
from datetime import UTC, datetime
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict

from services import probes, snippets
from services.models import Role, Service


def _unicode(value):
    # A lone surrogate parses from JSON ("\ud800") but cannot be encoded, sent or stored.
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _plain_text(value):
    # PostgreSQL cannot store NUL in a text column.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return _unicode(value)


Text = Annotated[str, AfterValidator(_plain_text)]
UnicodeText = Annotated[str, AfterValidator(_unicode)]

RoleName = Literal[tuple(Role.values)]
Kind = Literal[tuple(Service.Kind.values)]
Gateway = Literal[tuple(Service.Gateway.values)]
EndpointKind = Literal[tuple(Service.EndpointKind.values)]
Method = Literal[tuple(Service.Method.values)]


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    detail: str


class TeamIn(Input):
    slug: Text
    name: Text


class TeamOut(Schema):
    slug: str
    name: str
    role: RoleName


class MemberIn(Input):
    username: Text
    role: RoleName


class MemberOut(Schema):
    username: str
    role: RoleName


class ProbeIn(Input):
    """The fields given change; a probe just changed is due at once."""

    enabled: bool = None
    method: Method = None
    path: Text = None
    body: Text = None
    interval_s: int = Field(None, description="At least 30.")
    expect_status: int = None


class ProbeOut(Schema):
    enabled: bool
    method: str
    path: str
    body: str
    interval_s: int
    expect_status: int


class ServiceIn(Input):
    slug: Text
    name: Text
    team: Text = Field(description="The team's slug.")
    kind: Kind
    gateway: Gateway
    public_endpoint: Text = ""
    vpc_endpoint: Text = ""
    default_endpoint: EndpointKind = "public"
    description: Text = ""
    default_path: Text = ""
    default_method: Method = "POST"
    default_body: Text = ""
    timeout_s: int = 60
    # Not in the repr: an error report shows the repr of the locals that hold the payload.
    token: Text = Field(description="Stored encrypted; never returned.", repr=False)
    probe: ProbeIn | None = None


class ServicePatch(Input):
    """Only the fields given change; an omitted, null or empty token keeps the stored one."""

    # None is only the "not given" marker: an explicit null fails validation (except token).
    slug: Text = None
    name: Text = None
    team: Text = Field(None, description="The slug of another team you maintain.")
    kind: Kind = None
    gateway: Gateway = None
    public_endpoint: Text = None
    vpc_endpoint: Text = None
    default_endpoint: EndpointKind = None
    description: Text = None
    default_path: Text = None
    default_method: Method = None
    default_body: Text = None
    timeout_s: int = None
    token: Text | None = Field(None, repr=False)
    probe: ProbeIn = None


class ServiceOut(Schema):
    slug: str
    name: str
    team: str
    kind: Kind
    gateway: Gateway
    public_endpoint: str
    vpc_endpoint: str
    default_endpoint: EndpointKind
    description: str
    default_path: str
    default_method: str
    default_body: str
    timeout_s: int
    region: str
    token_hint: str
    created_at: datetime
    updated_at: datetime
    warnings: list[str]
    probe: ProbeOut


class InvokeIn(Input):
    """Omitted fields take the service's defaults; omitted headers mean a JSON Content-Type."""

    endpoint: EndpointKind | None = None
    method: Text | None = None
    path: Text | None = Field(None, max_length=2000)
    headers: dict[str, UnicodeText] | None = None
    body: UnicodeText | None = Field(None, description="Text, sent as UTF-8.")
    body_base64: str | None = Field(None, description="Bytes, instead of body.")
    stream: bool = Field(False, description="Answer text/event-stream: the upstream's answer "
                                            "relayed as it arrives (docs/api.md, Streaming).")


SNIPPET_TOKEN_MODES = ("One of: " + ", ".join(snippets.TOKEN_MODES)
                       + "; real is for the team's maintainers, and recorded; key calls the "
                       "portal's gateway with the personal key in $EASPORTAL_KEY.")


class SnippetIn(InvokeIn):
    """A request not sent, as an invoke body, and the snippet wanted for it."""

    service: Text = Field(description="The service's slug.")
    lang: Text = Field("curl", description="One of: " + ", ".join(snippets.NAMES))
    token: Text = Field("env", description=SNIPPET_TOKEN_MODES)


class SnippetQuery(Schema):
    lang: str = Field("curl", description="One of: " + ", ".join(snippets.NAMES))
    token: str = Field("env", description=SNIPPET_TOKEN_MODES)


def describe(error):
    """One sentence for one of pydantic's errors, naming the field."""
    location = [str(part) for part in error["loc"][1:]]
    if error["loc"][0] == "body":
        location = location[1:]  # the view's parameter name means nothing to the client
    field = ".".join(location)
    if not field:
        return _("Send one JSON object as the request body.")
    if error["type"] == "missing":
        return _("“%(field)s” is required.") % {"field": field}
    if error["type"] == "extra_forbidden":
        return _("“%(field)s” is not a field here.") % {"field": field}
    message = error["msg"].removeprefix("Value error, ").rstrip(".")
    return _("“%(field)s”: %(message)s.") % {"field": field, "message": message}


def team_out(team, role):
    return {"slug": team.slug, "name": team.name, "role": str(role)}


def service_out(service):
    return {
        "slug": service.slug, "name": service.name, "team": service.team.slug,
        "kind": service.kind, "gateway": service.gateway,
        "public_endpoint": service.public_endpoint, "vpc_endpoint": service.vpc_endpoint,
        "default_endpoint": service.default_endpoint, "description": service.description,
        "default_path": service.default_path, "default_method": service.default_method,
        "default_body": service.default_body, "timeout_s": service.timeout_s,
        "region": service.region, "token_hint": service.token_hint,
        "created_at": service.created_at.astimezone(UTC),
        "updated_at": service.updated_at.astimezone(UTC),
        "warnings": service.endpoint_warnings(),
        "probe": probe_out(probes.probe_of(service)),
    }


def probe_out(probe):
    return {name: getattr(probe, name) for name in probes.FIELDS}


def _text(data):
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


class SavedIn(Input):
    """A request to keep, as an invoke body (omitted fields: the service's defaults) with a name;
    or "call": the id of a call of this service in history, whose request is kept."""

    name: Text = Field(max_length=100)
    description: Text = ""
    call: int | None = Field(None, description="Keep the request of this call instead.")
    endpoint: EndpointKind | None = None
    method: Text | None = None
    path: Text | None = Field(None, max_length=2000)
    headers: dict[str, UnicodeText] | None = None
    body: UnicodeText | None = None
    body_base64: str | None = None


class SavedPatch(Input):
    """Only the fields given change; headers, when given, replace all of them."""

    name: Text = Field(None, max_length=100)
    description: Text = None
    endpoint: EndpointKind = None
    method: Text = None
    path: Text = Field(None, max_length=2000)
    headers: dict[str, UnicodeText] = None
    body: UnicodeText = None
    body_base64: str = None


class SavedOut(Schema):
    id: int
    service: str
    name: str
    description: str
    endpoint: EndpointKind
    method: str
    path: str
    headers: dict[str, str] = Field(description="A secret-looking header's value is "
                                                "\"[redacted]\": fill it in before sending.")
    body: str | None = Field(None, description="Present when the body is UTF-8 text.")
    body_base64: str | None = Field(None, description="Present instead of body otherwise.")
    created_by: str
    updated_at: datetime


def body_out(data):
    """{"body": text} for UTF-8 bytes, else {"body_base64": ...}: one of the two, never both."""
    text = _text(bytes(data))
    return {"body": text} if text is not None else {
        "body_base64": base64.b64encode(bytes(data)).decode()}


def saved_out(saved, service_slug):
    return {"id": saved.pk, "service": service_slug, "name": saved.name,
            "description": saved.description, "endpoint": saved.endpoint,
            "method": saved.method, "path": saved.path, "headers": saved.headers,
            **body_out(saved.body), "created_by": saved.created_by_name,
            "updated_at": saved.updated_at.astimezone(UTC)}
