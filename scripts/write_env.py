"""Write a development .env with fresh secrets, unless one exists. Standard library only:
it runs before Django can start, because Django needs these values to start."""

import base64
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if path.exists():
    sys.exit(0)

token_key = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
lines = [
    f"# Written by `make run` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Keep it private: the",
    "# token key below decrypts every stored service token. README.md lists all variables.",
    "DEBUG=1",
    f"SECRET_KEY={secrets.token_urlsafe(50)}",
    f"EASPORTAL_TOKEN_KEYS={token_key}",
    "# Loopback is allowed for the local EAS emulator that make run starts beside the portal;",
    "# the product's default allows *.pai-eas.aliyuncs.com only.",
    "EASPORTAL_ALLOWED_ENDPOINT_HOSTS=*.pai-eas.aliyuncs.com,127.0.0.1,localhost",
]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "w") as env_file:
    env_file.write("\n".join(lines) + "\n")
print(f"Wrote {path} with a new SECRET_KEY and token key.")
