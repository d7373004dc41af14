"""One table of join cases, two implementations: static/js/join.js in Chromium and Python's
services.net.join.join_url must give the same URLs and refuse the same paths, with the same
message, so the builder shows the URL the server will call."""

import pytest
from django.templatetags.static import static
from django.utils import translation

from services.net.errors import PathError
from services.net.join import join_url
from services.views.builder import join_refusals
from tests.helpers import JOIN_CASES


def ok_cases():
    for case in JOIN_CASES["ok"]:
        path, url, *base = case
        yield (base[0] if base else JOIN_CASES["base"]), path, url


def refused_cases():
    return [(JOIN_CASES["base"], path) for path in JOIN_CASES["refused"]]


def python_join(base, path):
    try:
        return {"url": join_url(base, path)}
    except PathError as exc:
        return {"refused": str(exc)}


@pytest.fixture(scope="module")
def js_page(browser, live_server):
    """A page of the portal, under its Content-Security-Policy, to import join.js into."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    yield page
    context.close()


def js_join_all(page, pairs, refusals):
    """Every (base, path) through the module's joinUrl at once: {url} or {refused: message}."""
    return page.evaluate("""async ([url, pairs, refusals]) => {
        const { joinUrl, refusalText } = await import(url);
        return pairs.map(([base, path]) => {
            const result = joinUrl(base, path);
            return result.url !== undefined ? {url: result.url}
                : {refused: refusalText(result.refused, path, refusals)};
        });
    }""", [static("js/join.js"), pairs, refusals])


def test_the_table_has_both_kinds_of_case():
    assert len(list(ok_cases())) >= 40 and len(refused_cases()) >= 40


def test_python_joins_the_table():
    for base, path, url in ok_cases():
        assert join_url(base, path) == url, path
    for base, path in refused_cases():
        with pytest.raises(PathError):
            join_url(base, path)


def test_the_page_joins_every_case_like_the_table(js_page):
    cases = list(ok_cases())
    results = js_join_all(js_page, [[base, path] for base, path, _url in cases], {})
    for (_base, path, url), result in zip(cases, results, strict=True):
        assert result == {"url": url}, path


def test_the_page_refuses_what_the_server_refuses_with_the_same_message(js_page):
    with translation.override("en"):
        refusals = join_refusals()
        cases = refused_cases()
        results = js_join_all(js_page, [list(case) for case in cases], refusals)
        for (base, path), result in zip(cases, results, strict=True):
            assert result == python_join(base, path), repr(path)
            assert "refused" in result, repr(path)


def test_the_page_and_the_server_agree_beyond_the_table(js_page):
    # Neighbours of the table's cases, in combinations the table does not list.
    paths = ["", "/", "a b", "?a b#", "/%2E", "/%2E%2e%2E", "/ok/%2e%2e", "//", "\\",
             "/a:b", "a:b", "/@", "@", "/x?y=\\", "/%00", "/\u00a0", "/\u2028", "/\U0001F600?q=%",
             "/x%", "/x%4g", "/~user/$1", "?#", "/..;/x", "/;/..", "/v1/chat/completions/",
             "/..%2f", "/%2E.%5C", "/..%3b", "/.%252e/x", "/a;..;b", "/..%2", "/%2e%2e%2F%2F"]
    bases = ["http://h/api/predict/s", "http://h/api/predict/s/", "https://h:8443", "http://h"]
    with translation.override("en"):
        refusals = join_refusals()
        pairs = [[base, path] for base in bases for path in paths]
        results = js_join_all(js_page, pairs, refusals)
        for (base, path), result in zip(pairs, results, strict=True):
            assert result == python_join(base, path), (base, path)
