"""Field encryption (Fernet with rotation) and the keyed blind index."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from ventanilla.core import crypto
from ventanilla.core.crypto import DecryptionError

OLD_KEY = Fernet.generate_key().decode("ascii")
NEW_KEY = Fernet.generate_key().decode("ascii")
ARABIC_NAME = "أحمد خليل حداد"


# --- Encryption ------------------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["Ahmad Khalil Haddad", ARABIC_NAME, "José Ñandú 🇬🇹", "", "x" * 5000])
def test_encrypt_decrypt_round_trip(plaintext):
    # when
    token = crypto.encrypt(plaintext)
    # then
    assert token.startswith("v1:")
    assert crypto.decrypt(token) == plaintext


def test_the_token_does_not_contain_the_plaintext():
    token = crypto.encrypt("Ahmad Khalil Haddad")
    assert "Ahmad" not in token
    assert "Haddad" not in token


def test_tokens_differ_for_the_same_plaintext():
    # Equal names must not give equal ciphertexts, or the column itself links people.
    assert crypto.encrypt(ARABIC_NAME) != crypto.encrypt(ARABIC_NAME)


def test_decryption_with_a_wrong_key_raises_decryption_error():
    # given a value encrypted under one key
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        token = crypto.encrypt("Ahmad Khalil Haddad")
    # when / then another key cannot read it
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(DecryptionError) as raised:
        crypto.decrypt(token)
    assert str(raised.value) == "No configured key decrypts this value."


def test_a_value_without_the_prefix_is_not_a_ciphertext():
    with pytest.raises(DecryptionError) as raised:
        crypto.decrypt("Ahmad Khalil Haddad")
    assert str(raised.value) == "Value is not a Ventanilla ciphertext."


def test_a_tampered_token_raises_decryption_error():
    # given a token with one character changed in the middle
    token = crypto.encrypt("Ahmad")
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    # when / then
    with pytest.raises(DecryptionError):
        crypto.decrypt(tampered)


@pytest.mark.parametrize("function", [crypto.decrypt, crypto.rotate])
def test_a_non_ascii_body_raises_decryption_error_not_a_unicode_error(function):
    # A plaintext that happens to start with the prefix must still give the documented error.
    with pytest.raises(DecryptionError):
        function("v1:" + ARABIC_NAME)


def test_rotation_old_tokens_still_decrypt_with_the_new_key_first():
    # given a token written before the rotation
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        old_token = crypto.encrypt(ARABIC_NAME)
    # when the new key is put first
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        value = crypto.decrypt(old_token)
        new_token = crypto.encrypt("Ahmad")
    # then old tokens decrypt, and new ones are written under the new key only
    assert value == ARABIC_NAME
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert crypto.decrypt(new_token) == "Ahmad"


def test_rotate_re_encrypts_under_the_first_key():
    # given
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        old_token = crypto.encrypt(ARABIC_NAME)
    # when
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        rotated = crypto.rotate(old_token)
    # then the new key alone reads it, the old key alone does not
    assert rotated.startswith("v1:")
    assert rotated != old_token
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert crypto.decrypt(rotated) == ARABIC_NAME
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]), pytest.raises(DecryptionError):
        crypto.decrypt(rotated)


def test_rotate_without_the_old_key_raises_decryption_error():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        old_token = crypto.encrypt("Ahmad")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(DecryptionError) as raised:
        crypto.rotate(old_token)
    assert str(raised.value) == "No configured key decrypts this value."


def test_an_invalid_key_is_reported_by_position_without_echoing_it():
    # given a second key that is not a Fernet key
    bad = "my-password-is-not-a-key"
    # when
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, bad]),
        pytest.raises(ImproperlyConfigured) as raised,
    ):
        crypto.encrypt("x")
    # then
    assert str(raised.value) == (
        "FIELD_ENCRYPTION_KEYS entry 2 is not a valid Fernet key (32 url-safe base64-encoded bytes; "
        "create one with `ventanilla generate-key`)."
    )
    assert bad not in str(raised.value)


def test_generate_key_gives_a_working_fresh_key():
    # when
    key, other = crypto.generate_key(), crypto.generate_key()
    # then
    assert key != other
    with override_settings(FIELD_ENCRYPTION_KEYS=[key]):
        assert crypto.decrypt(crypto.encrypt("Ahmad")) == "Ahmad"


# --- Blind index -----------------------------------------------------------------------------------


def test_blind_index_is_a_deterministic_hex_digest():
    first = crypto.blind_index("ahmad@example.org", purpose="user.email")
    second = crypto.blind_index("ahmad@example.org", purpose="user.email")
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{64}", first)


def test_blind_index_is_keyed():
    # A plain hash of an email could be reversed by hashing a list of emails; a keyed one cannot.
    with override_settings(BLIND_INDEX_KEY="first-key-" + "a" * 32):
        first = crypto.blind_index("ahmad@example.org", purpose="user.email")
    with override_settings(BLIND_INDEX_KEY="second-key-" + "b" * 32):
        second = crypto.blind_index("ahmad@example.org", purpose="user.email")
    assert first != second


def test_purpose_separates_equal_values():
    # The same value in two fields must not be linkable through the indexes.
    as_email = crypto.blind_index("+50255512345", purpose="user.email")
    as_phone = crypto.blind_index("+50255512345", purpose="user.phone")
    assert as_email != as_phone


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ahmad Khalil", "ahmad khalil"),
        ("  AHMAD \t  khalil\n", "ahmad khalil"),
        ("Ｊｏｓé", "josé"),  # full-width letters (NFKC)
        ("Jose\u0301", "josé"),  # e + combining acute accent composes
        ("STRAẞE", "strasse"),  # casefold, not lower
        (ARABIC_NAME, ARABIC_NAME),
        ("\ufeb3", "\u0633"),  # Arabic presentation form of seen, as some keyboards produce
    ],
)
def test_normalise_text(value, expected):
    assert crypto.normalise_text(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "+50255512345",
        "+502 5551 2345",
        "+502-5551-2345",
        "+502 (5551) 2345",
        " +502.5551.2345 ",
        "+٥٠٢٥٥٥١٢٣٤٥",  # Arabic-Indic digits
        "＋５０２ ５５５１ ２３４５",  # full-width plus and digits
    ],
)
def test_normalise_phone_ignores_formatting(value):
    assert crypto.normalise_phone(value) == "+50255512345"


def test_normalise_phone_keeps_the_difference_a_plus_makes():
    assert crypto.normalise_phone("502 5551 2345") == "50255512345"
    assert crypto.normalise_phone("") == ""


def test_blind_index_matches_across_text_formatting():
    name = crypto.blind_index("Ahmad Khalil", purpose="p")
    assert name == crypto.blind_index(" AHMAD  KHALIL ", purpose="p")
    assert name != crypto.blind_index("Ahmad Halil", purpose="p")


def test_blind_index_matches_across_phone_formatting():
    def index(value: str) -> str:
        return crypto.blind_index(value, purpose="user.phone", normaliser=crypto.normalise_phone)

    assert index("+502 5551-2345") == index("+50255512345") == index("+٥٠٢ ٥٥٥١ ٢٣٤٥")
    assert index("+502 5551-2345") != index("+502 5551-2346")
