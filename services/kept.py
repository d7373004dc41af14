"""Rows that every logged-in request reads, kept by each server process while nothing they were
read from has changed (services/sessions.py keeps its one statement's row: the session, its
user and, on a call's route, the service called with its team and the user's membership).

A kept row is only served while three things hold:
- the **generation** it was read under is still the generation now. The generation is 8 bytes
  shared by every process of this machine that uses the same database (a small file mapped in
  memory: path_of()): every save or delete of a model in WATCHED, through Django, writes new
  random bytes there, once when it happens and once more after its transaction commits. A
  reader takes the generation before its statement, so a change that commits after the
  statement makes the row stale, in every process at once: a logout, a changed password, a
  deactivated user, a member removed, a service changed or deleted;
- it is younger than EASPORTAL_SESSION_CACHE_S seconds (0: nothing is kept). This bounds what
  no signal sees: a change made by another machine on the same database, or by SQL outside
  Django (QuerySet.update() included: code that updates these tables so calls changed());
- the reader's own checks pass again on it (services/sessions.py checks a kept session's
  expiry against the clock each time; Django checks the user, active and the password's hash).

Only rows are kept, never instances: each request builds its own from the row, as from a
statement's."""

import mmap
import os
import tempfile
from time import monotonic

from django.conf import settings
from django.db import connections, transaction

# Every model a kept row is read from: what any of them saves or deletes changes the
# generation (services/apps.py connects the signals).
WATCHED = ("sessions.Session", "auth.User", "services.Team", "services.Membership",
           "services.Service")
MAX_ROWS = 20_000
_SHM = "/dev/shm"


def _directory():
    return _SHM if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK) else tempfile.gettempdir()


def path_of(alias):
    """The file of the generation of the database of alias, as every process configured alike
    finds it: beside an SQLite database's file (where SQLite keeps its own -wal and -shm); for
    any other, one file for this machine's user, in /dev/shm (else the temporary directory),
    which every database of theirs shares: a change to one ends the rows kept from all, which
    costs each a query and never serves a stale row."""
    found = connections[alias].settings_dict
    name = str(found.get("NAME") or "")
    if "sqlite" in found["ENGINE"]:
        if not name or name.startswith("file:") or name == ":memory:":
            return None  # a database of this process alone
        return os.path.realpath(name) + "-easportal-generation"
    return os.path.join(_directory(), f"easportal-generation-{os.getuid()}")


class Generations:
    """The shared generation of each database, or None where it cannot be mapped (then nothing
    is kept)."""

    def __init__(self):
        self._maps = {}

    def _map(self, alias):
        names = connections[alias].settings_dict
        names = (alias, names["ENGINE"], names.get("NAME"), names.get("HOST"), names.get("PORT"))
        found = self._maps.get(names, False)
        if found is False:
            path = path_of(alias)
            found = self._maps[names] = None if path is None else self.open(path)
        return found

    @staticmethod
    def open(path):
        """The file at path, mapped, or None when it cannot be, or is not to be trusted."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError:
            return None
        try:
            status = os.fstat(fd)
            if status.st_uid != os.getuid() or status.st_mode & 0o077:
                return None  # another user's file, or one that others may write
            if status.st_size < 8:
                os.ftruncate(fd, 8)
            return mmap.mmap(fd, 8)
        except OSError:
            return None
        finally:
            os.close(fd)

    def now(self, alias):
        found = self._map(alias)
        return None if found is None else found[:8]

    def change(self, alias):
        found = self._map(alias)
        if found is not None:
            found[:8] = os.urandom(8)


GENERATIONS = Generations()


class KeptRows:
    def __init__(self):
        self._rows = {}

    def taken(self, alias):
        """What a reader takes before its statement: (generation, time), or None when nothing
        is kept."""
        if settings.EASPORTAL_SESSION_CACHE_S <= 0:
            return None
        generation = GENERATIONS.now(alias)
        return None if generation is None else (generation, monotonic())

    def get(self, key, taken):
        """The row kept for key, or None; taken: taken() now."""
        found = self._rows.get(key)
        if found is None:
            return None
        generation, at, row = found
        if generation == taken[0] and taken[1] - at < settings.EASPORTAL_SESSION_CACHE_S:
            return row
        self._rows.pop(key, None)
        return None

    def put(self, key, taken, row):
        """Keeps row, read by a statement that ran after taken (taken())."""
        if len(self._rows) >= MAX_ROWS:
            self._rows.clear()
        generation, at = taken
        self._rows[key] = (generation, at, tuple(row))


KEPT = KeptRows()


def changed(using="default", **_signal):
    """Every kept row of the database `using` is stale: now, and again once the transaction
    that holds the change, if any, commits (a reader between the two may have read the state
    before it)."""
    GENERATIONS.change(using)
    transaction.on_commit(lambda: GENERATIONS.change(using), using=using)
