from services.models import Service
from tests.helpers import EAS_PUBLIC, log_in

TOKEN = "browser-Typed-Token-5150"


def test_a_maintainer_logs_in_creates_a_service_and_never_sees_the_token(
        live_server, page, acme, alice):
    log_in(page, live_server, "alice")

    page.click("text=New service")
    page.fill("input[name=name]", "Browser Chat")
    page.fill("input[name=slug]", "browser-chat")
    page.select_option("select[name=kind]", "llm")
    page.check("input[name=gateway][value=shared]")
    page.fill("input[name=public_endpoint]", EAS_PUBLIC)
    page.fill("input[name=token]", TOKEN)
    page.fill("input[name=default_path]", "/v1/chat/completions")
    page.click("button:has-text('Create service')")
    page.wait_for_url(f"{live_server.url}/services/browser-chat/")
    detail = page.content()
    assert "Browser Chat" in detail
    assert "••••5150" in detail

    page.click("nav >> text=Services")
    page.wait_for_url(f"{live_server.url}/services/")
    assert page.locator("table.list >> text=Browser Chat").is_visible()
    listing = page.content()

    page.goto(f"{live_server.url}/services/browser-chat/edit/")
    edit = page.content()
    assert page.input_value("input[name=token]") == ""

    for html in (detail, listing, edit):
        assert TOKEN not in html
    assert Service.objects.get(slug="browser-chat").read_token() == TOKEN
    assert page.csp_errors == []
