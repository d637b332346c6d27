"""Encrypted columns and blind indexes, read back from the real database — and the leak test."""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from ventanilla.accounts import services
from ventanilla.accounts.models import User
from ventanilla.core import crypto
from ventanilla.core.fields import BlindIndexField, EncryptedDateField, EncryptedTextField, encrypted_fields
from ventanilla.testing.factories import UserFactory

LATIN_NAME = "Ahmad Khalil Haddad"
ARABIC_NAME = "أحمد خليل حداد"
PHONE = "+50255512345"
EMAIL = "ahmad.haddad@example.org"


def raw_user_row(user_id: int) -> dict[str, str]:
    """The stored columns, read past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT full_name, email, phone, email_index, phone_index FROM accounts_user WHERE id = %s",
            [user_id],
        )
        row = cursor.fetchone()
    return dict(zip(["full_name", "email", "phone", "email_index", "phone_index"], row, strict=True))


def make_user(**values: str) -> User:
    return services.create_user(username=values.pop("username", "ahmad"), password=None, **values)


# --- EncryptedTextField ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_encrypted_columns_hold_ciphertext():
    # given
    user = make_user(full_name=LATIN_NAME, email=EMAIL, phone=PHONE)
    # when
    row = raw_user_row(user.pk)
    # then every personal column is a token that decrypts to the value, and shows nothing of it
    for column, value in (("full_name", LATIN_NAME), ("email", EMAIL), ("phone", PHONE)):
        assert row[column].startswith("v1:")
        assert value not in row[column]
        assert crypto.decrypt(row[column]) == value


@pytest.mark.django_db
def test_the_orm_returns_plaintext():
    # given
    user = make_user(full_name=ARABIC_NAME, email=EMAIL, phone=PHONE)
    # when
    loaded = User.objects.get(pk=user.pk)
    values = User.objects.filter(pk=user.pk).values("full_name", "email", "phone").get()
    # then
    assert (loaded.full_name, loaded.email, loaded.phone) == (ARABIC_NAME, EMAIL, PHONE)
    assert values == {"full_name": ARABIC_NAME, "email": EMAIL, "phone": PHONE}


@pytest.mark.django_db
def test_saving_again_writes_a_fresh_token():
    # given
    user = make_user(full_name=LATIN_NAME)
    before = raw_user_row(user.pk)["full_name"]
    # when
    user.full_name = "Ahmad K. Haddad"
    user.save()
    # then
    after = raw_user_row(user.pk)["full_name"]
    assert after != before
    assert User.objects.get(pk=user.pk).full_name == "Ahmad K. Haddad"


@pytest.mark.django_db
@pytest.mark.parametrize("lookup", ["exact", "iexact", "icontains", "startswith", "in", "gt"])
def test_filtering_on_an_encrypted_field_is_refused(lookup):
    value = [LATIN_NAME] if lookup == "in" else LATIN_NAME
    with pytest.raises(FieldError) as raised:
        User.objects.filter(**{f"full_name__{lookup}": value})
    assert str(raised.value) == (
        f"User.full_name is encrypted and cannot be filtered with '{lookup}'; "
        "filter on its blind index instead."
    )


@pytest.mark.django_db
def test_filtering_with_a_plain_value_is_refused_too():
    with pytest.raises(FieldError):
        User.objects.filter(phone=PHONE)
    with pytest.raises(FieldError):
        User.objects.exclude(email=EMAIL)


@pytest.mark.django_db
def test_isnull_is_the_one_allowed_lookup():
    # given
    make_user(full_name=LATIN_NAME)
    # when / then (the columns are NOT NULL, blank values are empty strings)
    assert User.objects.filter(full_name__isnull=True).count() == 0
    assert User.objects.filter(full_name__isnull=False).count() == 1


@pytest.mark.django_db
def test_blank_stays_blank():
    # given a user without email or phone
    user = make_user(full_name=LATIN_NAME)
    # when
    row = raw_user_row(user.pk)
    loaded = User.objects.get(pk=user.pk)
    # then nothing is encrypted or indexed for the blank columns
    assert (row["email"], row["phone"], row["email_index"], row["phone_index"]) == ("", "", "", "")
    assert (loaded.email, loaded.phone) == ("", "")


def test_none_passes_through():
    field = EncryptedTextField(null=True, blank=True)
    assert field.get_prep_value(None) is None
    assert field.from_db_value(None, None, connection) is None


def test_a_non_blank_field_encrypts_even_an_empty_string():
    # given a field that does not allow blank: "" is a value like any other
    field = EncryptedTextField()
    # when
    token = field.get_prep_value("")
    # then
    assert token.startswith("v1:")
    assert field.from_db_value(token, None, connection) == ""


def test_encrypted_date_field_round_trip():
    # given
    field = EncryptedDateField(blank=True)
    born = datetime.date(1990, 5, 17)
    # when
    token = field.get_prep_value(born)
    from_text = field.get_prep_value("1990-05-17")
    # then
    assert crypto.decrypt(token) == "1990-05-17"
    assert field.from_db_value(token, None, connection) == born
    assert field.from_db_value(from_text, None, connection) == born
    assert field.to_python("1990-05-17") == born


def test_encrypted_date_field_blank_is_none():
    field = EncryptedDateField(blank=True)
    assert field.get_prep_value("") == ""
    assert field.from_db_value("", None, connection) is None
    assert field.from_db_value(None, None, connection) is None


def test_encrypted_fields_of_the_user_model():
    assert [f.name for f in encrypted_fields(User)] == ["full_name", "email", "phone", "totp_secret"]


# --- BlindIndexField -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_blind_indexes_are_filled_on_save():
    # given / when
    user = make_user(email=EMAIL, phone="+502 5551-2345")
    # then
    row = raw_user_row(user.pk)
    assert row["email_index"] == crypto.blind_index(EMAIL, purpose="user.email")
    assert row["phone_index"] == crypto.blind_index(
        PHONE, purpose="user.phone", normaliser=crypto.normalise_phone
    )


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [EMAIL, "Ahmad.Haddad@Example.org", "  AHMAD.HADDAD@EXAMPLE.ORG "])
def test_find_user_by_email_through_the_blind_index(typed):
    # given two users
    user = make_user(username="ahmad", email=EMAIL)
    make_user(username="other", email="other@example.org")
    # when / then
    assert services.find_user_by_email(typed) == user


@pytest.mark.django_db
def test_find_user_by_email_unknown_gives_none():
    make_user(email=EMAIL)
    assert services.find_user_by_email("nobody@example.org") is None


@pytest.mark.django_db
def test_phone_lookup_value_finds_any_formatting():
    # given
    user = make_user(phone="+502 5551 2345")
    field = User._meta.get_field("phone_index")
    # when
    found = User.objects.filter(phone_index=field.lookup_value("+٥٠٢-٥٥٥١-٢٣٤٥")).get()
    # then
    assert found == user


@pytest.mark.django_db
def test_changing_the_email_moves_the_index():
    # given
    user = make_user(email=EMAIL)
    # when
    user.email = "new.address@example.org"
    user.save()
    # then
    assert services.find_user_by_email("new.address@example.org") == user
    assert services.find_user_by_email(EMAIL) is None


@pytest.mark.django_db
def test_changing_the_email_with_update_fields_moves_the_index():
    # given
    user = make_user(email=EMAIL)
    # when
    user.email = "new.address@example.org"
    user.save(update_fields=["email"])
    # then
    assert services.find_user_by_email("new.address@example.org") == user
    assert services.find_user_by_email(EMAIL) is None


@pytest.mark.django_db
def test_find_user_by_empty_email_finds_nobody():
    # given a user without email
    UserFactory(username="no-email", email="")
    # when / then
    assert services.find_user_by_email("") is None
    assert User._meta.get_field("email_index").lookup_value("") is None


@pytest.mark.django_db
def test_find_user_by_spaces_finds_nobody():
    UserFactory(username="no-email", email="")
    assert services.find_user_by_email("   ") is None


def test_blind_index_field_deconstructs_to_its_arguments():
    # given
    email_index = User._meta.get_field("email_index")
    phone_index = User._meta.get_field("phone_index")
    # when
    _name, path, args, email_kwargs = email_index.deconstruct()
    _name, _path, _args, phone_kwargs = phone_index.deconstruct()
    # then defaults are left out, so migrations stay short
    assert path == "ventanilla.core.fields.BlindIndexField"
    assert args == []
    assert email_kwargs == {"source": "email", "purpose": "user.email"}
    assert phone_kwargs == {"source": "phone", "purpose": "user.phone", "phone": True}


@pytest.mark.parametrize(
    "option", [{"max_length": 80}, {"db_index": False}, {"blank": False}, {"editable": True}]
)
def test_blind_index_field_keeps_non_default_options_when_deconstructed(option):
    # given a field built with one option differing from this field's default
    field = BlindIndexField(source="code", purpose="thing.code", **option)
    # when it is written to a migration and rebuilt from it
    _name, _path, args, kwargs = field.deconstruct()
    rebuilt = BlindIndexField(*args, **kwargs)
    # then
    assert kwargs == {"source": "code", "purpose": "thing.code", **option}
    for name in ("max_length", "db_index", "blank", "editable"):
        assert getattr(rebuilt, name) == getattr(field, name)


# --- The leak test ---------------------------------------------------------------------------------


def database_bytes() -> bytes:
    """Everything the database holds, as an attacker with a copy of the disk or a dump would see it."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(settings_dict["NAME"])
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
        return b"".join(file.read_bytes() for file in files if file.exists())
    assert connection.vendor == "postgresql"
    command = ["pg_dump", "-h", settings_dict["HOST"] or "localhost", "-U", settings_dict["USER"]]
    if settings_dict["PORT"]:
        command += ["-p", str(settings_dict["PORT"])]
    env = {**os.environ, "PGPASSWORD": settings_dict["PASSWORD"] or ""}
    result = subprocess.run(
        [*command, settings_dict["NAME"]], env=env, capture_output=True, timeout=120, check=True
    )
    return result.stdout


def encodings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]


@pytest.mark.django_db(transaction=True)
def test_personal_values_never_reach_the_database_in_clear():
    # given two people, written and changed through the normal services (committed: transaction=True)
    control = "leak-control-7f3a9c"
    latin = services.create_user(
        username=control, password=None, full_name=LATIN_NAME, email=EMAIL, phone=PHONE
    )
    arabic = services.create_user(
        username="leak-second-4b1d", password=None, full_name=ARABIC_NAME, phone="+502 5551-2345"
    )
    latin.phone = "+502 5551 2345"
    latin.save()
    assert User.objects.get(pk=arabic.pk).full_name == ARABIC_NAME  # really stored
    # when
    data = database_bytes()
    lowered = data.lower()
    # then the control, stored in clear, is found: the search works
    assert control.encode() in data
    # and no part of the names, the email or the phone, in any formatting, is
    name_parts = [LATIN_NAME, "ahmad", "khalil", "haddad", ARABIC_NAME, "أحمد", "خليل", "حداد"]
    phones = [PHONE, "50255512345", "55512345", "+502 5551 2345", "5551 2345", "5551-2345", "+502 5551-2345"]
    for needle in [*name_parts, EMAIL, "ahmad.haddad", *phones]:
        for encoded in encodings(needle):
            assert encoded.lower() not in lowered, f"{needle!r} found in the database ({connection.vendor})"
