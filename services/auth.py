from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from services.compiled import CompiledQuery

_USER_BY_PK = CompiledQuery(
    get_user_model(), lambda pk: get_user_model()._default_manager.filter(pk=pk), pk=-7301)


class UserBackend(ModelBackend):
    """Django's ModelBackend, with the lookup of the logged-in user that every request makes
    compiled once (services/compiled.py)."""

    def get_user(self, user_id):
        user = _USER_BY_PK.first(pk=user_id)
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
