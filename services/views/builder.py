"""The request builder: a form that starts from the service's defaults or from a call in
history (?call=<id>). Send goes through the JSON API (static/js/builder.js), like every call."""

import base64
import json

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from services import access, calls
from services.errors import Refusal
from services.models import Service
from services.net import join
from services.net.errors import PathError
from services.net.limits import GATEWAY_BODY_LIMIT
from services.views.runs import builder_runs
from services.views.snippet_panel import snippet_panel_for_builder

# Stands for a service's slug in a builder URL given to the page's scripts.
SLUG_HOLE = "__slug__"
LLM_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/embeddings")


def join_refusals():
    """{code: translated message template} for the codes static/js/join.js returns."""
    return {code: _(message) for code, message in join.REFUSALS.items()}


def builder_url(service, call=None):
    url = reverse("service_builder", args=[service.slug])
    return f"{url}?call={call.pk}" if call else url


def json_text(data):
    return json.dumps(data, indent=2, ensure_ascii=False)


def _presets(service):
    """The interface paths offered for the service's kind, each with a method and a body."""
    if service.kind == Service.Kind.LLM:
        model = service.name
        bodies = {
            "/v1/chat/completions": {"model": model, "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "hello!"}]},
            "/v1/completions": {"model": model, "prompt": "hello!"},
            "/v1/embeddings": {"model": model, "input": "hello!"},
        }
        presets = []
        for path in LLM_PATHS:
            body = bodies.get(path)
            if path == service.default_path and service.default_body:
                body = service.default_body
            elif body is not None:
                body = json_text(body)
            presets.append({"path": path, "label": path, "method": "POST" if body else "GET",
                            "body": body or ""})
        return presets
    if service.kind == Service.Kind.CUSTOM:
        return []
    return [{"path": service.default_path,
             "label": service.default_path or _("(the endpoint itself)"),
             "method": service.default_method, "body": service.default_body}]


def starting_request(service):
    """The request the builder starts from for the service, as a CallRequest: its defaults, or
    for an LLM without a default body the chat template. "Call it from code" shows it too."""
    draft = _draft_for_service(service, _presets(service))
    return calls.CallRequest(endpoint=draft["endpoint"], method=draft["method"],
                             path=draft["path"], body=draft["body"].encode())


def _draft_for_service(service, presets):
    path = service.default_path
    if not path and service.kind == Service.Kind.LLM:
        path = LLM_PATHS[0]
    preset = next((p for p in presets if p["path"] == path), None)
    return {
        "endpoint": service.default_endpoint,
        "method": service.default_method,
        "path": path,
        "headers": [{"name": name, "value": value}
                    for name, value in calls.DEFAULT_HEADERS.items()],
        "body": service.default_body or (preset["body"] if preset else ""),
        "binary": None,
        "notes": [],
    }


# What the form says of a request kept redacted, by where it comes from.
KEPT_TEXTS = {
    "call": {
        "binary": gettext_lazy("The call's body is binary (%(size)s bytes) and cannot be "
                               "edited here: the body below is empty, and Send sends it so; "
                               "Save as… keeps the binary body while the body stays empty."),
        "redacted": gettext_lazy("“%(redacted)s” in the path or body stands for the service's "
                                 "token, which history does not keep: put back what belongs "
                                 "there."),
        "header": gettext_lazy("re-enter: redacted in history"),
    },
    "saved": {
        "binary": gettext_lazy("The saved request's body is binary (%(size)s bytes) and cannot "
                               "be edited here: the body below is empty, and Send sends it so; "
                               "Save keeps the binary body while the body stays empty."),
        "redacted": gettext_lazy("“%(redacted)s” in the path or body stands for the service's "
                                 "token, which a saved request does not keep: put back what "
                                 "belongs there."),
        "header": gettext_lazy("re-enter: kept redacted"),
    },
}


def _draft_of_kept(service, kept, source):
    """The draft of a request kept by the history's redaction rules (a call, a saved request):
    a redacted header is an empty value marked so, a binary body is left out with a note (and
    kept in "binary", base64, for Save to keep it), "[redacted]" in the path or body is noted.
    source: "call" or "saved" (KEPT_TEXTS)."""
    texts = KEPT_TEXTS[source]
    notes = []
    headers = []
    for name, value in kept.headers.items():
        if name.lower() == "authorization":
            continue
        redacted = value == calls.REDACTED
        headers.append({"name": name, "value": "" if redacted else value, "redacted": redacted})
    data = bytes(kept.body)
    binary = None
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError:
        body, binary = "", base64.b64encode(data).decode("ascii")
        notes.append(texts["binary"] % {"size": len(data)})
    if calls.REDACTED in kept.path or calls.REDACTED in body:
        notes.append(texts["redacted"] % {"redacted": calls.REDACTED})
    endpoint = kept.endpoint if service.endpoint_url(kept.endpoint) else service.default_endpoint
    return {"endpoint": endpoint, "method": kept.method, "path": kept.path, "headers": headers,
            "body": body, "binary": binary, "notes": notes, "redacted_note": texts["header"]}


def _draft_from_call(service, call):
    return _draft_of_kept(service, calls.CallRequest(
        endpoint=call.endpoint, method=call.method, path=call.path,
        headers=call.request_headers, body=call.request_body), "call")


def _draft_from_saved(service, kept):
    return _draft_of_kept(service, kept, "saved")


def _numeric_id(value, missing):
    if not (value.isascii() and value.isdigit()):
        raise Refusal(404, missing % {"id": value[:40]})
    return value


def _draft(request, service, presets):
    """(call, saved request, draft): what the form starts from, the saved request given as
    ?saved=<id>, the call given as ?call=<id>, or the service's defaults. Either must be of
    this service: another's is a 404, as a missing one."""
    saved_id = request.GET.get("saved")
    if saved_id is not None:
        missing = _("There is no saved request %(id)s.")
        kept = access.saved_request(request.user, _numeric_id(saved_id, missing))
        if kept.service_id != service.pk:
            raise Refusal(404, missing % {"id": saved_id})
        return None, kept, _draft_from_saved(service, kept)
    call_id = request.GET.get("call")
    if call_id is None:
        return None, None, _draft_for_service(service, presets)
    missing = _("There is no call %(id)s.")
    call = access.call(request.user, _numeric_id(call_id, missing))
    if call.service_id != service.pk:
        raise Refusal(404, missing % {"id": call_id})
    return call, None, _draft_from_call(service, call)


@require_GET
def service_builder(request, slug):
    service = access.service(request.user, slug)
    presets = _presets(service)
    call, saved_request, draft = _draft(request, service, presets)
    choices = [(kind, label, service.endpoint_url(kind))
               for kind, label in Service.EndpointKind.choices if service.endpoint_url(kind)]
    try:
        url, refused = join.join_url(service.endpoint_url(draft["endpoint"]),
                                     draft["path"]), ""
    except PathError as exc:
        url, refused = "", calls.translated(exc)
    config = {
        "invokeUrl": reverse("api:service_invoke", kwargs={"slug": service.slug}),
        "callsUrl": reverse("call_list"),
        # A streamed call that was stopped is read back from here, once it is recorded.
        "callApiUrl": reverse("api:call_list") + "/",
        "bases": {kind: base for kind, _label, base in choices},
        "limit": GATEWAY_BODY_LIMIT,
        "refusals": join_refusals(),
        # A body still equal to one of these is the user's to replace when they pick a preset.
        "templates": [preset["body"] for preset in presets if preset["body"]],
        # Save keeps a redacted header that is left empty as this, and a binary body the form
        # cannot show (base64) while the body field stays empty.
        "redacted": calls.REDACTED,
        "keptBody": draft["binary"],
        "text": _builder_text(),
    }
    may_change = saved_request is not None and access.may_change_saved_request(
        request.user, saved_request)
    return render(request, "services/builder/builder.html", {
        "service": service, "call": call, "saved_request": saved_request,
        "may_change": may_change, "keep_config": _keep_config(service, saved_request, may_change),
        "draft": draft, "presets": presets,
        "endpoint_choices": choices, "methods": Service.Method.values,
        "url": url, "url_refused": refused, "config": config, "limit": GATEWAY_BODY_LIMIT,
        "snippet_panel": snippet_panel_for_builder(request.user, service),
        "runs": builder_runs(request.user, service),
    })


def _keep_config(service, saved_request, may_change):
    """For static/js/builder_save.js and builder_import.js: where to save and import."""
    opened = None
    if saved_request is not None:
        opened = {"id": saved_request.pk, "name": saved_request.name,
                  "description": saved_request.description, "mayChange": may_change}
    return {
        "createUrl": reverse("api:saved_list", kwargs={"slug": service.slug}),
        # + "<id>": a saved request's route.
        "requestsUrl": reverse("api:saved_get", kwargs={"id": 0}).removesuffix("0"),
        "importUrl": reverse("api:curl_import"),
        "slug": service.slug,
        "builderUrl": reverse("service_builder", args=[SLUG_HOLE]),
        "slugHole": SLUG_HOLE,
        "saved": opened,
        "text": {
            "saving": _("Saving…"),
            "saved": _("Saved “%(name)s”."),
            "savedAs": _("Saved as “%(name)s”: this page now edits it."),
            "unreachable": _("The portal could not be reached; nothing was saved."),
            "httpError": _("The portal answered %(status)s; nothing was saved."),
            "loggedOut": _("You are logged out: log in again in another tab (this form stays "
                           "as it is), then save."),
            "importing": _("Reading the command…"),
            "importUnreachable": _("The portal could not be reached; the form is unchanged."),
            "importHttpError": _("The portal answered %(status)s; the form is unchanged."),
            "otherService": _("This command calls the service “%(slug)s”, not this one: the "
                              "form has its request, with the path as that service has it."),
            "openOther": _("Open the builder of “%(slug)s”"),
            "noService": _("No registered service has this command's address: the form has "
                           "its method, path, headers and body."),
            "binaryBody": _("The command's body is binary (%(size)s bytes) and cannot be "
                            "edited here: the body below is empty, and Send sends it so; "
                            "Save as… keeps the binary body while the body stays empty."),
            "unknownMethod": _("The command's method %(method)s is not one the builder sends: "
                               "pick one."),
        },
    }


def _builder_text():
    # What the builder's scripts write into the page, translated; %(name)s is filled in there.
    return {
        "emptyBody": _("Empty body."),
        "validJson": _("Valid JSON."),
        "invalidJson": _("Not valid JSON: line %(line)s, column %(column)s: %(reason)s"),
        "invalidJsonAnywhere": _("Not valid JSON: %(reason)s"),
        "bytes": _("%(size)s of %(limit)s bytes"),
        "overLimit": _("Over the gateway's 1 MB limit (%(limit)s bytes): the gateway would "
                       "refuse it, so the portal will not send it."),
        "sending": _("Sending…"),
        "unreachable": _("The portal could not be reached; nothing was sent. Check your "
                         "connection and try again."),
        "httpError": _("The portal answered %(status)s; nothing was sent."),
        "loggedOut": _("You are logged out: log in again, then send."),
        "headerWithoutName": _("A header has a value but no name."),
        "redactedHeader": _("Re-enter the value of %(name)s (it was kept redacted), or remove "
                            "that header."),
        "pathRefused": _("Fix the path first: %(reason)s"),
        "failed": _("failed"),
        "elapsed": _("%(ms)s ms"),
        "size": _("%(size)s bytes"),
        "truncated": _("Cut at the limit: %(size)s bytes kept of %(declared)s declared."),
        "truncatedUndeclared": _("Cut at the limit of %(size)s bytes."),
        "binary": _("Binary body, %(size)s bytes; the first bytes in hex:"),
        "noBody": _("(no body)"),
        "streaming": _("Streaming…"),
        "waiting": _("Waiting for the answer…"),
        "streamBroken": _("The stream broke off before the call was recorded in full; the "
                          "recorded call shows what arrived."),
        "tokensPerS": _("%(rate)s tokens/s"),
        "tokensSource": {"usage": _("(from the answer's usage)"),
                         "chunks": _("(counted from the chunks: at least this many)")},
    }
