"""The snippet panel (templates/services/snippet_panel/snippet_panel.html): on a call's page it
starts from snippets rendered here; on the builder, static/js/snippets.js asks the API for the
snippet of the form as it stands."""

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from services import access, calls, snippets
from services.errors import Refusal
from services.models import ApiKey

# Server-rendered on a call's page; "real" comes through the API, for maintainers only, and
# "key" too, for everyone: it needs the portal's address as the browser asks for it.
PAGE_TOKEN_MODES = ("env", "placeholder")
# Above this many body bytes, a call's page renders only the first snippet, and the panel
# fetches the others when picked: twelve copies of a large body would make a heavy page.
SNIPPET_INLINE_BODY_BYTES = 16 * 1024


def _tab(target, reason=None):
    return {"target": target.name, "label": target.label, "filename": target.filename,
            "language": target.language, "reason": reason, "texts": []}


def _real_token_choice(user, team, service):
    """None when the user may not export the real token; else {"refused": why not, or ""}."""
    if not access.may_export_real_token(user, team):
        return None
    if service is None:
        return {"refused": _("The service no longer exists, so there is no token to export.")}
    return {"refused": ""}


def has_active_key(user):
    """Whether the user has a personal key that opens the gateway: not revoked, not expired."""
    return ApiKey.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
        user=user, revoked_at__isnull=True).exists()


def _key_choice(user, service):
    """The key mode, offered to everyone: {"refused": why not, or ""; "has_key": whether the
    user has a key to run the snippet with}."""
    if service is None:
        return {"refused": _("The service no longer exists, so there is no gateway to call with "
                             "a personal key."), "has_key": False}
    return {"refused": "", "has_key": has_active_key(user)}


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
             "key": _key_choice(user, service),
             "config": {"url": reverse("api:call_snippet", kwargs={"id": call.pk}),
                        "text": _snippet_text()}}
    request = snippets.from_call(call)
    tabs = [_tab(target, target.reason(request)) for target in snippets.TARGETS.values()]
    large = len(request.body) > SNIPPET_INLINE_BODY_BYTES
    rendered = 0
    for tab in tabs:
        if tab["reason"] or (large and rendered):
            continue
        try:
            tab["texts"] = [(mode, snippets.render(request, tab["target"], mode))
                            for mode in PAGE_TOKEN_MODES]
        except Refusal as exc:
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
    return {"source": "builder",
            "tabs": [_tab(target) for target in snippets.TARGETS.values()],
            "selected": snippets.NAMES[0], "notes": [], "error": "",
            "real": _real_token_choice(user, service.team, service),
            "key": _key_choice(user, service), "config": config}
