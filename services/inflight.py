"""Outbound calls in flight, per user and per team (issue 14, defect 5): a member may start calls
that take as long as their service's timeout, and each holds a server thread while it lasts,
so a few could hold every thread and lock everyone out, the login page included. Each call made
for a person (invoke, streamed or not, a saved request, the gateway, a compare) takes a slot
for its user and one for its team for as long as it is in flight; past
EASPORTAL_CALLS_PER_USER or EASPORTAL_CALLS_PER_TEAM, the call is refused at once with 429 and
Retry-After, nothing sent. Capacity runs and probes run in their own processes and have their
own bounds.

The count is kept in each server process (gunicorn's workers each count their own calls): it
guards the threads of the process it runs in, which is what it is for."""

import threading
from collections import Counter
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from services.errors import Refusal

RETRY_AFTER_S = "1"
_lock = threading.Lock()
_users: Counter = Counter()
_teams: Counter = Counter()


class Slot:
    """A call's place; release() (or the end of a with block) gives it back, once."""

    def __init__(self, user_id: Any, team_id: Any) -> None:
        self.user_id, self.team_id = user_id, team_id
        self.held = True

    def release(self) -> None:
        with _lock:
            if not self.held:
                return
            self.held = False
            for counts, key in ((_users, self.user_id), (_teams, self.team_id)):
                counts[key] -= 1
                if counts[key] <= 0:
                    del counts[key]

    def __enter__(self) -> "Slot":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def take(user: Any, team_id: Any) -> Slot:
    """A slot for a call of user's to a service of team_id; Refusal 429 when either is full."""
    per_user, per_team = settings.EASPORTAL_CALLS_PER_USER, settings.EASPORTAL_CALLS_PER_TEAM
    user_id = user.pk
    with _lock:
        if _users[user_id] >= per_user:
            raise Refusal(429, _("You have %(count)s calls in flight, the most one person may "
                                 "have at once; wait for one to end, then send again.")
                          % {"count": per_user}, headers={"Retry-After": RETRY_AFTER_S})
        if _teams[team_id] >= per_team:
            raise Refusal(429, _("Your team has %(count)s calls in flight, the most a team may "
                                 "have at once; wait for one to end, then send again.")
                          % {"count": per_team}, headers={"Retry-After": RETRY_AFTER_S})
        _users[user_id] += 1
        _teams[team_id] += 1
    return Slot(user_id, team_id)


def held(user: Any = None, team_id: Any = None) -> int:
    """How many calls of this user's (or this team's) are in flight in this process."""
    with _lock:
        return _users[user.pk] if user is not None else _teams[team_id]
