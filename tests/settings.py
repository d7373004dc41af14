"""The environment the test suite runs in; the configuration itself is easportal/settings.py.

The suite never reads the developer's .env (what `make run` wrote must not change a test), so
every variable it depends on is set here. DATABASE_URL passes through: .ci/run sets it to run
the same suite on PostgreSQL.
"""

import atexit
import os
import shutil
import tempfile

_scratch = tempfile.mkdtemp(prefix="easportal-tests-")
# Each run (and each process a test starts) leaves nothing behind in /tmp.
atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
os.environ.update({
    "EASPORTAL_ENV_FILE": "",
    "DEBUG": "0",
    "SECRET_KEY": "tests-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP",
    "EASPORTAL_TOKEN_KEYS": "dGVzdHMtb25seS1rZXktMDAwMDAwMDAwMDAwMDAwMDA=",
    # Loopback is allowed explicitly, as `make run` does, for the local emulator.
    "EASPORTAL_ALLOWED_ENDPOINT_HOSTS": "*.pai-eas.aliyuncs.com,127.0.0.1,localhost",
    # A process a test starts (tests/processes.py) serves the static files its suite collected.
    "STATIC_ROOT": (os.environ.get("EASPORTAL_TEST_STATIC_ROOT")
                    or os.path.join(_scratch, "static")),
})

from easportal.settings import *  # noqa: E402, F403
from easportal.settings import DATABASES  # noqa: E402

# A file, not memory: an in-memory database shares one connection and hides locking problems.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(_scratch, "test.sqlite3")}

# A worker started by a test (tests/runs/conftest.py) works on the test database of the suite
# that started it.
if os.environ.get("EASPORTAL_TEST_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["EASPORTAL_TEST_DATABASE_NAME"]

# Hashing passwords slowly protects real accounts, not test ones.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
