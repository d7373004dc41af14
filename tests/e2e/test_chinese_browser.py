"""Issue 15: the main flows in Chromium with Accept-Language: zh-CN (a Chinese browser): log in,
register a service, build and send a request, see a hint, read the history, export a snippet.
No page on the way shows an English word of the interface: what a person reads there is
Chinese, while names, code, URLs, headers, bodies and snippets stay as they are.

With EASPORTAL_SCREENSHOTS=docs/screenshots, the walk also saves the three screenshots that the
README shows (docs/i18n.md)."""

import os
import re
from http import HTTPStatus
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers import BASE_DIR

# What a page shows that is the same in every language: the brand, protocol and product names,
# methods, units, the EAS console's own Latin words, and the switcher's "English".
SAME_IN_EVERY_LANGUAGE = {
    "easportal", "EAS", "PAI", "VPC", "API", "Token", "tokens", "JSON", "Lines", "HTTP", "HTTPS",
    "curl", "Python", "OpenAI", "SDK", "TTFT", "TPOT", "ms", "LLM", "Model", "Gallery",
    "Processor", "URL", "DNS", "CSV", "UTC", "English", "GET", "POST", "PUT", "PATCH", "DELETE",
    "HEAD", "OPTIONS", "fetch", "JavaScript", "requests", "eas-prediction", "HTTPie", "ID",
    "Authorization", "Content-Type", "Bearer", "Temperature", "Top", "xx", "TensorFlow", "Caffe",
    "PMML", "PyTorch", "MB", "KB", "GB", "CI",
}
# The visible text of a page and the texts of its visible placeholders, titles, labels and
# options; not what a person typed or received: code, pre, textarea, inputs' values, and what
# the page marks translate="no" (a call's headers).
VISIBLE_TEXT = """() => {
  const hidden = "script, style, pre, code, textarea, noscript, template, [translate=no]";
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (element.closest(hidden) || !element.checkVisibility()) continue;
    texts.push(walker.currentNode.textContent);
  }
  for (const element of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    if (!element.checkVisibility()) continue;
    for (const name of ["placeholder", "title", "aria-label"]) {
      if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
    }
  }
  for (const select of document.querySelectorAll("select")) {
    if (select.checkVisibility()) for (const option of select.options) texts.push(option.text);
  }
  return texts.join("\\n");
}"""
REASONS = "|".join(re.escape(f"{status.value} {status.phrase}") for status in HTTPStatus)


def english_words(page, data=()):
    """The English words the page shows, past the data the test made (names, slugs, user
    names) and what is the same in every language."""
    text = page.evaluate(VISIBLE_TEXT)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    # URLs, paths, names of variables (EAS_TOKEN) and status lines are code, not interface.
    text = re.sub(r"https?://\S+|(?<![\w])/[\w./{}<>?=&%:-]*|\b\w+_\w+\b|" + REASONS, " ", text)
    return [word for word in re.findall(r"[A-Za-z][A-Za-z-]*[A-Za-z]", text)
            if word not in SAME_IN_EVERY_LANGUAGE]


def no_english(page, data):
    found = english_words(page, data)
    assert found == [], f"English on {page.url}: {found}"


def screenshot(page, name, tmp_path):
    folder = Path(os.environ.get("EASPORTAL_SCREENSHOTS") or tmp_path)
    if not folder.is_absolute():
        folder = BASE_DIR / folder
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


@pytest.fixture
def zh_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860},
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    yield page
    context.close()


def test_the_english_check_sees_english(live_server, zh_page):
    zh_page.goto(f"{live_server.url}/accounts/login/")
    zh_page.evaluate("document.querySelector('main h1').textContent = 'Sign in please'")
    assert english_words(zh_page) == ["Sign", "in", "please"]


def test_a_chinese_browser_walks_the_main_flows_in_chinese(
        live_server, zh_page, acme, alice, emulator, tmp_path):
    page, url = zh_page, live_server.url
    # What the test made, and the answer's own words: its finish reason and its "usage" field.
    data = ["alice", "acme", "Acme", "Demo Chat", "demo-chat", "stop", "usage"]

    # Log in: the login page is Chinese, its switcher included.
    page.goto(f"{url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    no_english(page, data)
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-alice")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{url}/services/")
    no_english(page, data)

    # Register a service: the form, then the service's page.
    page.goto(f"{url}/services/new/")
    no_english(page, data)
    page.fill("input[name=name]", "Demo Chat")
    page.fill("input[name=slug]", "demo-chat")
    page.select_option("select[name=kind]", "llm")
    page.check("input[name=gateway][value=shared]")
    page.fill("input[name=public_endpoint]", emulator.base("demo-chat"))
    page.fill("input[name=token]", emulator.token("demo-chat"))
    page.fill("input[name=default_path]", "/v1/chat/completions")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{url}/services/demo-chat/")
    no_english(page, data)

    # Build and send a request, then one with a wrong path: the 404 hint.
    page.goto(f"{url}/services/demo-chat/builder/")
    expect(page.locator("#full-url")).to_be_visible()
    no_english(page, data)
    with page.expect_response(re.compile(r"/invoke$")):
        page.click("#send")
    expect(page.locator("#response-status")).to_have_text("200 OK")
    no_english(page, data)
    page.fill("#path", "/v2/chat/completions")
    with page.expect_response(re.compile(r"/invoke$")):
        page.click("#send")
    hint = page.locator("#response [data-hint='404']")
    expect(hint).to_be_visible()
    no_english(page, data)
    screenshot(page, "builder-zh.png", tmp_path)

    # The history, and a call's page with its snippets.
    page.goto(f"{url}/calls/")
    expect(page.locator("tr.call-row")).to_have_count(2)
    no_english(page, data)
    screenshot(page, "history-zh.png", tmp_path)
    page.locator("tr.call-row a[href^='/calls/']").last.click()
    expect(page.locator("#snippet-body")).to_be_visible()
    no_english(page, data)
    page.click("#snippet-tab-python")
    expect(page.locator("#snippet-tab-python")).to_have_attribute("aria-selected", "true")
    assert "import requests" in page.locator("#snippet-body code").text_content()
    no_english(page, data)
    screenshot(page, "call-zh.png", tmp_path)
