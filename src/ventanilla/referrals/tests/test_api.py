"""The referrals API: what each side sees, status updates from partners' systems, the interoperable
payload, pathways and webhooks (with a real HTTP delivery to a local server)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ventanilla.accounts import services as accounts
from ventanilla.cases import services as case_services
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.referrals import interop, services, webhooks
from ventanilla.referrals.models import (
    PartnerWebhook,
    Pathway,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Via,
    WebhookDelivery,
)
from ventanilla.registration import services as registration
from ventanilla.testing.factories import UserFactory
from ventanilla.testing.referrals import CHILD_ANSWERS, pathway, provider, register_person

# What the separated child of the builders said that a clinic must never learn.
NEVER_FOR_A_CLINIC = ["Ana", "López", "Tecún", "trata", "trafficking", "retenid", "withheld", "VT-"]


@pytest.fixture
def child(world):
    return register_person(world)


def refer(world, person, path, category="medical", **kwargs):
    return services.create_referral(
        person,
        pathway=path,
        category=category,
        by=world.a.users["caseworker"],
        need="Herida en la pierna",
        **kwargs,
    )


def api(client, method: str, url: str, data: dict[str, Any] | None = None):
    body = json.dumps(data) if data is not None else ""
    return client.generic(method, url, body, content_type="application/json")


def snapshot(referral: Referral) -> dict[str, Any]:
    """Everything a refused status update could have touched."""
    return {
        "referral": Referral.objects.filter(pk=referral.pk).values().get(),
        "events": list(ReferralEvent.objects.filter(referral=referral).values_list("pk", "to_status")),
        "audit": AuditEntry.objects.count(),
    }


def validate(payload: dict[str, Any]) -> None:
    jsonschema.validate(
        payload,
        interop.json_schema(),
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


# --- what the partner sees ------------------------------------------------------------------------


def test_partner_sees_only_active_referrals_to_its_organisation(world, child, client_for):
    # given a referral from A to partner B, and another from A to a clinic without accounts
    to_b = refer(world, child, pathway(world))
    refer(world, register_person(world, given_name="Luz"), pathway(world, with_account=False))
    partner = client_for(world.b.users["partner_focal_point"])
    # when B's focal point lists, opens and reads the timeline
    listed = partner.get("/api/v1/referrals/").json()
    detail = partner.get(f"/api/v1/referrals/{to_b.reference}/")
    events = partner.get(f"/api/v1/referrals/{to_b.reference}/events/")
    # then it finds only the referral to B, as the partner
    assert [(row["reference"], row["side"]) for row in listed["results"]] == [(to_b.reference, "partner")]
    assert detail.status_code == 200
    assert detail.json()["side"] == "partner"
    assert [row["status"] for row in events.json()] == ["sent"]
    # and B's administrator (no receive_referrals) finds nothing and may not list
    admin = client_for(world.b.users["administrator"])
    assert admin.get("/api/v1/referrals/").status_code == 403
    assert admin.get(f"/api/v1/referrals/{to_b.reference}/").status_code == 404


@pytest.mark.parametrize(
    ("who", "change"),
    [
        ("partner_focal_point", {"status": "declined", "reason": "no_capacity"}),
        ("caseworker", {"status": "withdrawn", "reason": "sent_in_error"}),
    ],
    ids=["declined by the partner", "withdrawn by the sender"],
)
def test_partner_no_longer_sees_a_referral_once_declined_or_withdrawn(world, child, client_for, who, change):
    # given a referral to B, answered through the API by one side
    referral = refer(world, child, pathway(world))
    org = "b" if who == "partner_focal_point" else "a"
    answered = api(
        client_for(world.user(org, who)), "POST", f"/api/v1/referrals/{referral.reference}/status/", change
    )
    assert answered.status_code == 200
    # when B's focal point looks for it again
    partner = client_for(world.b.users["partner_focal_point"])
    # then it is gone from every view, and a further answer finds nothing either
    assert partner.get("/api/v1/referrals/").json()["results"] == []
    assert partner.get(f"/api/v1/referrals/{referral.reference}/").status_code == 404
    assert partner.get(f"/api/v1/referrals/{referral.reference}/events/").status_code == 404
    again = api(partner, "POST", f"/api/v1/referrals/{referral.reference}/status/", {"status": "accepted"})
    assert again.status_code == 404
    assert set(again.json()["error"]) == {"code", "message", "fields"}
    # while the sender still reads it, with the reason
    sender = client_for(world.a.users["caseworker"]).get(f"/api/v1/referrals/{referral.reference}/").json()
    assert (sender["status"], sender["reason"]) == (change["status"], change["reason"])


def second_site_caseworker(world):
    user = UserFactory(username="a_caseworker_site_2")
    accounts.grant_membership(
        user=user, organisation=world.a.organisation, role="caseworker", sites=[world.a.sites[1]], by=None
    )
    return user


def test_senders_see_referrals_of_their_sites_only(world, client_for):
    # given referrals of people registered at A's first and second sites (by each site's caseworker)
    path = pathway(world)
    first = refer(world, register_person(world), path)
    other = second_site_caseworker(world)
    rosa = registration.register(
        registration.shipped_form(),
        {**CHILD_ANSWERS, "given_name": "Rosa"},
        organisation=world.a.organisation,
        site=world.a.sites[1],
        by=other,
        language="es",
        today=datetime.date(2026, 11, 26),
    ).person
    second = services.create_referral(rosa, pathway=path, category="medical", by=other)
    # when A's caseworker of the first site lists and opens
    caseworker = client_for(world.a.users["caseworker"])
    listed = caseworker.get("/api/v1/referrals/").json()["results"]
    # then only the first site's referral is there, and the second's is not found (nor changeable)
    assert [row["reference"] for row in listed] == [first.reference]
    assert caseworker.get(f"/api/v1/referrals/{second.reference}/").status_code == 404
    withdraw = {"status": "withdrawn", "reason": "sent_in_error"}
    assert (
        api(caseworker, "POST", f"/api/v1/referrals/{second.reference}/status/", withdraw).status_code == 404
    )
    # while the second site's caseworker sees their own only
    seen = client_for(other).get("/api/v1/referrals/").json()["results"]
    assert [row["reference"] for row in seen] == [second.reference]


def test_list_filters_and_is_audited_once_with_the_count(world, child, client_for):
    # given three referrals: two medical (one accepted), one for child protection
    path = pathway(world)
    accepted = refer(world, child, path)
    services.transition(
        accepted, ReferralStatus.ACCEPTED, by=world.b.users["partner_focal_point"], via=Via.PARTNER
    )
    medical = refer(world, register_person(world, given_name="Luz"), path)
    protection = refer(world, register_person(world, given_name="Eva"), path, category="child_protection")
    client = client_for(world.a.users["caseworker"])
    before = AuditEntry.objects.count()
    # when the caseworker lists with and without filters
    every = client.get("/api/v1/referrals/").json()["results"]
    sent_medical = client.get("/api/v1/referrals/?status=sent&category=medical").json()["results"]
    future = (timezone.now() + datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    nothing = client.get("/api/v1/referrals/", {"updated_since": future}).json()["results"]
    # then the filters hold ...
    assert {row["reference"] for row in every} == {
        accepted.reference,
        medical.reference,
        protection.reference,
    }
    assert [row["reference"] for row in sent_medical] == [medical.reference]
    assert nothing == []
    # ... the rows hold no personal value ...
    assert "Ana" not in json.dumps(every)
    assert "Herida" not in json.dumps(every)
    # ... and each call that showed referrals left one READ entry with the count and the ids
    entries = list(AuditEntry.objects.order_by("id")[before:])
    assert [(e.action, e.detail["count"], e.organisation_id) for e in entries] == [
        (AuditAction.READ, 3, world.a.organisation.pk),
        (AuditAction.READ, 1, world.a.organisation.pk),
    ]
    assert entries[1].detail["ids"] == [medical.pk]
    # and a bad filter is a 400 naming it
    bad = client.get("/api/v1/referrals/?status=lost")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["status"]


def test_list_costs_the_same_queries_for_one_referral_or_many(world, child, client_for):
    path = pathway(world)
    refer(world, child, path)
    client = client_for(world.a.users["caseworker"])

    def queries() -> int:
        client.get("/api/v1/referrals/")
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/referrals/")
        assert response.status_code == 200
        return len(captured.captured_queries)

    one = queries()
    for n in range(6):
        refer(world, register_person(world, given_name=f"Extra{n}"), path)
    assert len(client.get("/api/v1/referrals/").json()["results"]) == 7
    assert queries() == one


def test_opening_a_referral_is_an_audited_read(world, child, client_for):
    referral = refer(world, child, pathway(world))
    before = AuditEntry.objects.count()
    client_for(world.b.users["partner_focal_point"]).get(f"/api/v1/referrals/{referral.reference}/")
    entry = AuditEntry.objects.order_by("id")[before:].get()
    assert (entry.action, entry.object_id, entry.actor_id, entry.detail) == (
        AuditAction.READ,
        str(referral.pk),
        world.b.users["partner_focal_point"].pk,
        {"purpose": "api"},
    )


# --- status updates -------------------------------------------------------------------------------


def test_a_partner_system_answers_and_records_the_outcome_then_the_sender_closes(world, child, client_for):
    # given a referral to B
    referral = refer(world, child, pathway(world))
    partner = client_for(world.b.users["partner_focal_point"])
    url = f"/api/v1/referrals/{referral.reference}/status/"
    # when B's system accepts, starts and delivers (with its note), and A's caseworker closes
    answers = [
        api(partner, "POST", url, {"status": "accepted"}),
        api(partner, "POST", url, {"status": "in_progress"}),
        api(partner, "POST", url, {"status": "delivered", "note": "Curación y vacuna."}),
        api(client_for(world.a.users["caseworker"]), "POST", url, {"status": "closed", "note": "Todo bien."}),
    ]
    # then each step is answered and recorded as coming through the API
    assert [(a.status_code, a.json()["status"], a.json()["via"]) for a in answers] == [
        (200, "accepted", "api"),
        (200, "in_progress", "api"),
        (200, "delivered", "api"),
        (200, "closed", "api"),
    ]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED
    assert referral.outcome_note == "Curación y vacuna."
    assert list(referral.events.values_list("to_status", "via")) == [
        ("sent", "staff"),
        ("accepted", "api"),
        ("in_progress", "api"),
        ("delivered", "api"),
        ("closed", "api"),
    ]
    # and the sender's timeline shows the notes of both sides
    timeline = (
        client_for(world.a.users["caseworker"]).get(f"/api/v1/referrals/{referral.reference}/events/").json()
    )
    assert [row["note"] for row in timeline] == ["", "", "", "Curación y vacuna.", "Todo bien."]


def test_partner_timeline_has_no_notes(world, child, client_for):
    referral = refer(world, child, pathway(world))
    partner = client_for(world.b.users["partner_focal_point"])
    api(
        partner,
        "POST",
        f"/api/v1/referrals/{referral.reference}/status/",
        {"status": "accepted", "note": "Ok"},
    )
    timeline = partner.get(f"/api/v1/referrals/{referral.reference}/events/").json()
    assert [(row["status"], row["note"]) for row in timeline] == [("sent", None), ("accepted", None)]


@pytest.mark.parametrize(
    ("org", "role", "change", "code", "field"),
    [
        ("b", "partner_focal_point", {"status": "delivered"}, 400, "status"),
        ("b", "partner_focal_point", {"status": "declined"}, 400, "reason"),
        ("b", "partner_focal_point", {"status": "declined", "reason": "made_up"}, 400, "reason"),
        ("b", "partner_focal_point", {"status": "expired"}, 400, "status"),
        ("b", "partner_focal_point", {"status": "closed"}, 403, None),
        ("b", "partner_focal_point", {}, 400, "status"),
        ("a", "caseworker", {"status": "accepted"}, 403, None),
        ("a", "caseworker", {"status": "withdrawn"}, 400, "reason"),
        ("a", "administrator", {"status": "withdrawn", "reason": "sent_in_error"}, 404, None),
        ("a", "partner_focal_point", {"status": "accepted"}, 404, None),
        ("b", "administrator", {"status": "accepted"}, 404, None),
        ("b", "caseworker", {"status": "accepted"}, 404, None),
    ],
)
def test_a_refused_status_update_changes_nothing(world, child, client_for, org, role, change, code, field):
    # given a referral from A to B, just sent
    referral = refer(world, child, pathway(world))
    before = snapshot(referral)
    # when someone asks for a change the lifecycle or their side does not allow
    response = api(
        client_for(world.user(org, role)), "POST", f"/api/v1/referrals/{referral.reference}/status/", change
    )
    # then it is refused, in the API's one error format, naming the field when there is one ...
    assert response.status_code == code
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert list(error["fields"]) == ([field] if field else [])
    # ... and nothing changed: the referral, its events, the audit log
    assert snapshot(referral) == before


def test_the_sender_resends_an_expired_referral(world, child, client_for):
    referral = refer(world, child, pathway(world))
    services.expire_overdue(now=referral.respond_by + datetime.timedelta(minutes=1))
    response = api(
        client_for(world.a.users["site_manager"]),
        "POST",
        f"/api/v1/referrals/{referral.reference}/status/",
        {"status": "sent"},
    )
    assert (response.status_code, response.json()["from_status"]) == (200, "expired")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


# --- creating -------------------------------------------------------------------------------------


def test_a_caseworker_refers_through_the_api(world, child, client_for):
    # given a pathway and a person with consent
    path = pathway(world)
    point = path.provider.points.get()
    # when A's caseworker refers her for medical care at the partner's point
    response = api(
        client_for(world.a.users["caseworker"]),
        "POST",
        "/api/v1/referrals/",
        {
            "person": child.reference.lower(),
            "pathway": path.pk,
            "category": "medical",
            "need": "Herida en la pierna",
            "service_point": point.pk,
            "urgency": "urgent",
            "appointment": "Mañana 9:00",
            "tell_person": False,
        },
    )
    # then it is sent, and the answer is the sender's payload
    assert response.status_code == 201
    payload = response.json()
    referral = Referral.objects.get(reference=payload["reference"])
    assert (referral.status, referral.urgency, referral.service_point, referral.tell_person) == (
        ReferralStatus.SENT,
        "urgent",
        point,
        False,
    )
    assert list(referral.events.values_list("to_status", "via")) == [("sent", "api")]
    assert (payload["side"], payload["client"]["person"], payload["need"]) == (
        "sender",
        child.reference,
        "Herida en la pierna",
    )
    assert payload["service_point"] == {"id": point.pk, "name": point.name, "address": "Calle 1, Tapachula"}
    validate(payload)


def test_create_names_the_missing_fields(world, client_for):
    response = api(client_for(world.a.users["caseworker"]), "POST", "/api/v1/referrals/", {"need": "x"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"person", "pathway", "category"}


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no consent", "consent"),
        ("category outside the pathway", "category"),
        ("pathway of another organisation", "pathway"),
        ("unknown person", "person"),
        ("point of another partner", "service_point"),
        ("closed case", "case"),
    ],
)
def test_a_refused_referral_names_the_field_and_creates_nothing(world, client_for, case, field):
    # given a person, a pathway and the body A's caseworker would send
    person = register_person(world, consent_referral="no" if case == "no consent" else "yes")
    path = pathway(world, codes=("medical",))
    body: dict[str, Any] = {"person": person.reference, "pathway": path.pk, "category": "medical"}
    if case == "category outside the pathway":
        body["category"] = "shelter"
    elif case == "pathway of another organisation":
        other = Pathway.objects.create(
            organisation=world.b.organisation,
            provider=path.provider,
            name="B's",
            valid_from=datetime.date(2026, 1, 1),
        )
        body["pathway"] = other.pk
    elif case == "unknown person":
        body["person"] = "VT-0000-0000"
    elif case == "point of another partner":
        body["service_point"] = provider(world, name="Otra clínica").points.get().pk
    elif case == "closed case":
        opened = case_services.open_case(person, by=world.a.users["caseworker"])
        case_services.close_case(opened, by=world.a.users["caseworker"], reason="needs_met")
        body["case"] = opened.reference
    audit_before = AuditEntry.objects.count()
    # when the caseworker sends it
    response = api(client_for(world.a.users["caseworker"]), "POST", "/api/v1/referrals/", body)
    # then it is a 400 naming the field, and nothing was made or audited
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Referral.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_who_may_not_refer_is_refused_before_the_body_is_read(world, child, client_for):
    # given a body A's caseworker could send
    body = {"person": child.reference, "pathway": pathway(world).pk, "category": "medical"}
    # when roles without edit_personal_data send it, they are refused before anything is looked up
    for user in (
        world.a.users["administrator"],
        world.a.users["partner_focal_point"],
        world.b.users["administrator"],
    ):
        assert api(client_for(user), "POST", "/api/v1/referrals/", body).status_code == 403
    # and B's caseworker finds neither A's person nor A's pathway (as if there were none)
    other = api(client_for(world.b.users["caseworker"]), "POST", "/api/v1/referrals/", body)
    assert (other.status_code, set(other.json()["error"]["fields"])) == (400, {"person", "pathway"})
    assert not Referral.objects.exists()


# --- the payload ----------------------------------------------------------------------------------


def test_a_medical_payload_has_no_journey_trafficking_or_name_for_either_side(world, child, client_for):
    # given a medical referral of a separated child whose documents are withheld (a trafficking flag)
    referral = refer(world, child, pathway(world))
    # when the partner and the sender read its payload
    partner = (
        client_for(world.b.users["partner_focal_point"])
        .get(f"/api/v1/referrals/{referral.reference}/")
        .json()
    )
    sender = client_for(world.a.users["caseworker"]).get(f"/api/v1/referrals/{referral.reference}/").json()
    # then the client items are the medical ones only ...
    fields = [item["field"] for item in partner["client"]["items"]]
    assert set(fields) <= {"age", "sex", "languages", "health", "flags"}
    assert "health" in fields
    assert "age" in fields
    # ... and neither side's payload names her, her journey or the trafficking indicators
    for payload in (partner, sender):
        assert payload["client"]["items"] == partner["client"]["items"]
        text = json.dumps(payload["client"]["items"], ensure_ascii=False).lower()
        assert [word for word in NEVER_FOR_A_CLINIC if word.lower() in text] == []
    # and the partner's payload carries none of the sender's references
    assert (partner["client"]["person"], partner["case"]) == (None, None)
    assert "VT-" not in json.dumps(partner)


def test_a_child_protection_payload_names_the_child(world, child):
    referral = refer(world, child, pathway(world), category="child_protection")
    payload = interop.referral_payload(referral, side="partner")
    items = {item["field"]: item["value"] for item in payload["client"]["items"]}
    assert items["name"] == "Ana López"
    assert "journey" not in items
    assert "protection" not in items
    assert payload["service"] == {"category": "child_protection", "label": "Child protection"}


def test_payloads_of_both_sides_validate_against_the_published_schema(world, child):
    # given a referral with a case, a point, an answer with notes from both sides, and a withdrawn consent
    path = pathway(world)
    case = case_services.open_case(child, by=world.a.users["caseworker"])
    referral = refer(world, child, path, case=case, service_point=path.provider.points.get())
    partner = world.b.users["partner_focal_point"]
    services.transition(referral, ReferralStatus.ACCEPTED, by=partner, via=Via.API, note="Cita a las 9")
    services.transition(referral, ReferralStatus.DELIVERED, by=partner, via=Via.API, note="Atendida")
    services.transition(
        referral, ReferralStatus.CLOSED, by=world.a.users["caseworker"], via=Via.STAFF, note="Fin"
    )
    referral.refresh_from_db()
    # when both sides' payloads are made
    sender = interop.referral_payload(referral, side="sender")
    partner_view = interop.referral_payload(referral, side="partner")
    # then both validate against the JSON Schema shipped with the code ...
    validate(sender)
    validate(partner_view)
    # ... and hold what the inter-agency forms ask for
    assert sender["schema"] == "ventanilla.referral/1"
    assert sender["case"] == case.reference
    assert sender["outcome"] == {"partner_note": "Cita a las 9\n\nAtendida", "sender_notes": ["Fin"]}
    assert partner_view["outcome"] == {"partner_note": "Cita a las 9\n\nAtendida", "sender_notes": []}
    assert sender["consent"]["referral"]["given"] is True
    assert sender["consent"]["referral"]["given_at"] is not None
    assert sender["consent"]["may_contact"] is True
    assert sender["referring"]["organisation"] == {
        "id": world.a.organisation.pk,
        "name": world.a.organisation.name,
    }
    assert sender["receiving"]["organisation"] == {
        "id": world.b.organisation.pk,
        "name": world.b.organisation.name,
    }
    assert [e["status"] for e in sender["events"]] == ["sent", "accepted", "delivered", "closed"]
    assert sender["dates"]["delivered"] is not None
    assert sender["dates"]["closed"] is not None


def test_the_schema_refuses_a_payload_with_a_personal_field_added(world, child):
    # the schema is strict: a client item or a top-level key it does not know is invalid
    payload = interop.referral_payload(refer(world, child, pathway(world)), side="partner")
    validate(payload)
    with pytest.raises(jsonschema.ValidationError):
        validate({**payload, "journey": "Tecún Umán"})
    with pytest.raises(jsonschema.ValidationError):
        validate(
            {
                **payload,
                "client": {"person": None, "items": [{"field": "journey", "label": "J", "value": "x"}]},
            }
        )


def test_the_documented_example_is_a_valid_payload():
    # the example in docs/referral-payload.md is what a reader copies: it must validate
    text = (Path(__file__).parents[4] / "docs" / "referral-payload.md").read_text(encoding="utf-8")
    example = text.split("## Example", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    payload = json.loads(example)
    validate(payload)
    assert payload["side"] == "partner"


def test_the_api_docs_describe_the_payload_from_the_same_schema(db):
    # the OpenAPI response of GET referrals/{reference}/ is the JSON Schema in OpenAPI's dialect
    converted = interop.openapi_schema()
    assert set(converted["properties"]) == set(interop.json_schema()["properties"])
    assert converted["properties"]["dates"]["properties"]["sent"] == {
        "type": "string",
        "format": "date-time",
        "nullable": True,
    }
    assert "$defs" not in json.dumps(converted)


# --- pathways -------------------------------------------------------------------------------------


def pathway_body(world, **changes: Any) -> dict[str, Any]:
    partner = provider(world, name="Clínica Gamma", organisation=world.b.organisation)
    return {
        "provider": partner.pk,
        "name": "A → Gamma",
        "categories": ["medical"],
        "service_points": [partner.points.get().pk],
        "valid_from": "2026-01-01",
        "response_hours": 24,
        "focal_points": [{"name": "Desk", "email": "desk@example.org"}],
        **changes,
    }


def test_pathway_managers_create_and_change_pathways(world, client_for):
    client = client_for(world.a.users["site_manager"])
    # when A's site manager adds a pathway
    created = api(client, "POST", "/api/v1/pathways/", pathway_body(world))
    # then it is A's, with its services, point and focal point, and audited
    assert created.status_code == 201
    body = created.json()
    assert (body["organisation"], body["categories"], body["response_hours"]) == (
        world.a.organisation.pk,
        ["medical"],
        24,
    )
    assert body["focal_points"] == [
        {"name": "Desk", "email": "desk@example.org", "phone": "", "language": "es"}
    ]
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="referrals.pathway").count() == 1
    # and when they change its answer time and services
    changed = api(
        client,
        "PATCH",
        f"/api/v1/pathways/{body['id']}/",
        {"response_hours": 12, "categories": ["medical", "gbv"]},
    )
    assert changed.status_code == 200
    assert (changed.json()["response_hours"], sorted(changed.json()["categories"])) == (
        12,
        ["gbv", "medical"],
    )
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="referrals.pathway").get()
    assert entry.fields == ["categories", "response_hours"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"age_min": 18, "age_max": 12}, "age_max"),
        ({"valid_to": "2025-01-01"}, "valid_to"),
        ({"categories": []}, "categories"),
        ({"provider": 999999}, "provider"),
        ({"shared_fields": ["journey"]}, "shared_fields"),
        ({"focal_points": [{"name": "Nobody"}]}, "focal_points-0-email"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_pathway_is_refused_naming_the_field(world, client_for, changes, field):
    response = api(
        client_for(world.a.users["site_manager"]), "POST", "/api/v1/pathways/", pathway_body(world, **changes)
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Pathway.objects.exists()


def test_a_point_of_another_partner_is_refused(world, client_for):
    body = pathway_body(world, service_points=[provider(world, name="Otra").points.get().pk])
    response = api(client_for(world.a.users["site_manager"]), "POST", "/api/v1/pathways/", body)
    assert list(response.json()["error"]["fields"]) == ["service_points"]
    assert not Pathway.objects.exists()


def test_partners_read_the_pathways_to_them_but_do_not_change_them(world, client_for):
    # given a pathway from A to B
    path = pathway(world)
    partner = client_for(world.b.users["partner_focal_point"])
    # when B's focal point reads and tries to change it
    listed = partner.get("/api/v1/pathways/").json()["results"]
    changed = api(partner, "PATCH", f"/api/v1/pathways/{path.pk}/", {"response_hours": 1000})
    # then it reads it, and the change is refused with nothing changed
    assert [row["id"] for row in listed] == [path.pk]
    assert changed.status_code == 403
    path.refresh_from_db()
    assert path.response_hours == 48
    # and A's caseworker reads it too but may not add one
    assert client_for(world.a.users["caseworker"]).get(f"/api/v1/pathways/{path.pk}/").status_code == 200
    assert api(client_for(world.a.users["caseworker"]), "POST", "/api/v1/pathways/", {}).status_code == 403


# --- webhooks -------------------------------------------------------------------------------------


def test_an_administrator_adds_a_webhook_and_sees_its_secret_once(world, client_for):
    client = client_for(world.b.users["administrator"])
    created = api(client, "POST", "/api/v1/webhooks/", {"url": "https://partner.example/hooks"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert len(secret) >= 32
    hook = PartnerWebhook.objects.get()
    assert (hook.organisation, hook.secret) == (world.b.organisation, secret)
    assert "secret" not in client.get(f"/api/v1/webhooks/{hook.pk}/").json()
    assert "secret" not in client.get("/api/v1/webhooks/").json()["results"][0]
    # a given secret is kept; an address that is not https is refused
    given = api(client, "POST", "/api/v1/webhooks/", {"url": "https://p.example/2", "secret": "s" * 20})
    assert given.json()["secret"] == "s" * 20
    plain = api(client, "POST", "/api/v1/webhooks/", {"url": "http://p.example/3"})
    assert (plain.status_code, list(plain.json()["error"]["fields"])) == (400, ["url"])
    # and removing one is audited
    assert client.delete(f"/api/v1/webhooks/{hook.pk}/").status_code == 204
    assert not PartnerWebhook.objects.filter(pk=hook.pk).exists()
    assert (
        AuditEntry.objects.filter(action=AuditAction.DELETE, object_type="referrals.partnerwebhook").count()
        == 1
    )


def test_only_administrators_of_the_organisation_reach_its_webhooks(world, client_for):
    hook = webhooks.add_webhook(
        world.b.organisation, url="https://p.example/h", by=world.b.users["administrator"]
    )
    for user in (world.a.users["administrator"], world.b.users["partner_focal_point"]):
        client = client_for(user)
        assert client.get(f"/api/v1/webhooks/{hook.pk}/").status_code == 404
        assert client.delete(f"/api/v1/webhooks/{hook.pk}/").status_code == 404
    assert client_for(world.b.users["partner_focal_point"]).get("/api/v1/webhooks/").status_code == 403
    other_org = api(
        client_for(world.a.users["administrator"]),
        "POST",
        "/api/v1/webhooks/",
        {
            "url": "https://p.example/x",
            "organisation": world.b.organisation.pk,
        },
    )
    assert list(other_org.json()["error"]["fields"]) == ["organisation"]
    assert PartnerWebhook.objects.count() == 1


class Receiver:
    """A partner's system on 127.0.0.1: records each POST and answers with the status it is told."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answer = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *args: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_status_change_reaches_the_partner_system_signed_and_without_personal_values(
    world, child, client_for, django_capture_on_commit_callbacks
):
    # given partner B's system listening, registered as B's webhook (made directly: the API asks https)
    with Receiver() as receiver:
        hook = PartnerWebhook.objects.create(
            organisation=world.b.organisation, url=receiver.url, secret="k" * 32
        )
        # when a referral is sent to B and B's system accepts it through the API
        with django_capture_on_commit_callbacks(execute=True):
            referral = refer(world, child, pathway(world))
        with django_capture_on_commit_callbacks(execute=True):
            api(
                client_for(world.b.users["partner_focal_point"]),
                "POST",
                f"/api/v1/referrals/{referral.reference}/status/",
                {"status": "accepted", "note": "Ana viene mañana"},
            )
    # then both changes were POSTed, each signed with the webhook's secret ...
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(b"k" * 32, body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Ventanilla-Signature"], expected)
        assert headers["Content-Type"] == "application/json"
    # ... with ids and statuses only: no name, need, note or journey
    bodies = [json.loads(body) for _headers, body in receiver.received]
    assert [(b["referral"], b["from_status"], b["status"]) for b in bodies] == [
        (referral.reference, "draft", "sent"),
        (referral.reference, "sent", "accepted"),
    ]
    assert set(bodies[1]) == {"event", "referral", "from_status", "status", "reason", "at", "service"}
    raw = b"".join(body for _headers, body in receiver.received).decode()
    assert [word for word in ("Ana", "López", "Herida", "mañana", "Tecún", "VT-") if word in raw] == []
    assert WebhookDelivery.objects.filter(webhook=hook, delivered_at__isnull=False).count() == 2


def test_a_failed_delivery_is_retried_with_growing_backoff(world, child):
    with Receiver() as receiver:
        receiver.answer = 500
        hook = PartnerWebhook.objects.create(
            organisation=world.b.organisation, url=receiver.url, secret="k" * 32
        )
        referral = refer(world, child, pathway(world))
        delivery = WebhookDelivery.objects.get(webhook=hook)
        start = timezone.now()
        # when the first delivery meets a 500
        assert webhooks.deliver(delivery, now=start) is False
        delivery.refresh_from_db()
        # then it is kept for a retry in 5 minutes
        assert (delivery.attempts, delivery.last_status, delivery.last_error) == (1, 500, "HTTP 500")
        assert delivery.next_attempt_at == start + datetime.timedelta(minutes=5)
        # and nothing is retried before then; then again 10 minutes later
        assert webhooks.retry_due(now=start + datetime.timedelta(minutes=4)) == 0
        assert webhooks.retry_due(now=start + datetime.timedelta(minutes=5)) == 1
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.next_attempt_at) == (2, start + datetime.timedelta(minutes=15))
        # and once the partner's system answers 200, it is delivered and not tried again
        receiver.answer = 200
        assert webhooks.retry_due(now=start + datetime.timedelta(minutes=15)) == 1
        delivery.refresh_from_db()
        assert delivery.delivered_at == start + datetime.timedelta(minutes=15)
        assert delivery.next_attempt_at is None
        assert webhooks.retry_due(now=start + datetime.timedelta(days=1)) == 0
    assert len(receiver.received) == 3
    assert json.loads(receiver.received[0][1])["referral"] == referral.reference
