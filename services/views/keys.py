"""The keys page (/account/keys/): a person's own personal keys, listed, made and revoked
(services/keys.py makes and revokes them, audited).

A new key is shown once, on the page view right after it was made (POST, then redirect). In
between it waits in the session encrypted with the tokens' cipher (services/tokens.py), since
the sessions live in the database, and that view takes it out again: the database, the logs and
every later view have only its hash and prefix. The page is never cached, so neither a reload
nor the back button brings it back."""

import time

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables

from services import access, keys, tokens
from services.forms import KeyForm

# Where the new key waits in the session, and for how long at most: a key made in a tab that
# never reached the next view is not shown hours later on another.
NEW_KEY = "keys.new"
SHOWN_WITHIN_S = 300


@never_cache
@sensitive_variables("raw", "new")
def key_list(request):
    form = KeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key, raw = keys.make(request.user, form.cleaned_data["name"],
                             form.cleaned_data["expires"])
        request.session[NEW_KEY] = {"id": key.pk, "sealed": tokens.encrypt_token(raw),
                                    "at": time.time()}
        messages.success(request, _("Key “%(name)s” made.") % {"name": key.name})
        return redirect("account_keys")
    new = _take_new_key(request)
    return render(request, "services/keys/key_list.html", {
        "keys": access.own_keys(request.user),
        "form": form,
        "new": new,
        "rate": settings.EASPORTAL_KEY_RATE_PER_MIN,
    })


@sensitive_variables("raw", "kept")
def _take_new_key(request):
    """The key made just before this view, {"id", "raw"}, once; None after that."""
    kept = request.session.pop(NEW_KEY, None)
    if not isinstance(kept, dict) or time.time() - kept.get("at", 0) > SHOWN_WITHIN_S:
        return None
    try:
        raw = tokens.decrypt_token(kept.get("sealed", ""))
    except tokens.TokenUnreadable:  # the token keys changed in between
        return None
    return {"id": kept.get("id"), "raw": raw}


@never_cache
def key_revoke(request, id):
    key = access.own_key(request.user, id)
    if request.method == "POST":
        keys.revoke(key, request.user)
        messages.success(request, _("Key “%(name)s” revoked: whatever used it is now refused.")
                         % {"name": key.name})
        return redirect("account_keys")
    return render(request, "services/keys/key_confirm_revoke.html", {"key": key})
