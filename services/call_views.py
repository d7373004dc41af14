"""The request builder and the call history pages. The builder's Send goes through the JSON
API (services/api.py); "Send again" goes through services.calls.call, like every call."""

import json
from http import HTTPStatus

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from services import calls, endpoints, snippets
from services.client import GATEWAY_BODY_LIMIT
from services.history import CallFilter, error_text
from services.models import Call, Service
from services.views import _get_service_for_user

# Server-rendered on a call's page; "real" comes through the API, for maintainers only.
PAGE_TOKEN_MODES = ("env", "placeholder")
# Above this many body bytes, a call's page renders only the first snippet, and the panel
# fetches the others when picked: twelve copies of a large body would make a heavy page.
SNIPPET_INLINE_BODY_BYTES = 16 * 1024
HIGHLIGHT_LANGUAGES = {".sh": "shell", ".py": "python", ".mjs": "javascript", ".js": "javascript"}
LLM_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/embeddings")
HEX_PREVIEW_BYTES = 64
# One path per way join_url refuses one: the page shows the server's own (translated) message.
JOIN_REFUSAL_SAMPLES = {
    "control": "\t", "backslash": "\\", "fragment": "#", "scheme": "x:",
    "double_slash": "//", "user": "@", "dot_segment": "..",
}


def join_refusals():
    """{code: translated message template} for the codes static/js/join.js returns."""
    refusals = {}
    for code, sample in JOIN_REFUSAL_SAMPLES.items():
        try:
            endpoints.join_url("http://h", sample)
        except endpoints.PathError as exc:
            refusals[code] = _(exc.message)
    return refusals


def _get_call_for_user(request, id):
    return get_object_or_404(Call.objects.for_user(request.user), pk=id)


def _service_of(request, call):
    """The call's service if it still exists and the user may still see it, else None."""
    if call.service_id is None:
        return None
    return Service.objects.for_user(request.user).filter(pk=call.service_id).first()


def _builder_url(service, call=None):
    url = reverse("service_builder", args=[service.slug])
    return f"{url}?call={call.pk}" if call else url


def _json_text(data):
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
                body = _json_text(body)
            presets.append({"path": path, "label": path, "method": "POST" if body else "GET",
                            "body": body or ""})
        return presets
    if service.kind == Service.Kind.CUSTOM:
        return []
    return [{"path": service.default_path,
             "label": service.default_path or _("(the endpoint itself)"),
             "method": service.default_method, "body": service.default_body}]


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
        "notes": [],
    }


def _draft_from_call(service, call):
    notes = []
    headers = []
    for name, value in call.request_headers.items():
        if name.lower() == "authorization":
            continue
        redacted = value == calls.REDACTED
        headers.append({"name": name, "value": "" if redacted else value, "redacted": redacted})
    data = bytes(call.request_body)
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError:
        body = ""
        notes.append(_("The call's body is binary (%(size)s bytes) and cannot be edited here; "
                       "the body below is empty.") % {"size": len(data)})
    if calls.REDACTED in call.path or calls.REDACTED in body:
        notes.append(_("“%(redacted)s” in the path or body stands for the service's token, "
                       "which history does not keep: put back what belongs there.")
                     % {"redacted": calls.REDACTED})
    endpoint = call.endpoint if service.endpoint_url(call.endpoint) else service.default_endpoint
    return {"endpoint": endpoint, "method": call.method, "path": call.path, "headers": headers,
            "body": body, "notes": notes}


def _draft(request, service, presets):
    """(call, draft): what the form starts from, the call given as ?call=<id> or the defaults."""
    call_id = request.GET.get("call")
    if call_id is None:
        return None, _draft_for_service(service, presets)
    if not (call_id.isascii() and call_id.isdigit()):
        raise Http404(_("No such call."))
    call = _get_call_for_user(request, call_id)
    if call.service_id != service.pk:
        raise Http404(_("No such call."))
    return call, _draft_from_call(service, call)


@require_GET
def service_builder(request, slug):
    service = _get_service_for_user(request, slug)
    presets = _presets(service)
    call, draft = _draft(request, service, presets)
    choices = [(kind, label, service.endpoint_url(kind))
               for kind, label in Service.EndpointKind.choices if service.endpoint_url(kind)]
    try:
        url, refused = endpoints.join_url(service.endpoint_url(draft["endpoint"]),
                                          draft["path"]), ""
    except endpoints.PathError as exc:
        url, refused = "", _(exc.message) % exc.params
    config = {
        "invokeUrl": reverse("api:service_invoke", kwargs={"slug": service.slug}),
        "callsUrl": reverse("call_list"),
        "bases": {kind: base for kind, _label, base in choices},
        "limit": GATEWAY_BODY_LIMIT,
        "refusals": join_refusals(),
        # A body still equal to one of these is the user's to replace when they pick a preset.
        "templates": [preset["body"] for preset in presets if preset["body"]],
        "text": _builder_text(),
    }
    return render(request, "services/builder.html", {
        "service": service, "call": call, "draft": draft, "presets": presets,
        "endpoint_choices": choices, "methods": Service.Method.values,
        "url": url, "url_refused": refused, "config": config, "limit": GATEWAY_BODY_LIMIT,
        "snippet_panel": snippet_panel_for_builder(request.user, service),
    })


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
        "redactedHeader": _("Re-enter the value of %(name)s (history redacted it), or remove "
                            "that header."),
        "pathRefused": _("Fix the path first: %(reason)s"),
        "failed": _("failed"),
        "elapsed": _("%(ms)s ms"),
        "size": _("%(size)s bytes"),
        "truncated": _("Cut at the limit: %(size)s bytes kept of %(declared)s declared."),
        "truncatedUndeclared": _("Cut at the limit of %(size)s bytes."),
        "binary": _("Binary body, %(size)s bytes; the first bytes in hex:"),
        "noBody": _("(no body)"),
    }


def call_list(request):
    filters = CallFilter(request.GET, user=request.user)
    rows, next_cursor, older_url = [], None, None
    if filters.is_valid():
        rows, next_cursor = filters.page()
    if next_cursor:
        # Preserve the filters: the older page is the same list, further back.
        params = request.GET.copy()
        params["cursor"] = next_cursor
        older_url = f"?{params.urlencode()}"
    newest_url = None
    if request.GET.get("cursor"):
        params = request.GET.copy()
        del params["cursor"]
        newest_url = f"?{params.urlencode()}"
    return render(request, "services/call_list.html", {
        "filters": filters, "calls": rows, "older_url": older_url, "newest_url": newest_url,
        "filter_error": "" if filters.is_valid() else error_text(filters),
        "service_slugs": Service.objects.for_user(request.user).values_list("slug", flat=True),
    }, status=200 if filters.is_valid() else 400)


def _body_view(data):
    """How a stored body reads: pretty JSON, text, or a hex preview of binary bytes."""
    data = bytes(data)
    view = {"size": len(data), "text": None, "hex": None, "json": False}
    if not data:
        return view
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        head = data[:HEX_PREVIEW_BYTES]
        view["hex"] = "\n".join(head[i:i + 16].hex(" ") for i in range(0, len(head), 16))
        return view
    try:
        view["text"], view["json"] = _json_text(json.loads(text)), True
    except (ValueError, RecursionError):
        view["text"] = text
    return view


def _reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def call_detail(request, id):
    call = _get_call_for_user(request, id)
    service = _service_of(request, call)
    return render(request, "services/call_detail.html", {
        "call": call, "service": service, "reason": _reason(call.status),
        "request_body": _body_view(call.request_body),
        "response_body": _body_view(call.response_body),
        "builder_url": _builder_url(service, call) if service else None,
        "snippet_panel": snippet_panel_for_call(request.user, call, service),
    })


@require_POST
def call_send_again(request, id):
    call = _get_call_for_user(request, id)
    service = _service_of(request, call)
    if service is None:
        messages.error(request, _("The service “%(slug)s” no longer exists, so this call "
                                  "cannot be sent again.") % {"slug": call.service_slug})
        return redirect("call_detail", id=call.pk)
    headers = {name: value for name, value in call.request_headers.items()
               if name.lower() != "authorization"}
    redacted = [name for name, value in headers.items() if value == calls.REDACTED]
    if redacted:
        messages.error(request, _("History redacted the header %(names)s, so this call cannot "
                                  "be sent again as it was: re-enter the value here, then send.")
                       % {"names": ", ".join(redacted)})
        return redirect(_builder_url(service, call))
    body = bytes(call.request_body)
    if calls.REDACTED in call.path or calls.REDACTED.encode() in body:
        messages.error(request, _("History redacted the token in this call's path or body, so "
                                  "it cannot be sent again as it was: fix it here, then send."))
        return redirect(_builder_url(service, call))
    request_again = calls.CallRequest(endpoint=call.endpoint, method=call.method,
                                      path=call.path, headers=headers, body=body)
    try:
        new_call = calls.call(request.user, service, request_again)
    except calls.CallRefused as exc:
        messages.error(request, exc.message)
        return redirect("call_detail", id=call.pk)
    if new_call.error:
        messages.warning(request, _("Sent again, but the call failed: %(error)s")
                         % {"error": new_call.error})
    else:
        messages.success(request, _("Sent again: %(status)s %(reason)s.") % {
            "status": new_call.status, "reason": _reason(new_call.status)})
    return redirect("call_detail", id=new_call.pk)


# The snippet panel (templates/services/includes/snippet_panel.html): on a call's page it
# starts from snippets rendered here; on the builder, static/js/snippets.js asks the API for
# the snippet of the form as it stands.

def _snippet_tab(target, reason=None):
    filename = snippets.FILENAMES[target]
    extension = filename[filename.rfind("."):]
    return {"target": target, "label": snippets.TARGET_LABELS[target], "filename": filename,
            "language": HIGHLIGHT_LANGUAGES.get(extension, "shell"), "reason": reason,
            "texts": []}


def _real_token_choice(user, team, service):
    """None when the user may not export the real token; else {"refused": why not, or ""}."""
    if not team.is_maintainer(user):
        return None
    if service is None:
        return {"refused": _("The service no longer exists, so there is no token to export.")}
    return {"refused": ""}


def _snippet_text():
    # What static/js/snippets.js writes into the panel, translated.
    return {
        "loading": _("Loading…"),
        "copied": _("Copied."),
        "copyFailed": _("Copying failed: select the snippet and copy it yourself."),
        "unreachable": _("The portal could not be reached."),
        "httpError": _("The portal answered %(status)s."),
        "loggedOut": _("You are logged out: log in again."),
        "realStale": _("The request changed since this export with the real token."),
    }


def snippet_panel_for_call(user, call, service):
    """Every target's env and placeholder snippets, or why a target cannot express the call."""
    panel = {"source": "call", "notes": [], "error": "",
             "real": _real_token_choice(user, call.team, service),
             "config": {"url": reverse("api:call_snippet", kwargs={"id": call.pk}),
                        "text": _snippet_text()}}
    try:
        request = snippets.from_call(call)
    except snippets.SnippetError as exc:
        panel.update(error=exc.message, selected=snippets.TARGETS[0],
                     tabs=[_snippet_tab(target) for target in snippets.TARGETS])
        return panel
    tabs = [_snippet_tab(target, snippets.unavailable_reason(request, target))
            for target in snippets.TARGETS]
    large = len(request.body) > SNIPPET_INLINE_BODY_BYTES
    rendered = 0
    for tab in tabs:
        if tab["reason"] or (large and rendered):
            continue
        try:
            tab["texts"] = [(mode, snippets.render(request, tab["target"], mode))
                            for mode in PAGE_TOKEN_MODES]
        except snippets.SnippetError as exc:
            tab["reason"] = exc.message
            continue
        rendered += 1
    available = [tab for tab in tabs if not tab["reason"]]
    selected = (available or tabs)[0]
    panel.update(tabs=tabs, selected=selected["target"], reason=selected["reason"] or "")
    if selected["texts"]:
        # The first one is shown as the page loads; the others wait in <template>s.
        panel["initial"] = selected["texts"][0][1]
        selected["texts"] = selected["texts"][1:]
    if request.redacted_headers:
        panel["notes"].append(
            _("History redacted the header %(names)s: the snippets carry a named placeholder "
              "instead of its value; put the value in before running them.")
            % {"names": ", ".join(request.redacted_headers)})
    if request.token_in_url_or_body:
        panel["notes"].append(
            _("History redacted the token inside the URL or body: the snippets keep "
              "“%(redacted)s” there, whatever the token mode; put the token back before "
              "running them.") % {"redacted": calls.REDACTED})
    return panel


def snippet_panel_for_builder(user, service):
    config = {"url": reverse("api:request_snippet"), "service": service.slug,
              "text": _snippet_text()}
    return {"source": "builder", "tabs": [_snippet_tab(target) for target in snippets.TARGETS],
            "selected": snippets.TARGETS[0], "notes": [], "error": "",
            "real": _real_token_choice(user, service.team, service), "config": config}
