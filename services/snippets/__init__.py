"""Snippets: a request made into code that sends the same request, for each target.

One normalized request (request.py's SnippetRequest) is made from a request not sent yet
(from_request, through calls.prepare(), as a call would be), from a saved request
(from_saved, the same with its redactions) or from a call in history (from_call). Each target
(targets.py: one record each; shell.py, python.py, javascript.py the targets themselves) renders
it with a template under templates/services/snippets/, its values quoted by quoting.py. A
snippet sends exactly the request's method, URL, headers and body bytes, plus Authorization
according to the token mode; clients may add a User-Agent or Accept of their own. In key
mode the same request goes to the portal's gateway (via_gateway()) with a personal key. The
contract is in docs/api.md ("Snippets").
"""

from services.snippets.render import check_token_mode, render, target, unavailable_reason
from services.snippets.request import (
    KEY_ENV,
    TOKEN_ENV,
    TOKEN_MODES,
    TOKEN_PLACEHOLDER,
    SnippetRequest,
    from_call,
    from_request,
    from_saved,
    via_gateway,
)
from services.snippets.targets import NAMES, TARGETS, Target

__all__ = ["KEY_ENV", "NAMES", "TARGETS", "TOKEN_ENV", "TOKEN_MODES", "TOKEN_PLACEHOLDER",
           "SnippetRequest", "Target", "check_token_mode", "from_call", "from_request",
           "from_saved", "render", "target", "unavailable_reason", "via_gateway"]
