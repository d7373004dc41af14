from django.conf import settings


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
