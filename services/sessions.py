"""Django's database sessions, with the lookup every request makes compiled once
(services/compiled.py). SESSION_ENGINE points here."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from services.compiled import CompiledQuery

_BY_KEY = CompiledQuery(Session, lambda key: Session.objects.filter(session_key=key),
                        key="\x00session-key")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # As Django's own, with the expiry checked here rather than in the compiled query.
        session = _BY_KEY.first(key=self.session_key) if self.session_key else None
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session
