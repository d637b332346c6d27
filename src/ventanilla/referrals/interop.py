"""The interoperable referral payload ("ventanilla.referral/1"): one referral as another agency's
system (or a printed inter-agency referral form) reads it.

Documented in docs/referral-payload.md and described by data/referral-payload.schema.json. The client
section holds only the referral's projection (field code, label, value: what its service category may
share); the person's record is never read here beyond the consent answers. The partner's view and the
sender's differ only in what the sender wrote for its own staff (notes, the person's and case's
references), which the partner never gets.
"""

from __future__ import annotations

import datetime
import json
from functools import cache
from pathlib import Path
from typing import Any

from ventanilla.directory.models import Category
from ventanilla.referrals import lifecycle, projection
from ventanilla.referrals.lifecycle import Side
from ventanilla.referrals.models import Referral, ReferralEvent, ReferralStatus
from ventanilla.registration.models import Consent, ConsentPurpose, Person

SCHEMA_ID = "ventanilla.referral/1"
SCHEMA_FILE = Path(__file__).parent / "data" / "referral-payload.schema.json"
# Statuses only the partner can set: a note written with them is the partner's, any other the sender's.
PARTNER_STATUSES = frozenset(
    to for to, (_sources, sides) in lifecycle.ALLOWED.items() if Side.PARTNER in sides
)


def _at(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _referral_consent(referral: Referral) -> dict[str, Any]:
    """The consent to referral that allowed it: the latest given before the referral was made."""
    consent = (
        Consent.objects.filter(
            person_id=referral.person_id,
            purpose=ConsentPurpose.REFERRAL,
            given=True,
            recorded_at__lte=referral.created_at,
        )
        .order_by("-recorded_at", "-pk")
        .first()
    )
    contact = Consent.objects.filter(
        person_id=referral.person_id, purpose=ConsentPurpose.FOLLOW_UP, given=True, withdrawn_at__isnull=True
    ).exists()
    return {
        # A referral is only ever made with consent (services.create_referral refuses otherwise).
        "referral": {
            "given": True,
            "given_at": _at(consent.recorded_at if consent else None),
            "withdrawn_at": _at(consent.withdrawn_at if consent else None),
        },
        "may_contact": contact,
    }


def _person_reference(referral: Referral) -> str | None:
    """The reference alone: the person's record (names, answers) is not loaded for a payload."""
    reference: str | None = (
        Person.objects.filter(pk=referral.person_id).values_list("reference", flat=True).first()
    )
    return reference


def event_view(event: ReferralEvent, *, side: str) -> dict[str, Any]:
    """One step of the timeline; the note is the sender's to read (the partner has its own in `outcome`)."""
    return {
        "status": event.to_status,
        "from_status": event.from_status or None,
        "at": _at(event.at),
        "via": event.via,
        "reason": event.reason or None,
        "reason_label": lifecycle.reason_label(event.to_status, event.reason) if event.reason else None,
        "note": (event.note or "") if side == Side.SENDER else None,
    }


def referral_payload(referral: Referral, *, side: str) -> dict[str, Any]:
    """The referral as `side` ("sender" or "partner") may see it, ready for JSON.

    Call it only for a referral the caller was allowed to read (`Referral.objects.get_for`).
    """
    if side not in (Side.SENDER, Side.PARTNER):
        raise ValueError(f"Unknown side {side!r}.")
    sender = side == Side.SENDER
    events = list(referral.events.order_by("at", "pk"))
    point = referral.service_point
    partner = referral.partner_organisation
    provider = referral.pathway.provider
    return {
        "schema": SCHEMA_ID,
        "id": referral.pk,
        "reference": referral.reference,
        "side": str(side),
        "status": referral.status,
        "status_label": str(ReferralStatus(referral.status).label),
        "reason": referral.reason or None,
        "reason_label": lifecycle.reason_label(referral.status, referral.reason) if referral.reason else None,
        "urgency": referral.urgency,
        "language": referral.language,
        "dates": {
            "created": _at(referral.created_at),
            "sent": _at(referral.sent_at),
            "respond_by": _at(referral.respond_by),
            "answered": _at(referral.answered_at),
            "accepted": _at(referral.accepted_at),
            "delivered": _at(referral.delivered_at),
            "closed": _at(referral.closed_at),
            "status_changed": _at(referral.status_changed_at),
        },
        "referring": {
            "organisation": {"id": referral.organisation_id, "name": referral.organisation.name},
            "site": {"id": referral.site_id, "name": referral.site.name} if referral.site else None,
        },
        "receiving": {
            "organisation": {"id": partner.pk, "name": partner.name} if partner else None,
            "provider": {"id": provider.pk, "name": provider.name},
            "pathway": {
                "id": referral.pathway_id,
                "name": referral.pathway.name,
                "response_hours": referral.pathway.response_hours,
            },
        },
        "service": {"category": referral.category, "label": str(Category(referral.category).label)},
        "service_point": (
            {"id": point.pk, "name": point.name, "address": point.address} if point is not None else None
        ),
        "need": referral.need,
        "appointment": referral.appointment,
        "consent": _referral_consent(referral),
        "client": {
            "person": _person_reference(referral) if sender else None,
            "items": [
                {"field": item.field, "label": item.label, "value": item.value}
                for item in projection.loads(referral.shared)
            ],
        },
        "case": referral.case.reference if sender and referral.case is not None else None,
        "outcome": {
            "partner_note": referral.outcome_note,
            "sender_notes": (
                [e.note for e in events if e.note and e.to_status not in PARTNER_STATUSES] if sender else []
            ),
        },
        "events": [event_view(event, side=side) for event in events],
    }


@cache
def json_schema() -> dict[str, Any]:
    """The payload's JSON Schema (draft 2020-12), as shipped in data/."""
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def openapi_schema() -> dict[str, Any]:
    """The same schema in OpenAPI 3.0's dialect, for the API docs: one description, two readers."""
    root = json_schema()
    definitions = root.get("$defs", {})

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = definitions[node["$ref"].rsplit("/", 1)[1]]
            return convert({**target, **{k: v for k, v in node.items() if k != "$ref"}})
        choices = node.get("anyOf")
        if choices and {"type": "null"} in choices and len(choices) == 2:
            # OpenAPI 3.0 has no null type: "X or null" is X, nullable.
            (other,) = [choice for choice in choices if choice != {"type": "null"}]
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return {**convert(other), **convert(rest), "nullable": True}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in {"$schema", "$id", "$defs", "$comment", "examples"}:
                continue
            if key == "const":
                out["enum"] = [value]
            elif key == "type" and isinstance(value, list):
                kinds = [kind for kind in value if kind != "null"]
                out["type"] = kinds[0]
                if len(kinds) < len(value):
                    out["nullable"] = True
            elif key in {"properties", "$defs"}:
                out[key] = {name: convert(child) for name, child in value.items()}
            else:
                out[key] = convert(value)
        return out

    converted: dict[str, Any] = convert(root)
    return converted
