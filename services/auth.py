from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Sum

from services import access
from services.compiled import CompiledQuery
from services.sessions import prefetched_user

USER_BY_PK = CompiledQuery(
    get_user_model(), lambda pk: get_user_model()._default_manager.filter(pk=pk), pk=-7301)


class UserBackend(ModelBackend):
    """Django's ModelBackend, with the lookup of the logged-in user that every request makes
    compiled once (services/compiled.py), or already read with the session
    (services/sessions.py)."""

    def get_user(self, user_id):
        user = prefetched_user(user_id) or USER_BY_PK.first(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_reading_service(self, user_id, slug):
        """get_user(), with the service slug read in the same query, for the call that follows
        (services/access.py, read_with_service())."""
        user = access.read_with_service(USER_BY_PK, slug, user_id)
        return user if user is not None and self.user_can_authenticate(user) else None



def client_address(request):
    """The client's address, as log-in throttling sees it.

    Behind N trusted reverse proxies REMOTE_ADDR is the nearest proxy's, so the client is the
    N-th entry from the right of X-Forwarded-For; entries further left are whatever the client
    chose to send.
    """
    proxies = settings.EASPORTAL_TRUSTED_PROXIES
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [address.strip() for address in forwarded if address.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


class LoginThrottle(AxesDatabaseHandler):
    """django-axes' database handler (AXES_HANDLER) with two looser limits beside its own.

    Axes counts the failures of a (username, address) pair and locks the pair at
    AXES_FAILURE_LIMIT. An attacker who tries many usernames from one address, or one username
    from many addresses, never reaches it; so, within the same cool-off, the address is locked
    for every username at EASPORTAL_LOGIN_FAILURES_PER_ADDRESS failures, whatever the
    usernames, and the username from every address at EASPORTAL_LOGIN_FAILURES_PER_USERNAME,
    whatever the addresses (0 turns either off). A log-in still clears only its own pair
    (AXES_RESET_ON_SUCCESS with the pair as lockout parameters), so logging in with an account
    of one's own does not wipe the failures of the others. request.easportal_lock says which
    lock holds ("pair", "address" or "username"), for the locked-out page."""

    def get_failures(self, request, credentials=None):
        failures = super().get_failures(request, credentials)
        limit = settings.AXES_FAILURE_LIMIT
        lock = "pair" if failures >= limit else self._wider_lock(request, credentials)
        request.easportal_lock = lock
        # Axes locks at failures >= AXES_FAILURE_LIMIT: a wider lock reads as the pair's limit.
        return max(failures, limit) if lock else failures

    def _wider_lock(self, request, credentials):
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        wider = (("address", settings.EASPORTAL_LOGIN_FAILURES_PER_ADDRESS,
                  {"ip_address": request.axes_ip_address}),
                 ("username", settings.EASPORTAL_LOGIN_FAILURES_PER_USERNAME,
                  {"username": username}))
        for lock, limit, match in wider:
            if limit and None not in match.values():
                failures = recent.filter(**match).aggregate(
                    total=Sum("failures_since_start"))["total"] or 0
                if failures >= limit:
                    return lock
        return ""
