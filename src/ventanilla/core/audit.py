"""Writing and verifying the hash-chained audit log.

Entries are appended under a lock (an advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions
already serialise writers), so the chain order is the commit order. Callers pass objects and field
names; values never enter the log, which is why the log itself needs no encryption.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from ventanilla.core.models import AuditAction, AuditEntry

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x5645_4E54  # "VENT": one advisory lock for the whole chain


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "organisation": entry.organisation_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "fields": list(entry.fields),
        "detail": entry.detail,
        "previous": entry.previous_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def _organisation_of(obj: models.Model | None) -> int | None:
    if obj is None:
        return None
    value = getattr(obj, "audit_organisation_id", None)
    if value is None:
        value = getattr(obj, "organisation_id", None)
    return int(value) if value is not None else None


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, str) and len(value) > 200:
        raise ValueError(f"Audit detail {key!r} is too long to be an id or code.")
    if isinstance(value, float):
        raise ValueError(f"Audit detail {key!r} must not be a float (hashing needs exact values).")
    # Nested lists and dicts obey the same rules: {"ids": [1.5]} or {"x": {"note": long}} must not slip by.
    if isinstance(value, list | tuple):
        for item in value:
            _check_value(key, item)
    if isinstance(value, dict):
        for item in value.values():
            _check_value(key, item)


def _check_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """Details are ids, codes and counts; a long free text is almost certainly a leak of a value."""
    for key, value in detail.items():
        _check_value(key, value)
    return detail


@transaction.atomic
def record(
    action: str,
    *,
    by: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    organisation_id: int | None = None,
    fields: Sequence[str] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. `by` is a user (or None for the system), never a name."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
    if obj is not None:
        object_type, object_id = _object_ref(obj)
        if organisation_id is None:
            organisation_id = _organisation_of(obj)
    last = AuditEntry.objects.order_by("-id").values_list("entry_hash", flat=True).first()
    entry = AuditEntry(
        at=timezone.now(),
        actor_id=getattr(by, "pk", None)
        if by is not None and getattr(by, "is_authenticated", False)
        else None,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        fields=sorted(fields),
        detail=_check_detail(dict(detail or {})),
        previous_hash=last or GENESIS,
    )
    entry.entry_hash = compute_hash(entry)
    entry.save()
    return entry


def record_read(obj: models.Model, *, by: Any, purpose: str = "") -> AuditEntry:
    return record(AuditAction.READ, by=by, obj=obj, detail={"purpose": purpose} if purpose else None)


def record_change(
    action: str,
    obj: models.Model,
    *,
    by: Any,
    fields: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    return record(action, by=by, obj=obj, fields=list(fields), detail=detail)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    head: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def _entries(batch_size: int) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        batch = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk


def verify_chain(
    *, expected_head: str | None = None, batch_size: int = 2000, progress: Any = None
) -> VerifyResult:
    """Walk the chain in id order; name the first entry whose hash or link does not hold."""
    previous = GENESIS
    checked = 0
    # The head printed for an empty log is GENESIS: every chain starts from it, so it is always "seen".
    head_seen = expected_head is None or expected_head == GENESIS
    for entry in _entries(batch_size):
        if entry.previous_hash != previous:
            return VerifyResult(
                checked,
                previous,
                entry.pk,
                "does not link to the entry before it (an entry before it was deleted, changed or reordered)",
            )
        if compute_hash(entry) != entry.entry_hash:
            return VerifyResult(checked, previous, entry.pk, "its content does not match its hash (edited)")
        previous = entry.entry_hash
        head_seen = head_seen or previous == expected_head
        checked += 1
        if progress is not None:
            progress(1)
    if not head_seen:
        # Entries written after the head was recorded are fine; losing the recorded head is not.
        return VerifyResult(
            checked,
            previous,
            -1,
            "the recorded head is no longer in the chain (entries at the end were removed or replaced)",
        )
    return VerifyResult(checked, previous)
