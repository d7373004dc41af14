"""Personal keys: making one, revoking one, and on every request that carries one, finding its
owner and counting the request against EASPORTAL_KEY_RATE_PER_MIN (docs/api.md, "Personal keys
and the gateway").

A key is "eap_" and 43 random characters, shown once; the database keeps its SHA-256 hash (a
random key needs no slow hash) and its first 12 characters. The count must hold across
gunicorn's processes, so it is never kept in one process's memory: by default one UPDATE finds
the key, counts the request in the current minute and notes the key's use, atomically; with
REDIS_URL, Redis counts and the database is read (and written once a minute).
"""

import hashlib
import re
import secrets
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from services import audit
from services.auth import UserBackend
from services.errors import Refusal
from services.models import ApiKey, AuditEvent

PREFIX = "eap_"
SHOWN_CHARS = 12
_SHAPE = re.compile(r"eap_[A-Za-z0-9_-]{32,128}")


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def make(user: Any, name: str, expires_at: datetime | None) -> tuple[ApiKey, str]:
    """A new key of user's: (the record, the key itself, to be shown this once)."""
    raw = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(user=user, name=name, prefix=raw[:SHOWN_CHARS],
                                    key_hash=digest(raw), expires_at=expires_at)
        _audit(user, AuditEvent.Action.KEY_CREATED, key)
    return key, raw


def revoke(key: ApiKey, user: Any) -> None:
    with transaction.atomic():
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            _audit(user, AuditEvent.Action.KEY_REVOKED, key)


def _audit(user: Any, action: Any, key: ApiKey) -> None:
    # A person's own keys belong to no team: superusers read these events.
    audit.record(user, action, target=key.name,
                 detail={"key": key.prefix, "name": key.name, "id": key.pk})


def refused() -> Refusal:
    return Refusal(401, _("The key is unknown, revoked or expired: make a new one on your "
                          "keys page, /account/keys/."))


def authenticate(raw: str) -> Any:
    """The user a key stands for, with the rights they have now, after counting the request;
    raises Refusal: 401 for a key that does not open, 429 past the rate."""
    if not _SHAPE.fullmatch(raw):
        raise refused()
    window = int(time.time() // 60)
    counted = _count_in_redis(raw, window) if settings.REDIS_URL else _count(raw, window)
    if counted is None:
        raise refused()
    user_id, count = counted
    if count > settings.EASPORTAL_KEY_RATE_PER_MIN:
        retry = 60 - int(time.time()) % 60
        raise Refusal(429, _("This key made %(limit)s requests this minute, its limit: try again "
                             "in %(seconds)s s.") % {"limit": settings.EASPORTAL_KEY_RATE_PER_MIN,
                                                     "seconds": retry},
                      headers={"Retry-After": str(retry)})
    user = UserBackend().get_user(user_id)  # None for a user who may no longer log in
    if user is None:
        raise refused()
    return user


def _count(raw: str, window: int) -> tuple[int, int] | None:
    """(user id, requests of this minute) for a key that opens, counting this one."""
    alias = router.db_for_write(ApiKey)
    connection = connections[alias]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_COUNT % {"table": connection.ops.quote_name(ApiKey._meta.db_table)},
                       [window, window, now, digest(raw), now])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


_COUNT = (
    "UPDATE %(table)s SET rate_count = CASE WHEN rate_window = %%s THEN rate_count + 1 ELSE 1 "
    "END, rate_window = %%s, last_used_at = %%s WHERE key_hash = %%s AND revoked_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > %%s) RETURNING user_id, rate_count"
)


def _count_in_redis(raw: str, window: int) -> tuple[int, int] | None:
    key = (ApiKey.objects.filter(key_hash=digest(raw), revoked_at__isnull=True)
           .only("pk", "user_id", "expires_at").first())
    if key is None or (key.expires_at is not None and key.expires_at <= timezone.now()):
        return None
    name = f"easportal:key-rate:{key.pk}:{window}"
    try:
        with _redis().pipeline() as pipe:
            count, _expiry = pipe.incr(name).expire(name, 120).execute()
    except Exception as exc:  # the limit cannot be kept: nothing is let through unchecked
        raise Refusal(503, _("The rate limiter (REDIS_URL) cannot be reached; try again "
                             "shortly.")) from exc
    if count == 1:  # the key's first request this minute: note its use, once a minute
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key.user_id, int(count)


_clients: dict[str, Any] = {}


def _redis() -> Any:
    import redis  # only when REDIS_URL is set

    if settings.REDIS_URL not in _clients:
        _clients[settings.REDIS_URL] = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    return _clients[settings.REDIS_URL]
