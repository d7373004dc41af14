"""What a commit promises on each database (easportal/settings.py): a call's history row is
committed before the API answers and survives a crash of the portal; the database does not
flush every commit to disk before answering, on either database, unless told to."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.helpers import BASE_DIR


def setting(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}" if connection.vendor == "postgresql" else f"PRAGMA {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_commit_is_written_but_not_flushed_before_the_answer():
    if connection.vendor == "postgresql":
        assert setting("synchronous_commit") == "off"
    else:
        assert setting("journal_mode") == "wal"
        assert setting("synchronous") == 1  # NORMAL: no flush at a commit in WAL mode


@pytest.mark.parametrize("value, flushed", [("1", True), ("0", False)])
def test_database_synchronous_commit_turns_the_flush_back_on(value, flushed):
    # The settings module as a server reads it, in a process of its own.
    code = ("from django.conf import settings; "
            "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', ''))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "easportal.settings", "EASPORTAL_ENV_FILE": "",
           "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
           "DATABASE_SYNCHRONOUS_COMMIT": value}
    options = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code],
                             cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True)
    assert ("synchronous_commit=off" not in options.stdout) is flushed
