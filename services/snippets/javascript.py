"""The JavaScript snippet: fetch, for Node 18+ and browsers (services/snippets/targets.py
lists every target)."""

from django.utils.translation import gettext as _

from services.snippets.quoting import js_body, js_str
from services.snippets.request import headers_of, query_of

# fetch (JavaScript)

def fetch_reason(request):
    if request.method in ("GET", "HEAD") and request.body:
        return _("fetch cannot send a body with a GET or HEAD request.")
    if "'" in query_of(request):
        return _("fetch would send the ' in the query string as %27 (the URL standard "
                 "encodes it there), so the URL would not be the same.")
    return None


def fetch_context(request, token):
    headers = [(js_str(name), js_str(value)) for name, value in headers_of(request)]
    if token.from_env:
        value = ('"Bearer " + ' if token.is_key else "") + f"process.env.{token.env_var}"
    else:
        value = js_str(token.literal)
    headers.append((js_str("Authorization"), value))
    return {"url": js_str(request.url), "method": js_str(request.method), "headers": headers,
            "body": js_body(request.body) if request.body else "",
            "timeout_ms": request.timeout_s * 1000, "stream": request.stream,
            "notes": ([f"In a browser, paste the {'key' if token.is_key else 'token'} in place "
                       f"of process.env.{token.env_var}."] if token.from_env else [])
            + (["In a browser, show each piece some other way than process.stdout, which is "
                "Node's."] if request.stream else [])}
