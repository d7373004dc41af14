"""Rendering a snippet: the target's template (templates/services/snippets/<name>.txt) with its
context and the notes every snippet carries. Who may see which snippet, and the audit record
of an export with the real token, are the views' business: this module is given the token,
never reads it. A snippet in key mode is given the portal's base URL, and reads the personal key
from the environment when it runs: no key is ever in one."""

from django.template import Context, engines
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from services import calls
from services.errors import Refusal
from services.snippets.request import (
    KEY_ENV,
    TOKEN_ENV,
    TOKEN_MODES,
    TOKEN_PLACEHOLDER,
    SnippetRequest,
    Token,
    placeholder,
    via_gateway,
)
from services.snippets.targets import NAMES, TARGETS, Target

# Comments, read by whoever runs the snippet: English, like the code around them.
_TOKEN_NOTES = {
    "env": f"Reads the token from the environment variable {TOKEN_ENV}.",
    "placeholder": f"Replace {TOKEN_PLACEHOLDER} with the service's token.",
    "real": "WARNING: this snippet contains the service's real token. Do not share it, paste "
            "it into chats or tickets, or commit it.",
    "key": f"Calls the service through the portal's gateway with your personal key, read from "
           f"the environment variable {KEY_ENV}; the gateway sends the service's token.",
}


def target(name: str) -> Target:
    """The target of that name; 400 naming the valid ones for any other."""
    if name not in TARGETS:
        raise Refusal(400, _("lang: “%(value)s” is not a snippet language; use one of: "
                             "%(choices)s.")
                      % {"value": str(name)[:40], "choices": ", ".join(NAMES)})
    return TARGETS[name]


def check_token_mode(mode: str) -> None:
    if mode not in TOKEN_MODES:
        raise Refusal(400, _("token: “%(value)s” is not a token mode; use one of: %(choices)s.")
                      % {"value": str(mode)[:40], "choices": ", ".join(TOKEN_MODES)})


def unavailable_reason(request: SnippetRequest, name: str) -> str | None:
    """None when the target can express the request; else a translated sentence why not."""
    return target(name).reason(request)


@sensitive_variables()
def render(request: SnippetRequest, name: str, token_mode: str, token: str | None = None,
           portal: str | None = None) -> str:
    """The snippet's text; token is the plaintext, needed (only) for token_mode "real"; portal
    the portal's base URL, needed (only) for token_mode "key", unless the request was made
    through the gateway already (via_gateway(): the reasons that hold are that request's)."""
    chosen = target(name)
    check_token_mode(token_mode)
    if token_mode == "real" and not token:
        raise Refusal(400, _("A snippet with the real token needs the token."))
    if token_mode == "key":
        request = via_gateway(request, portal)
    elif request.portal:
        raise ValueError("A request through the gateway is rendered in token mode key only.")
    reason = chosen.reason(request)
    if reason:
        raise Refusal(400, reason, unavailable=name)
    context = chosen.context(request, Token(token_mode, token or ""))
    context["notes"] = _notes(request, token_mode) + context.get("notes", [])
    template = engines["django"].engine.get_template(f"services/snippets/{name}.txt")
    # Autoescape off: the values are quoted for their language, and HTML escaping would
    # change them. Template.render marks its output safe for HTML; a snippet is plain text,
    # to be escaped wherever a page shows it.
    return str.__str__(template.render(Context(context, autoescape=False)))


def _notes(request: SnippetRequest, token_mode: str) -> list[str]:
    notes = [_TOKEN_NOTES[token_mode]]
    if token_mode == "key":
        notes.append(f"Make a key on the portal's keys page: {request.portal}"
                     f"{reverse('account_keys')}")
    for name in request.redacted_headers:
        notes.append(f"History redacted the header {name}: replace "
                     f"{placeholder(name)} with its value.")
    if request.token_in_url_or_body:
        notes.append(f"History replaced the service's token with {calls.REDACTED} in the "
                     "request: put the token back there before running this.")
    return notes
