"""The only code that touches token ciphertext: encrypt, decrypt, rotate.

Keys come from settings.EASPORTAL_TOKEN_KEYS; the first encrypts, every key decrypts, so a new
key can be put first, `rotate_token_keys` run, and the old key removed with no token lost.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class TokenUnreadable(Exception):
    """The stored ciphertext cannot be decrypted with any configured key."""

    message = _(
        "The stored token cannot be decrypted with the configured keys "
        "(EASPORTAL_TOKEN_KEYS). A maintainer must re-enter the token."
    )

    def __str__(self):
        return str(self.message)


@lru_cache(maxsize=4)
def _cipher(keys):
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def cipher():
    return _cipher(tuple(settings.EASPORTAL_TOKEN_KEYS))


def encrypt_token(plaintext):
    return cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_token(ciphertext):
    try:
        return cipher().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise TokenUnreadable from exc


def rotate_token(ciphertext):
    """Re-encrypt with the first key; raises TokenUnreadable when no key can read it."""
    try:
        return cipher().rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise TokenUnreadable from exc


def token_hint(plaintext):
    # At most the last 4 characters, and never more than a third of a short token.
    shown = min(4, len(plaintext) // 3)
    return plaintext[-shown:] if shown else ""
