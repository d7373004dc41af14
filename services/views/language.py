"""The language switcher, in every page's header (templates/includes/language.html), logged
in or not: Django's set_language, which keeps the choice in a cookie, and for a person who is
logged in, in their profile as well. Logging in (LoginView) brings a kept choice back to a new
browser, and keeps the cookie's choice for a person who had none."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
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
