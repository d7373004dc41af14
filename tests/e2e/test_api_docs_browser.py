"""The API docs page renders in Chromium under the site's Content-Security-Policy, from our own
static files only, and its "Try it out" sends the CSRF header."""

from tests.helpers import log_in


def test_the_docs_render_under_the_content_security_policy(live_server, browser, page, alice):
    log_in(page, live_server, "alice")
    problems, elsewhere = [], []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: not request.url.startswith(
        (live_server.url, "data:")) and elsewhere.append(request.url))
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    problems_on_load = list(problems)
    # "Try it out" on an unsafe method: the page sends the CSRF header, so the answer is the
    # API's own (alice is no superuser), not a CSRF failure.
    page.locator("#operations-teams-team_create").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.wait_for_selector(".live-responses-table .response-col_status", timeout=15_000)
    answer = page.locator(".live-responses-table").inner_text()

    assert "/api/services/{slug}/invoke" in [path.replace("\u200b", "") for path in paths]
    assert problems_on_load == []
    assert "Only administrators can create teams." in answer
    assert page.csp_errors == [] and elsewhere == []
