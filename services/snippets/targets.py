"""Every snippet target, one record each: what it is called, where its template is
(templates/services/snippets/<name>.txt), what file it downloads as, how the panel colours it,
when it cannot express a request (and why), and the context its template is rendered with."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from services.snippets import javascript, python, shell
from services.snippets.request import SnippetRequest, Token


@dataclass(frozen=True)
class Target:
    name: str
    label: str | Promise
    filename: str
    language: str  # for the panel's highlighting (static/js/highlight.js): shell, python, ...
    # None when the target can express the request, else a translated sentence why not.
    reason: Callable[[SnippetRequest], str | None]
    # The template's context; raises Refusal (400) for a token the target cannot carry.
    context: Callable[[SnippetRequest, Token], dict[str, Any]]


TARGETS = {target.name: target for target in (
    Target("curl", "curl", "request.sh", "shell", shell.curl_reason, shell.curl_context),
    Target("python", _("Python (requests)"), "request.py", "python",
           python.python_reason, python.python_context),
    Target("httpie", "HTTPie", "request.sh", "shell", shell.httpie_reason,
           shell.httpie_context),
    Target("fetch", _("fetch (JavaScript)"), "request.mjs", "javascript",
           javascript.fetch_reason, javascript.fetch_context),
    Target("openai", _("OpenAI SDK (Python)"), "request.py", "python",
           python.openai_reason, python.openai_context),
    Target("eas_sdk", _("eas-prediction SDK"), "request.py", "python",
           python.eas_sdk_reason, python.eas_sdk_context),
)}
# In the order the panel offers them.
NAMES = tuple(TARGETS)
