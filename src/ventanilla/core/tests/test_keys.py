"""Key rotation: `ventanilla rotate-keys` re-encrypts every stored token under the new first key."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from ventanilla.accounts import services
from ventanilla.accounts.models import User
from ventanilla.core import crypto
from ventanilla.core.keys import encrypted_columns, rotate_column
from ventanilla.core.models import AuditAction, AuditEntry

NEW_KEY = Fernet.generate_key().decode("ascii")
COLUMNS = ["full_name", "email", "phone"]


def raw_tokens() -> dict[int, tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, full_name, email, phone FROM accounts_user ORDER BY id")
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


@pytest.fixture
def five_users(db: None) -> list[User]:
    """Five staff members, encrypted under the current (old) key."""
    return [
        services.create_user(
            username=f"staff{n}",
            password=None,
            full_name=f"Staff Member {n} حداد",
            email=f"staff{n}@example.org",
            phone=f"+50255510{n:03d}",
        )
        for n in range(5)
    ]


def test_encrypted_columns_lists_every_encrypted_field():
    assert [column.label for column in encrypted_columns()] == [
        "accounts.User.full_name",
        "accounts.User.email",
        "accounts.User.phone",
        "accounts.User.totp_secret",
        "questionnaires.Submission.answers_json",
        "registration.Person.given_name",
        "registration.Person.family_name",
        "registration.Person.other_names",
        "registration.Person.date_of_birth",
        "registration.Person.phone",
        "registration.Person.documents",
        "registration.AnswerCorrection.reason",
        "registration.ExportJob.reason",
        "registration.DeviceCredential.ha1",
        "messaging.OutboundMessage.recipient",
        "messaging.OutboundMessage.subject",
        "messaging.OutboundMessage.body",
        "messaging.Gateway.credentials",
        "messaging.Contact.phone",
        "messaging.Contact.handle",
        "messaging.Conversation.notes",
        "messaging.Message.body",
        "messaging.InboundDelivery.payload",
        "referrals.Referral.need",
        "referrals.Referral.shared",
        "referrals.Referral.appointment",
        "referrals.Referral.outcome_note",
        "referrals.ReferralEvent.note",
        "referrals.PartnerWebhook.secret",
        "cases.Case.needs",
        "cases.Case.plan",
        "cases.CaseTask.title",
        "cases.CaseNote.text",
        "cases.CaseTransfer.note",
    ]


@pytest.mark.django_db
def test_column_count_counts_non_null_values(five_users):
    column = encrypted_columns()[0]
    assert column.count() == 5


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_every_value_under_the_new_key(five_users):
    # given
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    before = raw_tokens()
    out = StringIO()
    # when
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, old_key]):
        call_command("rotate_keys", batch_size=2, verbosity=0, stdout=out)
    # then every token changed and the new key alone reads every value (batches covered all rows)
    assert out.getvalue() == "Re-encrypted 15 values in 34 columns.\n"
    after = raw_tokens()
    assert sorted(after) == sorted(before)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        for user in five_users:
            expected = (user.full_name, user.email, user.phone)
            assert tuple(crypto.decrypt(token) for token in after[user.pk]) == expected
            assert all(new != old for new, old in zip(after[user.pk], before[user.pk], strict=True))
            loaded = User.objects.get(pk=user.pk)
            assert (loaded.full_name, loaded.email, loaded.phone) == (user.full_name, user.email, user.phone)


@pytest.mark.django_db
def test_after_rotation_the_old_key_alone_reads_nothing(five_users):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, old_key]):
        call_command("rotate_keys", verbosity=0, stdout=StringIO())
    with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(raw_tokens()[five_users[0].pk][0])


@pytest.mark.django_db
def test_rotate_keys_writes_an_audit_entry(five_users):
    # given
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    # when
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, old_key]):
        call_command("rotate_keys", verbosity=0, stdout=StringIO())
    # then
    entry = AuditEntry.objects.filter(action=AuditAction.KEY_ROTATION).get()
    assert entry.actor_id is None
    assert entry.detail == {"values": 15, "columns": 34}


@pytest.mark.django_db
def test_rotate_keys_without_the_old_key_fails_clearly_and_changes_nothing(five_users):
    # given a key list that forgot the old key
    before = raw_tokens()
    # when
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]), pytest.raises(CommandError) as raised:
        call_command("rotate_keys", verbosity=0, stdout=StringIO())
    # then
    assert str(raised.value) == (
        "No configured key decrypts this value. Keep the old key in FIELD_ENCRYPTION_KEYS until "
        "rotation finishes."
    )
    assert raw_tokens() == before
    assert not AuditEntry.objects.filter(action=AuditAction.KEY_ROTATION).exists()


@pytest.mark.django_db
def test_rotate_column_works_in_batches_over_every_row(five_users):
    # given
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    column = encrypted_columns()[0]
    batches: list[int] = []
    # when
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, old_key]):
        rotated = rotate_column(column, batch_size=2, progress=batches.append)
    # then
    assert rotated == 5
    assert batches == [2, 2, 1]
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        names = sorted(crypto.decrypt(tokens[0]) for tokens in raw_tokens().values())
    assert names == sorted(user.full_name for user in five_users)


@pytest.mark.django_db
def test_rotate_column_skips_blank_values():
    # given a user with no phone
    services.create_user(username="nophone", password=None, full_name="Ahmad")
    phone = next(c for c in encrypted_columns() if c.field.name == "phone")
    # when
    rotated = rotate_column(phone)
    # then
    assert rotated == 0
    assert raw_tokens()[User.objects.get().pk][2] == ""


@pytest.mark.django_db
def test_rotate_keys_on_an_empty_database():
    out = StringIO()
    call_command("rotate_keys", verbosity=0, stdout=out)
    assert out.getvalue() == "Re-encrypted 0 values in 34 columns.\n"
