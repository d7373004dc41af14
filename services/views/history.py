"""The call history pages: the list with its filters, a call, and "Send again", which goes
through services.calls.call like every call."""

import json
from http import HTTPStatus
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from services import access, calls, metrics
from services.errors import Refusal
from services.history import CallFilter, error_text
from services.views.builder import builder_url, json_text
from services.views.snippet_panel import snippet_panel_for_call

HEX_PREVIEW_BYTES = 64
# The list's filters an export keeps (not its page: cursor, limit).
EXPORT_FILTERS = ("service", "status", "user", "since", "until", "path", "streamed", "source",
                  "run")
EXPORT_FORMATS = (("csv", gettext_lazy("CSV")), ("jsonl", gettext_lazy("JSON Lines")))


def export_links(query):
    """[(format, label, URL)]: the whole history the list's filters keep, as a download."""
    kept = [(name, query[name]) for name in EXPORT_FILTERS if query.get(name)]
    url = reverse("api:call_export")
    return [(name, label, f"{url}?{urlencode([*kept, ('format', name)])}")
            for name, label in EXPORT_FORMATS]


def call_list(request):
    filters = CallFilter(request.GET, user=request.user)
    rows, next_cursor, older_url = [], None, None
    if filters.is_valid():
        rows, next_cursor = filters.page()
    for row in rows:  # from the columns the page read already: no query per row
        row.tokens_per_s = metrics.Figures(tpot_ms=row.tpot_ms).tokens_per_s
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
    return render(request, "services/history/call_list.html", {
        "filters": filters, "calls": rows, "older_url": older_url, "newest_url": newest_url,
        # A path is searched a window at a time: a short page may still have older calls.
        "path_window": filters.window_ended,
        "run_id": filters.cleaned_data["run"] if filters.is_valid() else None,
        "filter_error": "" if filters.is_valid() else error_text(filters),
        "export_links": export_links(request.GET) if filters.is_valid() else [],
        "service_slugs": access.services(request.user).values_list("slug", flat=True),
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
        pretty = json_text(json.loads(text))
        # A lone surrogate escaped in the JSON ("\ud800") parses, but no page can carry it
        # (UnicodeEncodeError, a ValueError): the body is then shown as it was sent.
        pretty.encode()
        view["text"], view["json"] = pretty, True
    except (ValueError, RecursionError):
        view["text"] = text
    return view


def _reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _figures(call):
    return metrics.Figures(
        ttft_ms=call.ttft_ms, tpot_ms=call.tpot_ms, prompt_tokens=call.prompt_tokens,
        completion_tokens=call.completion_tokens, tokens_source=call.tokens_source,
        finish_reason=call.finish_reason)


def _assembled(call):
    """(reasoning, content) of an answer of OpenAI events, streamed by the portal or not;
    None for any other answer."""
    content_type = next((value for name, value in call.response_header_pairs
                         if name.lower() == "content-type"), "")
    if not (call.streamed or "event-stream" in content_type.lower()):
        return None
    return metrics.assembled_text(bytes(call.response_body))


def call_detail(request, id):
    call = access.call(request.user, id)
    service = access.service_of(request.user, call)
    return render(request, "services/history/call_detail.html", {
        "call": call, "service": service, "reason": _reason(call.status),
        "save_config": _save_config(call, service),
        "request_body": _body_view(call.request_body),
        "response_body": _body_view(call.response_body),
        "figures": _figures(call), "assembled": _assembled(call),
        "builder_url": builder_url(service, call) if service else None,
        "snippet_panel": snippet_panel_for_call(request.user, call, service),
    })


def _save_config(call, service):
    """For static/js/call_save.js: "Save this request", while the call's service is there."""
    if service is None:
        return None
    return {
        "createUrl": reverse("api:saved_list", kwargs={"slug": service.slug}),
        "call": call.pk,
        "builderUrl": reverse("service_builder", args=[service.slug]),
        "text": {
            "saved": _("Saved as “%(name)s”."),
            "open": _("Open it in the builder"),
            "unreachable": _("The portal could not be reached; nothing was saved."),
            "httpError": _("The portal answered %(status)s; nothing was saved."),
            "loggedOut": _("You are logged out: log in again, then save."),
        },
    }


@require_POST
def call_send_again(request, id):
    call = access.call(request.user, id)
    service = access.service_of(request.user, call)
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
        return redirect(builder_url(service, call))
    body = bytes(call.request_body)
    if calls.REDACTED in call.path or calls.REDACTED.encode() in body:
        messages.error(request, _("History redacted the token in this call's path or body, so "
                                  "it cannot be sent again as it was: fix it here, then send."))
        return redirect(builder_url(service, call))
    request_again = calls.CallRequest(endpoint=call.endpoint, method=call.method,
                                      path=call.path, headers=headers, body=body)
    try:
        new_call = calls.call(request.user, service, request_again)
    except Refusal as exc:
        messages.error(request, exc.message)
        return redirect("call_detail", id=call.pk)
    if new_call.error:
        messages.warning(request, _("Sent again, but the call failed: %(error)s")
                         % {"error": new_call.error})
    else:
        messages.success(request, _("Sent again: %(status)s %(reason)s.") % {
            "status": new_call.status, "reason": _reason(new_call.status)})
    return redirect("call_detail", id=new_call.pk)
