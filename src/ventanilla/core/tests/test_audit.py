"""The hash-chained, append-only audit log: writing, verifying, and catching tampering."""

from __future__ import annotations

import itertools
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import serializers
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ventanilla.accounts import services
from ventanilla.core import audit
from ventanilla.core.models import AppendOnlyError, AuditAction, AuditEntry
from ventanilla.core.tests.helpers import raw_audit_cursor
from ventanilla.testing.factories import SiteFactory, UserFactory


def five_entries() -> list[AuditEntry]:
    return [audit.record(AuditAction.EXPORT, object_type="person", object_id=str(n)) for n in range(5)]


# --- Writing ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_builds_a_chain():
    # when
    entries = five_entries()
    # then each entry links to the one before, from the genesis hash, and its hash covers its content
    assert entries[0].previous_hash == audit.GENESIS == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after.previous_hash == before.entry_hash
    for entry in AuditEntry.objects.all():
        assert entry.entry_hash == audit.compute_hash(entry)
    assert len({e.entry_hash for e in entries}) == 5


@pytest.mark.django_db
def test_record_stores_references_not_values():
    # given
    actor = UserFactory(username="caseworker")
    site = SiteFactory(name="Tecún Umán")
    # when
    entry = audit.record(AuditAction.UPDATE, by=actor, obj=site, fields=["name", "kind"], detail={"n": 2})
    # then
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.actor_id == actor.pk
    assert stored.organisation_id == site.organisation_id
    assert (stored.object_type, stored.object_id) == ("accounts.site", str(site.pk))
    assert stored.fields == ["kind", "name"]
    assert stored.detail == {"n": 2}
    assert str(stored) == f"#{stored.pk} update accounts.site:{site.pk}"


@pytest.mark.django_db
def test_record_takes_the_organisation_of_an_organisation():
    organisation = services.create_organisation(name="Casa Alfa", kind="ngo")
    entry = audit.record(AuditAction.UPDATE, obj=organisation)
    assert entry.organisation_id == organisation.pk


@pytest.mark.django_db
def test_an_explicit_organisation_wins_over_the_objects():
    site = SiteFactory()
    entry = audit.record(AuditAction.UPDATE, obj=site, organisation_id=987)
    assert entry.organisation_id == 987


@pytest.mark.django_db
@pytest.mark.parametrize("by", [None, AnonymousUser()])
def test_record_without_a_signed_in_user_has_no_actor(by):
    entry = audit.record(AuditAction.LOGIN_FAILED, by=by)
    assert entry.actor_id is None
    assert (entry.object_type, entry.object_id, entry.organisation_id) == ("", "", None)


@pytest.mark.django_db
def test_record_refuses_unknown_actions_and_writes_nothing():
    with pytest.raises(ValueError, match=r"^Unknown audit action 'peek'\.$"):
        audit.record("peek")
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_record_change_and_record_read():
    actor = UserFactory()
    site = SiteFactory()
    change = audit.record_change(AuditAction.UPDATE, site, by=actor, fields=("name",))
    read = audit.record_read(site, by=actor, purpose="referral")
    plain_read = audit.record_read(site, by=actor)
    assert (change.action, change.fields) == ("update", ["name"])
    assert (read.action, read.detail) == ("read", {"purpose": "referral"})
    assert plain_read.detail == {}


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ({"note": "x" * 201}, "Audit detail 'note' is too long to be an id or code."),
        ({"score": 0.5}, "Audit detail 'score' must not be a float (hashing needs exact values)."),
        ({"ids": [1, 2.5]}, "Audit detail 'ids' must not be a float (hashing needs exact values)."),
        ({"change": {"note": "y" * 300}}, "Audit detail 'change' is too long to be an id or code."),
        ({"pairs": [[1, "z" * 201]]}, "Audit detail 'pairs' is too long to be an id or code."),
    ],
)
def test_check_detail_refuses_free_text_and_floats(detail, message):
    with pytest.raises(ValueError, match=r"^Audit detail '") as raised:
        audit._check_detail(detail)
    assert str(raised.value) == message


def test_check_detail_accepts_ids_codes_and_counts():
    detail = {"user": 12, "role": "caseworker", "sites": [1, 2], "active": True, "code": "x" * 200}
    assert audit._check_detail(detail) == detail


@pytest.mark.django_db
def test_record_refuses_a_bad_detail_and_writes_nothing():
    with pytest.raises(ValueError, match="too long"):
        audit.record(AuditAction.EXPORT, detail={"note": "Ahmad Khalil Haddad, " * 20})
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_create_user_writes_no_personal_values_to_the_audit_log():
    # given
    full_name, email, phone = "Ahmad Khalil Haddad", "ahmad.haddad@example.org", "+50255512345"
    # when
    user = services.create_user(
        username="ahmad-h", password="a-long-password", full_name=full_name, email=email, phone=phone
    )
    # then the entry names the fields that were set, and holds none of their values
    text = serializers.serialize("json", AuditEntry.objects.all(), ensure_ascii=False)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == ("create", "accounts.user", str(user.pk))
    assert entry.fields == ["email", "full_name", "must_change_password", "phone", "username"]
    for value in (full_name, "Ahmad", "Haddad", email, phone, "55512345", "a-long-password"):
        assert value not in text


# --- Append-only -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_entry_cannot_be_saved_again():
    entry = audit.record(AuditAction.EXPORT)
    entry.object_id = "999"
    with pytest.raises(AppendOnlyError, match="cannot be updated"):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).object_id == ""


@pytest.mark.django_db
def test_an_entry_cannot_be_deleted():
    entry = audit.record(AuditAction.EXPORT)
    with pytest.raises(AppendOnlyError, match="cannot be deleted"):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_querysets_cannot_update_or_delete_entries():
    # given
    entries = five_entries()
    # when / then
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(action="export").update(action="read")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    entries[0].action = "read"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update([entries[0]], ["action"])
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {"export"}
    assert AuditEntry.objects.count() == 5


@pytest.mark.django_db
def test_the_database_refuses_raw_changes_on_postgresql():
    # given
    entry = audit.record(AuditAction.EXPORT)
    if connection.vendor == "postgresql":
        # when / then the trigger refuses UPDATE and DELETE even past the application
        for statement in (
            "UPDATE core_auditentry SET object_id = '999' WHERE id = %s",
            "DELETE FROM core_auditentry WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="the audit log is append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement, [entry.pk])
    else:
        # SQLite has no trigger (whoever holds the file can change it): the application guard holds,
        # and the hash chain is what detects a raw change.
        with pytest.raises(AppendOnlyError):
            AuditEntry.objects.filter(pk=entry.pk).update(object_id="999")
    assert AuditEntry.objects.get(pk=entry.pk).object_id == ""
    assert audit.verify_chain().ok


# --- Verifying -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_chain_passes_on_an_intact_log():
    # given
    entries = five_entries()
    # when
    result = audit.verify_chain(batch_size=2)
    # then
    assert result == audit.VerifyResult(checked=5, head=entries[-1].entry_hash)
    assert result.ok


@pytest.mark.django_db
def test_verify_chain_on_an_empty_log():
    assert audit.verify_chain() == audit.VerifyResult(checked=0, head=audit.GENESIS)


@pytest.mark.django_db
def test_verify_chain_reports_progress():
    five_entries()
    seen: list[int] = []
    audit.verify_chain(progress=seen.append)
    assert seen == [1, 1, 1, 1, 1]


@pytest.mark.django_db
def test_an_edited_entry_is_named():
    # given
    entries = five_entries()
    # when someone changes the third entry's object in the database
    with raw_audit_cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET object_id = '999' WHERE id = %s", [entries[2].pk])
    # then
    result = audit.verify_chain()
    assert (result.broken_id, result.checked) == (entries[2].pk, 2)
    assert result.reason == "its content does not match its hash (edited)"
    assert not result.ok


@pytest.mark.django_db
def test_an_edited_and_rehashed_entry_breaks_the_next_link():
    # given
    entries = five_entries()
    # when the attacker also recomputes the edited entry's own hash
    forged = AuditEntry.objects.get(pk=entries[2].pk)
    forged.object_id = "999"
    with raw_audit_cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET object_id = %s, entry_hash = %s WHERE id = %s",
            ["999", audit.compute_hash(forged), forged.pk],
        )
    # then the entry after it no longer links
    result = audit.verify_chain()
    assert (result.broken_id, result.checked) == (entries[3].pk, 3)
    assert result.reason.startswith("does not link to the entry before it")


@pytest.mark.django_db
def test_a_deleted_entry_is_found_at_the_next_one():
    # given
    entries = five_entries()
    # when
    with raw_audit_cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[2].pk])
    # then
    result = audit.verify_chain()
    assert (result.broken_id, result.checked) == (entries[3].pk, 2)
    assert result.reason == (
        "does not link to the entry before it (an entry before it was deleted, changed or reordered)"
    )


@pytest.mark.django_db
def test_two_swapped_entries_are_found():
    # given
    entries = five_entries()
    first, second = entries[1].pk, entries[2].pk
    # when the two rows exchange places
    with raw_audit_cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET id = %s WHERE id = %s", [-1, first])
        cursor.execute("UPDATE core_auditentry SET id = %s WHERE id = %s", [first, second])
        cursor.execute("UPDATE core_auditentry SET id = %s WHERE id = %s", [second, -1])
    # then the first slot of the swap is named
    result = audit.verify_chain()
    assert (result.broken_id, result.checked) == (first, 1)
    assert result.reason.startswith("does not link to the entry before it")


@pytest.mark.django_db
def test_expected_head_detects_a_removed_tail():
    # given a head hash noted earlier
    entries = five_entries()
    head = entries[-1].entry_hash
    # when the last entry disappears
    with raw_audit_cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[-1].pk])
    # then the chain alone still holds, but not against the noted head
    assert audit.verify_chain().ok
    result = audit.verify_chain(expected_head=head)
    assert (result.broken_id, result.checked, result.head) == (-1, 4, entries[-2].entry_hash)
    assert result.reason == (
        "the recorded head is no longer in the chain (entries at the end were removed or replaced)"
    )


@pytest.mark.django_db
def test_expected_head_passes_when_it_matches():
    entries = five_entries()
    assert audit.verify_chain(expected_head=entries[-1].entry_hash).ok


@pytest.mark.django_db
def test_entries_written_after_the_recorded_head_are_fine():
    # given a head noted in the middle of the log's life
    head = five_entries()[-1].entry_hash
    # when work goes on
    later = audit.record(AuditAction.LOGIN)
    # then
    assert audit.verify_chain(expected_head=head) == audit.VerifyResult(checked=6, head=later.entry_hash)


@pytest.mark.django_db
def test_the_head_of_an_empty_log_stays_valid():
    # given the head printed by `audit-verify` on a fresh install (no entry yet)
    head = audit.verify_chain().head
    # when entries are written, then
    assert head == audit.GENESIS
    assert audit.verify_chain(expected_head=head).ok
    five_entries()
    assert audit.verify_chain(expected_head=head).ok


@pytest.mark.django_db
def test_an_unknown_head_is_reported():
    five_entries()
    result = audit.verify_chain(expected_head="f" * 64)
    assert (result.broken_id, result.checked) == (-1, 5)


@pytest.mark.django_db
def test_a_replaced_tail_loses_the_recorded_head():
    # given
    entries = five_entries()
    head = entries[-1].entry_hash
    # when the last entry is removed and a new, well-chained one written in its place
    with raw_audit_cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[-1].pk])
    audit.record(AuditAction.EXPORT, object_type="person", object_id="4")
    # then the chain holds, but the recorded head is gone
    assert audit.verify_chain().ok
    result = audit.verify_chain(expected_head=head)
    assert (result.broken_id, result.checked) == (-1, 5)


# --- audit-verify command --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("verbosity", [0, 1])
def test_audit_verify_command_reports_an_intact_log(verbosity):
    # given
    entries = five_entries()
    out = StringIO()
    # when
    call_command("audit_verify", verbosity=verbosity, stdout=out)
    # then
    assert out.getvalue() == f"Audit log intact: 5 entries. Head: {entries[-1].entry_hash}\n"


@pytest.mark.django_db
def test_audit_verify_command_fails_on_an_edited_entry():
    entries = five_entries()
    with raw_audit_cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET action = 'read' WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError) as raised:
        call_command("audit_verify", verbosity=0)
    assert str(raised.value) == (
        f"Audit log broken at entry #{entries[1].pk}: its content does not match its hash (edited). "
        "1 entries verified."
    )


@pytest.mark.django_db
def test_audit_verify_command_with_expect_head_fails_on_a_removed_tail():
    entries = five_entries()
    with raw_audit_cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entries[-1].pk])
    with pytest.raises(CommandError) as raised:
        call_command("audit_verify", "--expect-head", entries[-1].entry_hash, verbosity=0)
    assert str(raised.value) == (
        "Audit log broken at the end of the log: the recorded head is no longer in the chain "
        "(entries at the end were removed or replaced). 4 entries verified."
    )


def test_no_object_gives_no_reference_and_no_organisation():
    assert audit._object_ref(None) == ("", "")
    assert audit._organisation_of(None) is None
