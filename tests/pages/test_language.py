"""Issue 15: the language is the browser's (Accept-Language) until a person picks one with the
switcher in every page's header, the login page's included; the pick is kept in a cookie and,
for a person who is logged in, in their profile, which logging in brings back to a new browser.
The API's messages follow the same choice (the gateway's: tests/api/test_gateway.py)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from services.models import Profile
from tests.helpers import logged_in

COOKIE = settings.LANGUAGE_COOKIE_NAME
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.8"}


def chinese(text):
    with translation.override("zh-hans"):
        translated = _(text)
    assert translated != text, f"{text!r} has no translation"
    return translated


def switch(client, language, next_url="/services/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_the_login_page_follows_accept_language(db):
    english = Client().get(reverse("login"))
    page = Client().get(reverse("login"), **ZH)
    assert '<html lang="en' in english.text and "Log in to easportal" in english.text
    assert '<html lang="zh-hans">' in page.text
    assert chinese("Log in to easportal") in page.text and "Log in to easportal" not in page.text
    assert page["Content-Language"] == "zh-hans" and "Accept-Language" in page["Vary"]


def test_the_switcher_is_on_the_login_page_and_its_choice_is_kept_in_a_cookie(db):
    client = Client()
    page = client.get(reverse("login"))
    assert f'action="{reverse("set_language")}"' in page.text
    assert 'value="zh-hans"' in page.text and "简体中文" in page.text
    answer = switch(client, "zh-hans", reverse("login"))
    assert answer.status_code == 302 and answer["Location"] == reverse("login")
    cookie = answer.cookies[COOKIE]
    assert cookie.value == "zh-hans" and cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    # Without Accept-Language, the cookie decides.
    assert chinese("Log in to easportal") in client.get(reverse("login")).text


def test_the_cookie_wins_over_accept_language(db):
    client = Client()
    switch(client, "en", reverse("login"))
    assert "Log in to easportal" in client.get(reverse("login"), **ZH).text


def test_a_person_who_switches_keeps_the_choice_in_the_profile(alice):
    client = logged_in(alice)
    page = client.get(reverse("service_list"))
    assert f'action="{reverse("set_language")}"' in page.text
    switch(client, "zh-hans")
    assert Profile.language_of(alice) == "zh-hans"
    assert chinese("Services") in client.get(reverse("service_list")).text
    switch(client, "en")
    assert Profile.language_of(alice) == "en"


def test_logging_in_on_a_new_browser_brings_the_kept_choice_back(alice):
    Profile.objects.create(user=alice, language="zh-hans")
    client = Client()
    answer = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert answer.status_code == 302 and answer.cookies[COOKIE].value == "zh-hans"
    assert chinese("Services") in client.get(reverse("service_list")).text


def test_logging_in_keeps_the_login_pages_choice_for_a_person_who_had_none(alice):
    client = Client()
    switch(client, "zh-hans", reverse("login"))
    answer = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert answer.status_code == 302 and Profile.language_of(alice) == "zh-hans"


def test_a_language_the_portal_does_not_have_changes_nothing(alice):
    client = logged_in(alice)
    answer = switch(client, "klingon")
    assert answer.status_code == 302 and COOKIE not in answer.cookies
    assert Profile.language_of(alice) == ""


def test_switching_is_a_post(db):
    assert Client().get(reverse("set_language") + "?language=zh-hans").status_code == 405


def test_the_apis_messages_follow_accept_language(alice):
    client = logged_in(alice)
    english = client.get("/api/services/nowhere")
    answer = client.get("/api/services/nowhere", **ZH)
    assert english.status_code == answer.status_code == 404
    assert english.json()["detail"] == "There is no service “nowhere”."
    with translation.override("zh-hans"):
        expected = _("There is no service “%(slug)s”.") % {"slug": "nowhere"}
    assert answer.json()["detail"] == expected != english.json()["detail"]
    assert answer["Content-Language"] == "zh-hans"



def test_dates_are_written_for_the_language(call, alice):
    """The history's dates: 2026-12-02 15:04:05 in English, 2026年12月2日 15:04:05 in Chinese."""
    when = timezone.localtime(call.created_at)
    client = logged_in(alice)
    english = client.get(reverse("call_list")).text
    chinese_page = client.get(reverse("call_list"), **ZH).text
    assert when.strftime("%Y-%m-%d %H:%M:%S") in english
    written = f"{when.year}年{when.month}月{when.day}日 {when.strftime('%H:%M:%S')}"
    assert written in chinese_page and when.strftime("%Y-%m-%d %H:%M:%S") not in chinese_page


def test_the_choice_kept_per_request_follows_a_change_of_the_language_settings(db, settings):
    """services.middleware.Locale keeps Django's choice for each (cookie, Accept-Language)
    pair: a change of the settings it depends on starts over, as Django's own caches do."""
    french = {"HTTP_ACCEPT_LANGUAGE": "fr-FR"}  # not one of the portal's: the default
    assert Client().get("/accounts/login/", **french)["Content-Language"] == "en"
    settings.LANGUAGE_CODE = "zh-hans"
    assert Client().get("/accounts/login/", **french)["Content-Language"] == "zh-hans"
    assert Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"


DATE_FORMATS = ["Y-m-d H:i:s", "Y年n月j日 H:i:s", "Y-m-d H:i", "Y年n月j日 H:i",
                r"\Y\e\a\r Y, \d\a\y j", "j.n.Y", "D, j M Y", "Y-m-d H:i T", "N jS, Y P", ""]
DATES = [datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 12, 31, 23, 59, 59),
         datetime(7, 3, 9, 0, 0, 0), datetime(2026, 3, 29, 2, 30, 0)]


@pytest.mark.parametrize("format_string", DATE_FORMATS)
def test_a_date_writer_writes_what_the_date_filter_writes(format_string):
    """The status board and the saved requests' list write their dates with date_writer(); each
    date, in each zone, reads as Django's date filter writes it, with the format's numbers
    written by date_writer itself or any other character by Django."""
    from django.utils import dateformat

    from services.views.language import date_writer

    write = date_writer(format_string)
    for naive in DATES:
        for value in (naive, timezone.make_aware(naive, ZoneInfo("Asia/Shanghai")),
                      naive.replace(tzinfo=UTC), timezone.make_aware(naive, ZoneInfo(
                          "Europe/Berlin"))):
            assert write(value) == dateformat.format(value, format_string), (value, format_string)
