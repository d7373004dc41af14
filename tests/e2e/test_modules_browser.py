"""The ES modules of static/js in Chromium, as the live portal serves them: each loads, under the
portal's Content-Security-Policy, by its hashed name only, once per page, and names what it
offers the others; no module leaves a global behind."""

import re

from django.templatetags.static import static
from playwright.sync_api import expect

from services.models import Run
from tests.helpers import log_in, make_call, open_builder

EXPORTS = {
    "builder": ["csrfToken", "fill", "payload", "savedPayload"],
    "builder_import": [],
    "builder_run": [],
    "builder_save": [],
    "call_save": [],
    "chat": ["conversation", "figures"],
    "highlight": ["render", "tokens"],
    "hints": ["keyFor", "show"],
    "join": ["joinUrl", "refusalText"],
    "keys": [],
    "response": ["render", "renderCall", "renderHeaders", "renderStatus", "showBodyView"],
    "run": [],
    "run_compare": ["start"],
    "run_plots": ["drawHistogram", "drawOverlay", "drawScatter"],
    "save_dialog": ["ask"],
    "saved_list": [],
    "snippets": [],
    "sparkline": [],
    "stream": ["eventParser", "openaiAssembler", "streamInvoke"],
    "stream_panel": ["open"],
    "util": ["byId", "copyText", "csrfToken", "format", "loadUPlot", "parseJsonOrNull",
             "readJson", "refusalOf", "sendJson"],
}
HASHED_MODULE = re.compile(r".*/static/js/(\w+)\.[0-9a-f]{12}\.js")
NO_GLOBALS = "Object.keys(window).filter(name => /^Eas/.test(name))"


def record_scripts(page):
    """Every URL under /static/js/ the page asks for, in order."""
    requested = []
    page.on("request", lambda request: "/static/js/" in request.url
            and requested.append(request.url))
    return requested


def module_names(urls):
    matches = [HASHED_MODULE.fullmatch(url) for url in urls]
    assert all(matches), urls  # an unhashed name would be cached without a new one on change
    return sorted(match.group(1) for match in matches)


def test_every_module_loads_by_its_hashed_name_and_exports_its_names(live_server, page):
    requested = record_scripts(page)
    page.goto(f"{live_server.url}/accounts/login/")
    assert requested == []  # the login page has no script of its own
    exports = page.evaluate("""async urls => {
        const found = {};
        for (const [name, url] of Object.entries(urls)) {
            found[name] = Object.keys(await import(url)).sort();
        }
        return found;
    }""", {name: static(f"js/{name}.js") for name in EXPORTS})
    assert exports == EXPORTS
    assert module_names(requested) == sorted(EXPORTS)  # each once, imports included
    assert page.evaluate(NO_GLOBALS) == []
    assert page.csp_errors == []


def test_the_builder_page_loads_its_modules_once_each(live_server, page, service, bob):
    log_in(page, live_server, "bob")
    requested = record_scripts(page)
    open_builder(page, live_server, service)
    # The snippet panel's tab has its snippet once snippets.js has the builder's form to read.
    expect(page.locator("#snippet-body code")).to_contain_text(service.public_endpoint)
    # Every module but those of the chat playground, the keys page, a call's page, the
    # service page, the run page and the status board, each its own page's alone.
    assert module_names(requested) == sorted(
        name for name in EXPORTS if name not in ("chat", "keys", "call_save", "saved_list",
                                                 "run", "run_compare", "run_plots",
                                                 "sparkline"))
    assert page.evaluate(NO_GLOBALS) == []
    assert page.csp_errors == []


def test_the_chat_page_loads_its_modules_once_each(live_server, page, chat, bob):
    log_in(page, live_server, "bob")
    requested = record_scripts(page)
    page.goto(f"{live_server.url}/services/{chat.slug}/chat/")
    expect(page.locator("#model-list")).to_be_visible()  # chat.js ran and asked /v1/models
    assert module_names(requested) == ["chat", "stream", "util"]
    assert page.evaluate(NO_GLOBALS) == []
    assert page.csp_errors == []


def test_a_calls_page_loads_no_builder_module(live_server, page, service, bob):
    call = make_call(service, bob)
    log_in(page, live_server, "bob")
    requested = record_scripts(page)
    page.goto(f"{live_server.url}/calls/{call.pk}/")
    expect(page.locator("#snippet-body code span.tok-string").first).to_be_visible()
    assert module_names(requested) == ["call_save", "highlight", "hints", "save_dialog",
                                       "snippets", "util"]
    assert page.evaluate(NO_GLOBALS) == []
    assert page.csp_errors == []


def test_the_service_page_loads_its_one_module(live_server, page, service, bob):
    log_in(page, live_server, "bob")
    requested = record_scripts(page)
    page.goto(f"{live_server.url}/services/{service.slug}/")
    expect(page.locator("#saved-empty")).to_be_visible()
    assert module_names(requested) == ["saved_list", "util"]
    assert page.evaluate(NO_GLOBALS) == []
    assert page.csp_errors == []


def test_the_run_page_loads_its_modules_and_the_vendored_uplot_once(live_server, page, service,
                                                                    bob):
    run = Run.objects.create(kind="capacity", team=service.team, service=service,
                             service_slug=service.slug, service_name=service.name, user=bob,
                             username="bob", state="done", total=1, concurrency=1,
                             max_seconds=1, sent=1, ok=1)
    make_call(service, bob, source="run", run=run)
    log_in(page, live_server, "bob")
    requested = record_scripts(page)
    vendored = []
    page.on("request", lambda request: "/static/vendor/" in request.url
            and vendored.append(request.url))
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    expect(page.locator("#plot-histogram .uplot canvas")).to_have_count(1)
    expect(page.locator("#plot-scatter .uplot canvas")).to_have_count(1)
    assert module_names(requested) == ["run", "run_compare", "run_plots", "util"]
    # uPlot's script (a classic one, preloaded, then added by run_plots.js) and its styles,
    # by their hashed names, each fetched once.
    assert sorted(re.sub(r"\.[0-9a-f]{12}\.", ".<hash>.", url.split("/static/")[1])
                  for url in vendored) == ["vendor/uplot/uPlot.iife.min.<hash>.js",
                                           "vendor/uplot/uPlot.min.<hash>.css"]
    assert page.evaluate("typeof window.uPlot") == "function"
    assert page.csp_errors == []
