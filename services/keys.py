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

from services import access, audit
from services.auth import USER_BY_PK, UserBackend
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


def authenticate(raw: str, service: str | None = None) -> Any:
    """The user a key stands for, with the rights they have now, after counting the request;
    raises Refusal: 401 for a key that does not open, 429 past the rate. service: the slug of
    the service the request calls, read with the user (services/access.py)."""
    if not _SHAPE.fullmatch(raw):
        raise refused()
    window = int(time.time() // 60)
    read: Any = None  # the user, when read with the count
    if settings.REDIS_URL:
        counted = _count_in_redis(raw, window)
    else:
        counted, read = _count(raw, window, service)
    if counted is None:
        raise refused()
    user_id, count = counted
    if count > settings.EASPORTAL_KEY_RATE_PER_MIN:
        retry = 60 - int(time.time()) % 60
        raise Refusal(429, _("This key made %(limit)s requests this minute, its limit: try again "
                             "in %(seconds)s s.") % {"limit": settings.EASPORTAL_KEY_RATE_PER_MIN,
                                                     "seconds": retry},
                      headers={"Retry-After": str(retry)})
    backend = UserBackend()  # None for a user who may no longer log in
    if read is not None:
        user = read if backend.user_can_authenticate(read) else None
    elif service is None:
        user = backend.get_user(user_id)
    else:
        user = backend.get_user_reading_service(user_id, service)
    if user is None:
        raise refused()
    return user


# A key's hash -> its user's pk, for the keys this process has counted: a key belongs to one
# user for its whole life, so on PostgreSQL the next count also reads that user and the service
# called, in the same statement (_count()).
_users_of_keys: dict[str, Any] = {}
MAX_KEYS = 20_000


def _count(raw: str, window: int, service: str | None = None,
           ) -> tuple[tuple[int, int] | None, Any]:
    """((user id, requests of this minute) for a key that opens, counting this one, or None;
    the user, read with the service in the same statement when it could be, or None)."""
    alias = router.db_for_write(ApiKey)
    connection = connections[alias]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    hashed = digest(raw)
    statement = _COUNT % {"table": connection.ops.quote_name(ApiKey._meta.db_table)}
    params = [window, window, now, hashed, now]
    guess = _users_of_keys.get(hashed)
    # SQLite runs no UPDATE in a WITH, and its statements cost no round trip anyway.
    if service is not None and guess is not None and connection.vendor == "postgresql":
        row, user = access.read_after_with_service(statement, params, 2, USER_BY_PK, service,
                                                   guess)
        if row is None or row[0] != guess:
            user = None
    else:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
        user = None
    if row is None:
        return None, None
    if len(_users_of_keys) >= MAX_KEYS:
        _users_of_keys.clear()
    _users_of_keys[hashed] = row[0]
    return (row[0], row[1]), user


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
