"""The curl import (docs/api.md, "Curl import"): a curl command, as pasted, read back into the
request it sends and the user's service it calls, for the builder to fill in. The reading is
services/curl/ (no Django); here the user's services are its candidates and its messages are
translated. Nothing is sent, nothing is recorded."""

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from services import access, curl
from services.api import schemas
from services.api.core import ERRORS
from services.errors import Refusal

router = Router(tags=["import"])


class CurlImportIn(schemas.Input):
    command: schemas.Text = Field(description="A curl command as pasted: continuations, quotes "
                                              "and a printf piped into curl as the shell reads "
                                              "them.")


class CurlImportOut(Schema):
    service: str | None = Field(description="The slug of your service whose public or VPC "
                                            "endpoint the URL starts with; null when none.")
    endpoint: schemas.EndpointKind | None = Field(description="Which of its endpoints; null "
                                                              "without a service.")
    method: str
    url: str = Field(description="The URL curl would request.")
    path: str = Field(description="What follows the endpoint, query included; without a "
                                  "service, the URL's path and query.")
    headers: dict[str, str] = Field(description="In the order curl sends them; without "
                                                "Authorization and curl's own User-Agent, "
                                                "Accept, Host and Content-Length.")
    body: str | None = Field(None, description="Present when the body is UTF-8 text.")
    body_base64: str | None = Field(None, description="Present instead of body otherwise.")
    notes: list[str] = Field(description="What was left out or changed, and why.")


def curl_import_out(imported, notes):
    return {"service": imported.service, "endpoint": imported.endpoint,
            "method": imported.method, "url": imported.url, "path": imported.path,
            "headers": dict(imported.headers), **schemas.body_out(imported.body), "notes": notes}


def _candidates(user):
    """The endpoints of the services the user may call, read only once the command parsed."""
    rows = access.services(user).order_by("slug").values_list(
        "slug", "public_endpoint", "vpc_endpoint", "default_endpoint")
    for slug, public, vpc, default in rows:
        for kind, endpoint in (("public", public), ("vpc", vpc)):
            if endpoint:
                yield curl.Candidate(slug, kind, endpoint, default=kind == default)


def _translated(message):
    return _(message.template) % message.params


@router.post("/import/curl", response={200: CurlImportOut, **ERRORS}, exclude_unset=True)
def curl_import(request, payload: CurlImportIn):
    """The request a curl command sends (method, URL, headers in curl's order, body) and your
    service whose public or VPC endpoint the URL starts with, with the path after it; notes
    say what was left out and why. 400 for what the import cannot read."""
    try:
        imported = curl.import_command(payload.command, _candidates(request.user))
    except curl.CurlImportError as exc:
        raise Refusal(400, _(exc.message) % exc.params) from None
    return curl_import_out(imported, [_translated(note) for note in imported.notes])
