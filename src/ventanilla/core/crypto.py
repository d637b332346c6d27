"""Encryption of personal fields and keyed hashes for exact-match lookup.

Keys come from their own variables (FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY), never from SECRET_KEY, so
rotating the session secret never makes data unreadable. Fernet (AES-128-CBC + HMAC) through
MultiFernet gives authenticated encryption and rotation: the first key encrypts, every key decrypts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

TOKEN_PREFIX = "v1:"  # noqa: S105 - a format marker, not a secret


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key (wrong or missing key)."""


@lru_cache(maxsize=1)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; create one with `ventanilla generate-key`)."
            ) from None
    return MultiFernet(fernets)


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return TOKEN_PREFIX + cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        raise DecryptionError("Value is not a Ventanilla ciphertext.")
    try:
        return cipher().decrypt(token[len(TOKEN_PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):  # a non-ASCII body is no token either
        raise DecryptionError("No configured key decrypts this value.") from None


def rotate(token: str) -> str:
    """Re-encrypt under the first key; raises DecryptionError when no key fits."""
    try:
        body = cipher().rotate(token[len(TOKEN_PREFIX) :].encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        raise DecryptionError("No configured key decrypts this value.") from None
    return TOKEN_PREFIX + body.decode("ascii")


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


# --- Blind index ----------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def normalise_text(value: str) -> str:
    """Case, accents' composed forms and spacing must not defeat an exact match."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def normalise_phone(value: str) -> str:
    """Keep a leading plus and the digits, so '+52 962 123 4567' and '+529621234567' match.

    Digits typed in another script (Arabic-Indic '٥٠٢', full-width '５０２') count as the same digits.
    """
    value = unicodedata.normalize("NFKC", value)
    digits = "".join(str(unicodedata.decimal(char)) for char in value if char.isdecimal())
    return ("+" + digits) if value.strip().startswith("+") else digits


Normaliser = Callable[[str], str]


def blind_index(value: str, *, purpose: str, normaliser: Normaliser = normalise_text) -> str:
    """Keyed hash of a normalised value; `purpose` keeps equal values in two fields unlinkable."""
    key = settings.BLIND_INDEX_KEY.encode("utf-8")
    message = f"{purpose}\x00{normaliser(value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@receiver(setting_changed)
def _reset_cipher(*, setting: str, **kwargs: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _cipher.cache_clear()
