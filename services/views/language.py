"""The language switcher, in every page's header (templates/includes/language.html), logged
in or not: Django's set_language, which keeps the choice in a cookie, and for a person who is
logged in, in their profile as well. Logging in (LoginView) brings a kept choice back to a new
browser, and keeps the cookie's choice for a person who had none."""

from functools import lru_cache

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.utils import dateformat
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from services.models import Profile

LANGUAGES = dict(settings.LANGUAGES)


@login_not_required
@require_POST
def set_language(request):
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in LANGUAGES:
        Profile.objects.update_or_create(user=request.user, defaults={"language": language})
    return response


class LoginView(auth_views.LoginView):
    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        kept = Profile.language_of(user)
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if kept:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, kept, max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        elif chosen in LANGUAGES:
            Profile.objects.update_or_create(user=user, defaults={"language": chosen})
        return response


# The format characters of Django's date formats that a date writer writes itself, as
# django.utils.dateformat writes them: the numbers of a date and time.
_NUMBERS = {
    "Y": lambda value: f"{value.year:04d}", "m": lambda value: f"{value.month:02d}",
    "n": lambda value: str(value.month), "d": lambda value: f"{value.day:02d}",
    "j": lambda value: str(value.day), "H": lambda value: f"{value.hour:02d}",
    "i": lambda value: f"{value.minute:02d}", "s": lambda value: f"{value.second:02d}",
}


@lru_cache(maxsize=64)
def date_writer(format_string):
    """value -> text, as dateformat.format(value, format_string) (the date filter) writes it,
    for the pages that write a date on each of many rows (the status board's 200): Django's
    formatter looks up the value's time zone on every call, 20 µs a date here, which a format of
    numbers only (the catalog's "Y-m-d H:i:s", "Y年n月j日 H:i:s") never needs. A format with any
    other character is written by Django's formatter."""
    parts = []  # the text between the numbers, and a function for each number
    for position, piece in enumerate(dateformat.re_formatchars.split(format_string)):
        if position % 2 and piece not in _NUMBERS:
            return lambda value: dateformat.format(value, format_string)
        if position % 2:
            parts.append(_NUMBERS[piece])
        elif piece:
            parts.append(dateformat.re_escaped.sub(r"\1", piece))
    return lambda value: "".join(part if type(part) is str else part(value) for part in parts)
