"""Django's database sessions, with the lookups every request makes compiled once
(services/compiled.py). SESSION_ENGINE points here.

A logged-in request reads its session, then its user: two queries, each a round trip to
PostgreSQL. A session key belongs to one user for its whole life (logging in and logging out
each give a new key), so once this process has read a key's session it knows the key's user,
and from then on reads the session and that user in one query. The user is only a guess until
the session's own data names the same user; otherwise the request takes the two queries. The
user read so is handed to the next backend.get_user() of this thread (prefetched_user(), which
services/auth.py asks), and Django then checks it as any other: active, and the session's hash
of its password. A call's route also reads the service it calls in that same query
(reading_service()). That query's row is kept by the process (services/kept.py) while nothing
it was read from changes, so that the next requests of the session make no query at all; a
kept row's session expiry is checked against the clock each time it serves.

A session's data is signed: reading it checks its signature (an HMAC) and decodes it, the same
work for the same text on every request of a session. The data read from a text is kept, per
secret key, and the next request whose session holds that same text gets a copy of it."""

import threading
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db.models import Subquery
from django.db.models.functions import Now
from django.utils import timezone

from services import access
from services.compiled import CompiledQuery
from services.kept import KEPT

_BY_KEY = CompiledQuery(Session, lambda key: Session.objects.filter(session_key=key),
                        key="\x00session-key")
# The user of pk, with the session_data and expire_date (session_expiry) of the session key
# if it has not expired, else None. The expiry is compared with the database's clock (Now()): a
# compiled query keeps the values it was compiled with except its stand-ins, and a datetime is
# no stand-in on SQLite, which gets it as text. Its row may be kept (services/kept.py); a kept
# row's expiry is compared with this clock each time it serves.
def _session_of(key, column):
    return Subquery(Session.objects.filter(session_key=key, expire_date__gt=Now())
                    .values(column)[:1])


_USER_WITH_SESSION = CompiledQuery(
    get_user_model(), lambda pk, key: get_user_model()._default_manager.filter(pk=pk).annotate(
        session_data=_session_of(key, "session_data"),
        session_expiry=_session_of(key, "expire_date")),
    pk=-7302, key="\x00session-key-with-user")

_USER_PK = get_user_model()._meta.pk
# Session key -> the user's pk as the session names it, for the keys this process has read.
_users_of_keys: dict[str, str] = {}
MAX_KEYS = 20_000
_prefetched = threading.local()
# (session data as stored, the secret keys) -> the data read from it, for data whose values are
# all immutable (a session's usual: the user's id, backend and hash), so that a copy of the dict
# is a copy of the data.
_decoded: dict[tuple[str, str, tuple[str, ...]], dict] = {}
_IMMUTABLE = (str, int, float, bool, type(None))


def prefetched_user(user_id):
    """The user that this thread's last session load read with its session, if it is user_id's;
    taken, so that it serves one get_user() only."""
    user = getattr(_prefetched, "user", None)
    _prefetched.user = None
    if user is not None and str(user.pk) == str(user_id):
        return user
    return None


@contextmanager
def reading_service(slug):
    """A session loaded within reads the service slug (None: none) with its user, as the call
    that follows will want it (services/access.py, read_with_service())."""
    _prefetched.service = slug
    try:
        yield
    finally:
        _prefetched.service = None


class SessionStore(db.SessionStore):
    def load(self):
        _prefetched.user = None
        key = self.session_key
        guess = _users_of_keys.get(key) if key else None
        if guess is not None:
            pk, slug = _USER_PK.to_python(guess), getattr(_prefetched, "service", None)
            user = (_USER_WITH_SESSION.first(kept=KEPT, pk=pk, key=key) if slug is None else
                    access.read_with_service(_USER_WITH_SESSION, slug, pk, kept=KEPT, key=key))
            if user is not None and user.session_data is not None:
                text, expiry = user.session_data, user.session_expiry
                # The session's own values stay out of request.user.
                del user.session_data, user.session_expiry
                data = self.decode(text) if expiry > timezone.now() else {}
                if data.get(SESSION_KEY) == guess:
                    _prefetched.user = user
                    return data
        data = super().load()
        if key and self.session_key and SESSION_KEY in data:
            if len(_users_of_keys) >= MAX_KEYS:
                _users_of_keys.clear()
            _users_of_keys[key] = data[SESSION_KEY]
        return data

    def decode(self, session_data):
        known = (session_data, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
        data = _decoded.get(known)
        if data is not None:
            return dict(data)
        data = super().decode(session_data)
        if data and all(isinstance(value, _IMMUTABLE) for value in data.values()):
            if len(_decoded) >= MAX_KEYS:
                _decoded.clear()
            _decoded[known] = dict(data)
        return data

    def _get_session_from_db(self):
        # As Django's own, with the expiry checked here rather than in the compiled query.
        session = _BY_KEY.first(key=self.session_key) if self.session_key else None
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
