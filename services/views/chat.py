"""The chat playground of an LLM service: a conversation, one POST to /v1/chat/completions per
turn with the whole conversation so far, streamed by default. Every turn goes through the JSON
API's invoke (static/js/chat.js, static/js/stream.js), so each is one Call in history."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from services import access
from services.errors import Refusal
from services.models import Service

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"


@require_GET
def service_chat(request, slug):
    service = access.service(request.user, slug)
    if service.kind != Service.Kind.LLM:
        raise Refusal(404, _("The chat playground is for LLM services; “%(name)s” is of the "
                             "kind “%(kind)s”.")
                      % {"name": service.name, "kind": service.get_kind_display()})
    calls_url = reverse("call_list")
    config = {
        "invokeUrl": reverse("api:service_invoke", kwargs={"slug": service.slug}),
        "chatPath": CHAT_PATH,
        "modelsPath": MODELS_PATH,
        "defaultModel": service.name,
        "builderUrl": reverse("service_builder", args=[service.slug]),
        "callsUrl": calls_url,
        "apiCallsUrl": reverse("api:call_list") + "/",
        # Where a turn stopped before the portal named its call may be found.
        "historyUrl": f"{calls_url}?"
                      + urlencode({"service": service.slug, "user": request.user.get_username()}),
        "text": _chat_text(),
    }
    return render(request, "services/chat/chat.html", {"service": service, "config": config})


def _chat_text():
    # What static/js/chat.js writes into the page, translated; %(name)s is filled in there.
    return {
        "listingModels": _("Asking the service for its models (GET /v1/models)…"),
        "modelsListed": _("Models listed by GET /v1/models."),
        "modelsFailed": _("GET /v1/models did not list the models (%(reason)s): type the "
                          "model's name."),
        "noModels": _("the answer names no model"),
        "portalUnreachable": _("the portal could not be reached"),
        "status": _("status %(status)s"),
        "emptyMessage": _("Write a message first."),
        "noModel": _("Name the model first."),
        "badParameter": _("%(name)s: %(reason)s"),
        "answering": _("Answering…"),
        "waiting": _("Waiting for the whole answer…"),
        "stopped": _("Stopped: the partial answer is kept as the turn."),
        "unreachable": _("The portal could not be reached; nothing was sent. Check your "
                         "connection and try again."),
        "loggedOut": _("You are logged out: log in again, then send."),
        "httpError": _("The portal answered %(status)s; nothing was sent."),
        "broken": _("The answer broke off before the call was recorded; see the history."),
        "upstreamStatus": _("The service answered %(status)s."),
        "notChat": _("The answer is not a chat completion; it is shown as it came."),
        "ttft": _("TTFT %(ms)s ms"),
        "rate": _("%(rate)s tokens/s"),
        "tpot": _("TPOT %(ms)s ms"),
        "promptTokens": _("%(count)s prompt tokens"),
        "completionTokens": _("%(count)s completion tokens"),
        "completionTokensFrom": _("%(count)s completion tokens (%(source)s)"),
        "sourceUsage": _("from usage"),
        "sourceChunks": _("counted from chunks, a lower bound"),
        "finish": _("finish: %(reason)s"),
        "elapsed": _("%(ms)s ms in all"),
        "stoppedFigure": _("stopped"),
    }
