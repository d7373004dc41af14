"""The browser layer's own fixtures: Chromium, a page that collects what goes wrong on it, and
the emulated services the browser tests drive (Demo Chat and Demo Echo, with the emulator's
slugs, in place of the shared `echo`)."""

import os

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium flags for a closed network: no sandbox as root, and no background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Playwright's sync API runs an event loop in the test's thread; Django's ORM would then refuse
# to run there, although nothing in these tests is asynchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    # Any Content-Security-Policy violation shows up on the console: collect them.
    page.csp_errors = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_errors.append(message.text))
    # A script or stylesheet that fails to load would leave a page half-working unnoticed.
    failed_static = []
    page.on("response", lambda response: "/static/" in response.url and response.status >= 400
            and failed_static.append(f"{response.status} {response.url}"))
    yield page
    context.close()
    assert failed_static == [], "static files failed to load"


@pytest.fixture
def chat(acme, emulator):
    return emulator.service(acme, "demo-chat", name="Demo Chat")


@pytest.fixture
def echo(acme, emulator):
    return emulator.service(acme, "demo-echo", name="Demo Echo")
