"""The only code that touches token ciphertext: encrypt, decrypt, rotate; and the rules a
plaintext token must follow before it is stored.

Keys come from settings.EASPORTAL_TOKEN_KEYS; the first encrypts, every key decrypts, so a new
key can be put first, `rotate_token_keys` run, and the old key removed with no token lost.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext_lazy as _

MAX_TOKEN_CHARS = 4096


class TokenUnreadable(Exception):
    """The stored ciphertext cannot be decrypted with any configured key."""

    message = _(
        "The stored token cannot be decrypted with the configured keys "
        "(EASPORTAL_TOKEN_KEYS). A maintainer must re-enter the token."
    )

    def __str__(self) -> str:
        return str(self.message)


class TokenInvalid(ValueError):
    """A token that may not be stored; str() is the reason, for a person."""


def check_token_text(text: str) -> str:
    """The token as it will be stored (surrounding spaces removed); raises TokenInvalid."""
    token = text.strip()
    if not token:
        raise TokenInvalid(_("Enter the service's token."))
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenInvalid(_("The token is longer than %(limit)s characters.")
                           % {"limit": MAX_TOKEN_CHARS})
    # The token travels in an HTTP header: a line break would split the request.
    if any(ord(char) < 32 or ord(char) == 127 for char in token):
        raise TokenInvalid(_("The token must not contain line breaks or control characters."))
    return token


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.EASPORTAL_TOKEN_KEYS))


def encrypt_token(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_token(ciphertext: str) -> str:
    try:
        return cipher().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise TokenUnreadable from exc


def read_service_token(ciphertext: str) -> str:
    """decrypt_token() for a call in flight: the process keeps the last few hundred it read,
    by their ciphertext and the keys, so a service's calls decrypt its token once (a Fernet
    decryption is a tenth of a millisecond of every call on this machine). A new token, or new
    keys, are a new entry; a token the keys cannot read is not kept."""
    try:
        return _read(tuple(settings.EASPORTAL_TOKEN_KEYS), ciphertext)
    except (InvalidToken, UnicodeError) as exc:
        raise TokenUnreadable from exc


@lru_cache(maxsize=256)
def _read(keys: tuple[str, ...], ciphertext: str) -> str:
    return _cipher(keys).decrypt(ciphertext.encode("ascii")).decode("utf-8")


def rotate_token(ciphertext: str) -> str:
    """Re-encrypt with the first key; raises TokenUnreadable when no key can read it."""
    try:
        return cipher().rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise TokenUnreadable from exc


def token_hint(plaintext: str) -> str:
    # At most the last 4 characters, and never more than a third of a short token.
    shown = min(4, len(plaintext) // 3)
    return plaintext[-shown:] if shown else ""
