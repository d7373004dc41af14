"""Shell snippets: curl and HTTPie (services/snippets/targets.py lists every target).

What each client adds or changes was read in its source and proven by running the snippets
against the emulator (tests/snippets/); the reasons below say what it would change.
"""

from django.utils.translation import gettext as _

from services.errors import Refusal
from services.snippets.quoting import (
    MAX_ARG_BYTES,
    httpie_cannot_escape,
    httpie_escape,
    sh_printf_bytes,
    sh_printf_text,
    sh_quote,
    text_of,
)
from services.snippets.request import header_value, headers_of, non_ascii_header


def sh_env_authorization(token):
    """The one word of a shell snippet that expands: double quotes, so that the token (or the
    personal key, as "Bearer <key>") stays one word."""
    return f'"Authorization: {"Bearer " if token.is_key else ""}${{{token.env_var}}}"'


# curl

def curl_reason(request):
    if request.method == "HEAD" and request.body:
        return _("curl cannot send a body with a HEAD request.")
    name = non_ascii_header(request)
    if name:
        return _("curl would send the value of the header %(name)s as UTF-8, not as the "
                 "single bytes (ISO-8859-1) the portal sends.") % {"name": name}
    return _too_long_header(request)


def _too_long_header(request):
    for name, value in request.headers:
        if len(f"{name}: {value}".encode()) > MAX_ARG_BYTES:
            return _("The header %(name)s is longer than a command-line argument may be "
                     "(128 KiB).") % {"name": name}
    return None


def _header_line(name, value):
    # curl reads "Name:" as "remove the header"; "Name;" sends it empty.
    return f"{name};" if value == "" else f"{name}: {value}"


def curl_context(request, token):
    options = ["--globoff"]
    if request.stream:
        options.append("-N")
    if request.method == "HEAD":
        options.append("--head")
    elif request.method != ("POST" if request.body else "GET"):
        options.append(f"-X {request.method}")
    options += ["-H " + sh_quote(_header_line(name, value)) for name, value in headers_of(request)]
    options.append("-H " + (sh_env_authorization(token) if token.from_env
                            else sh_quote("Authorization: " + token.literal)))
    if request.body and header_value(request, "Content-Type") is None:
        options.append("-H 'Content-Type:'")  # else curl sends a form type of its own
    options.append(f"--max-time {request.timeout_s}")
    stdin, text = "", text_of(request.body)
    if request.body:
        if text is not None and len(request.body) <= MAX_ARG_BYTES:
            options.append("--data-raw " + sh_quote(text))
        else:
            stdin = sh_printf_text(text) if text is not None else sh_printf_bytes(request.body)
            options.append("--data-binary @-")
    return {"stdin": stdin, "url": sh_quote(request.url), "options": options,
            "notes": ["-N (--no-buffer) prints the answer as it arrives."]
            if request.stream else []}


# HTTPie

def httpie_reason(request):
    name = non_ascii_header(request)
    if name:
        return _("HTTPie would send the value of the header %(name)s as UTF-8, not as the "
                 "single bytes (ISO-8859-1) the portal sends.") % {"name": name}
    for name, value in request.headers:
        if name.startswith("-"):
            return _("HTTPie would read the header %(name)s as an option.") % {"name": name}
        if httpie_cannot_escape(value):
            return _("HTTPie's request items cannot express the value of the header %(name)s: "
                     "a backslash right before :, ;, = or @.") % {"name": name}
    return _too_long_header(request)


def _httpie_item(name, value):
    return sh_quote(f"{name};" if value == "" else f"{name}:{httpie_escape(value)}")


def httpie_context(request, token):
    items = [_httpie_item(name, value) for name, value in headers_of(request)]
    if token.from_env:
        # The space keeps a token that starts with = or @ from reading as another item type;
        # HTTPie strips it.
        items.append(sh_env_authorization(token))
    elif httpie_cannot_escape(token.literal):
        raise Refusal(400, _("HTTPie's request items cannot express this token: it has a "
                              "backslash right before :, ;, = or @."))
    else:
        items.append(_httpie_item("Authorization", token.literal))
    if request.body and header_value(request, "Content-Type") is None:
        items.append("'Content-Type:'")  # else HTTPie sends application/json
    stdin, text = "", text_of(request.body)
    if request.body:
        if text is not None and len(("--raw=" + text).encode()) <= MAX_ARG_BYTES:
            items.append("--raw=" + sh_quote(text))
        else:
            stdin = sh_printf_text(text) if text is not None else sh_printf_bytes(request.body)
    # Without a body on stdin, --ignore-stdin: HTTPie would otherwise wait for one.
    command = (f"{stdin} | http" if stdin else "http --ignore-stdin")
    if request.stream:
        command += " --stream"
    command += f" --timeout={request.timeout_s} {request.method} {sh_quote(request.url)}"
    return {"command": command, "items": items,
            "notes": ["--stream prints the answer line by line as it arrives."]
            if request.stream else []}
