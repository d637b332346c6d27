"""The registration API: registering with the shipped form, errors per question in the person's language,
people scoped by organisation and site, every read of a person audited, decisions through the services."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ventanilla.accounts import services as accounts_services
from ventanilla.core.models import AuditEntry
from ventanilla.registration import services
from ventanilla.registration.models import Consent, DuplicateCandidate, Flag, Person, Registration
from ventanilla.registration.tests.test_register import answers
from ventanilla.testing.factories import UserFactory


@pytest.fixture
def form(db):
    return services.shipped_form()


def post(client, url: str, data: dict[str, Any] | None = None, **headers: str):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **headers)


def register(client, form, site, data: dict[str, Any], **extra: Any):
    return post(
        client,
        "/api/v1/registrations/",
        {"form_version": form.pk, "site": site.pk, "answers": data, **extra},
    )


@pytest.fixture
def caseworker(world, client_for):
    return client_for(world.user("a", "caseworker"))


def test_full_registration_answers_flags_in_words_and_the_reference(world, form, caseworker):
    # when A's caseworker registers a 15-year-old with an unrelated adult, in Spanish
    response = register(caseworker, form, world.a.sites[0], answers(phone=None), language="es")
    # then the person is stored and the flags come in Spanish with the answers that raised them
    assert response.status_code == 201, response.json()
    body = response.json()
    person = Person.objects.get(reference=body["reference"])
    assert body["stored"] == "personal"
    assert body["registration"] == Registration.objects.get(person=person).pk
    flags = {flag["code"]: flag for flag in body["flags"]}
    assert set(flags) == {"separated_child", "international_protection"}
    separated = flags["separated_child"]
    assert separated["severity"] == "critical"
    assert separated["label"].startswith("Niña, niño o adolescente separado")
    assert "child_protection" in separated["categories"]
    assert len(separated["reasons"]) == 2
    assert {"question", "answer"} == set(separated["reasons"][0])
    assert body["duplicates"] == []
    assert person.organisation == world.a.organisation
    assert person.given_name == "Ana"


def test_answers_the_form_refuses_are_named_per_question_in_the_language_asked(world, form, caseworker):
    data = answers(age_estimate="130")
    data["leg"][1]["leg_arrived"] = "not a date"
    # when the same bad answers are sent in English and in Spanish (body, then Accept-Language)
    english = register(caseworker, form, world.a.sites[0], data, language="en")
    spanish = register(caseworker, form, world.a.sites[0], data, language="es")
    by_header = post(
        caseworker,
        "/api/v1/registrations/",
        {"form_version": form.pk, "site": world.a.sites[0].pk, "answers": data},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    # then each is a 400 naming the questions, repeat answers by their position
    for response in (english, spanish, by_header):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_answers"
        assert {"age_estimate", "leg[2].leg_arrived"} <= set(error["fields"])
    # ... and the messages follow the language asked for
    en_fields, es_fields = english.json()["error"]["fields"], spanish.json()["error"]["fields"]
    assert es_fields["age_estimate"] != en_fields["age_estimate"]
    assert by_header.json()["error"]["fields"] == es_fields
    assert spanish.json()["error"]["message"] != english.json()["error"]["message"]
    # ... and nothing was written
    assert (Person.objects.count(), Registration.objects.count()) == (0, 0)


def test_body_fields_are_checked_before_any_answer(world, form, caseworker):
    response = post(
        caseworker, "/api/v1/registrations/", {"form_version": form.pk, "site": world.b.sites[0].pk}
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"site", "answers"}  # B's site does not exist for A's caseworker


def test_a_resent_instance_is_a_conflict(world, form, caseworker):
    data = answers(instanceID="uuid:6f1c9e8e-7d0a-4b55-9a37-3d2d6a1f0c11")
    assert register(caseworker, form, world.a.sites[0], data).status_code == 201
    again = register(caseworker, form, world.a.sites[0], data)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert Person.objects.count() == 1


def test_who_may_register_where(world, form, client_for):
    data = answers()
    # a partner focal point reads no personal data and writes none: refused before the body is read
    partner = client_for(world.user("a", "partner_focal_point"))
    assert register(partner, form, world.a.sites[0], data).status_code == 403
    # a caseworker of site 1 may not register at site 2 of the same organisation
    caseworker = client_for(world.user("a", "caseworker"))
    assert register(caseworker, form, world.a.sites[1], data).status_code == 403
    assert Person.objects.count() == 0


def test_a_duplicate_in_another_script_is_reported_with_the_earlier_reference(world, form, caseworker):
    site = world.a.sites[0]
    adult = {"sex": "male", "age_estimate": "30", "child_care": None, "nationality": "SD"}
    first = register(caseworker, form, site, answers(given_name="Mohamed", family_name="Ahmed", **adult))
    second = register(caseworker, form, site, answers(given_name="محمد", family_name="احمد", **adult))
    [duplicate] = second.json()["duplicates"]
    assert duplicate["reference"] == first.json()["reference"]
    assert "similar_name" in duplicate["reasons"]
    assert duplicate["score"] >= 75


# --- People: scoping, search, audit ---------------------------------------------------------------------


@pytest.fixture
def people(world, form):
    """Ana at A's first site, Omar at A's second site (registered by a caseworker of that site), and
    Beatriz in organisation B."""
    a, b = world.a, world.b
    second_site_worker = UserFactory(username="a_caseworker_site_2")
    accounts_services.grant_membership(
        user=second_site_worker, organisation=a.organisation, role="caseworker", sites=[a.sites[1]], by=None
    )
    common = {"form_version": form}

    def add(organisation, site, by, **changes: Any) -> Person:
        outcome = services.register(
            common["form_version"],
            answers(**changes),
            organisation=organisation,
            site=site,
            by=by,
            language="es",
        )
        return outcome.person

    return {
        "ana": add(a.organisation, a.sites[0], a.users["caseworker"], phone="+502 5555 1234"),
        "omar": add(
            a.organisation,
            a.sites[1],
            second_site_worker,
            given_name="Omar",
            family_name="Haddad",
            sex="male",
            age_estimate="40",
            child_care=None,
        ),
        "beatriz": add(
            b.organisation, b.sites[0], b.users["caseworker"], given_name="Beatriz", family_name="Ruiz"
        ),
    }


def references(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return sorted(row["reference"] for row in response.json()["results"])


def test_people_are_scoped_by_organisation_and_site(world, client_for, people):
    ana, omar, beatriz = people["ana"], people["omar"], people["beatriz"]
    # A's caseworker (first site) sees Ana; A's site manager is also scoped to the first site
    assert references(client_for(world.user("a", "caseworker")).get("/api/v1/persons/")) == [ana.reference]
    assert references(client_for(world.user("a", "site_manager")).get("/api/v1/persons/")) == [ana.reference]
    # B's caseworker sees only Beatriz, and A's people do not exist for them
    b_caseworker = client_for(world.user("b", "caseworker"))
    assert references(b_caseworker.get("/api/v1/persons/")) == [beatriz.reference]
    assert b_caseworker.get(f"/api/v1/persons/{ana.reference}/").status_code == 404
    assert b_caseworker.get(f"/api/v1/persons/{ana.reference}/consents/").status_code == 404
    # A's caseworker does not see Omar, registered at the second site
    assert (
        client_for(world.user("a", "caseworker")).get(f"/api/v1/persons/{omar.reference}/").status_code == 404
    )
    # roles without personal data: 403 for the collections, 404 for a person
    for role in ("partner_focal_point", "administrator", "auditor", "data_analyst"):
        client = client_for(world.user("a", role))
        assert client.get("/api/v1/persons/").status_code == 403, role
        assert client.get("/api/v1/flags/").status_code == 403, role
        assert client.get("/api/v1/registrations/").status_code == 403, role
        # ... and a person is simply not there for them, as for the outsider
        assert client.get(f"/api/v1/persons/{ana.reference}/").status_code == 404, role
    assert client_for(world.outsider).get(f"/api/v1/persons/{ana.reference}/").status_code == 404


def test_reading_a_person_is_audited_and_the_list_once_with_the_count(world, client_for, people):
    ana = people["ana"]
    user = world.user("a", "caseworker")
    client = client_for(user)
    before = AuditEntry.objects.count()
    # when the caseworker lists people and opens Ana
    listed = client.get("/api/v1/persons/")
    detail = client.get(f"/api/v1/persons/{ana.reference}/")
    # then the list shows names, age and flags, not the phone ...
    [row] = listed.json()["results"]
    assert (row["given_name"], row["family_name"], row["age"], row["age_estimated"]) == (
        "Ana",
        "López",
        15,
        True,
    )
    assert row["flags"] == ["international_protection", "separated_child"]
    assert "phone" not in row
    # ... the detail shows everything
    assert detail.status_code == 200
    assert detail.json()["phone"] == "+502 5555 1234"
    assert [r["site"] for r in detail.json()["registrations"]] == [world.a.sites[0].pk]
    # ... and each is one READ entry by the caseworker, with ids and counts, never a name
    entries = list(AuditEntry.objects.order_by("id")[before:])
    assert [(e.action, e.actor_id, e.object_type) for e in entries] == [
        ("read", user.pk, "registration.person"),
        ("read", user.pk, "registration.person"),
    ]
    assert entries[0].detail == {"purpose": "list", "count": 1, "ids": [ana.pk], "search": ""}
    assert (entries[1].object_id, entries[1].organisation_id) == (str(ana.pk), world.a.organisation.pk)
    assert "Ana" not in json.dumps([e.detail for e in entries])


def test_an_empty_list_is_not_a_read(world, client_for, people):
    before = AuditEntry.objects.count()
    response = client_for(world.user("a", "caseworker")).get("/api/v1/persons/?q=Nobody")
    assert references(response) == []
    assert AuditEntry.objects.count() == before


def test_search_by_reference_phone_and_name_in_another_script(world, client_for, people):
    ana = people["ana"]
    client = client_for(world.user("a", "caseworker"))
    assert references(client.get(f"/api/v1/persons/?q={ana.reference.lower()}")) == [ana.reference]
    assert references(client.get("/api/v1/persons/", {"q": "+502 5555-1234"})) == [ana.reference]
    assert references(client.get("/api/v1/persons/", {"q": "+502 5555 9999"})) == []
    assert references(client.get("/api/v1/persons/", {"q": "ana lopez"})) == [ana.reference]
    assert references(client.get("/api/v1/persons/", {"q": "López"})) == [ana.reference]
    assert references(client.get("/api/v1/persons/", {"q": "آنا"})) == [ana.reference]
    assert references(client.get("/api/v1/persons/", {"q": "Omar"})) == []  # the other site's
    # filters, and a bad filter named
    assert references(client.get("/api/v1/persons/?flag=separated_child")) == [ana.reference]
    assert references(client.get("/api/v1/persons/?has_flags=false")) == []
    assert references(client.get("/api/v1/persons/?registered_before=2000-01-01")) == []
    bad = client.get("/api/v1/persons/?registered_after=yesterday")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["registered_after"]


def test_flags_list_who_needs_attention(world, client_for, people):
    client = client_for(world.user("a", "caseworker"))
    response = client.get("/api/v1/flags/?open=true", HTTP_ACCEPT_LANGUAGE="fr")
    rows = response.json()["results"]
    # critical first, labels in French, reasons in words, only A's first site
    assert [(r["code"], r["person"]) for r in rows] == [
        ("separated_child", people["ana"].reference),
        ("international_protection", people["ana"].reference),
    ]
    assert rows[0]["label"].startswith("Enfant séparé")
    assert rows[0]["reasons"]
    assert client.get("/api/v1/flags/?severity=critical").json()["count"] == 1
    assert client.get("/api/v1/flags/?code=pregnancy").json()["count"] == 0
    assert client.get("/api/v1/flags/?severity=urgent").status_code == 400
    person_flags = client.get(f"/api/v1/persons/{people['ana'].reference}/flags/?lang=es").json()
    assert person_flags[0]["label"].startswith("Niña, niño o adolescente separado")


def test_registrations_are_de_identified_and_opening_one_is_audited(world, client_for, people):
    user = world.user("a", "caseworker")
    client = client_for(user)
    [row] = client.get("/api/v1/registrations/").json()["results"]
    assert row["person"] == people["ana"].reference
    assert (row["age_band"], row["nationality"]) == ("12-17", "HN")
    assert "given_name" not in row
    before = AuditEntry.objects.count()
    detail = client.get(f"/api/v1/registrations/{row['id']}/").json()
    assert [leg["country"] for leg in detail["legs"]] == ["GT", "MX"]
    assert "given_name" not in json.dumps(detail["statistics"])
    [entry] = AuditEntry.objects.order_by("id")[before:]
    assert (entry.action, entry.actor_id, entry.object_type) == ("read", user.pk, "registration.registration")
    b_client = client_for(world.user("b", "caseworker"))
    assert b_client.get(f"/api/v1/registrations/{row['id']}/").status_code == 404


# --- Decisions ----------------------------------------------------------------------------------------------


def test_withdrawing_registration_consent_erases_the_person(world, client_for, people):
    ana = people["ana"]
    client = client_for(world.user("a", "caseworker"))
    consents = client.get(f"/api/v1/persons/{ana.reference}/consents/").json()
    assert {c["purpose"]: c["given"] for c in consents} == {
        "registration": True,
        "referral": True,
        "follow_up": False,
        "statistics": True,
    }
    consent = next(c for c in consents if c["purpose"] == "registration")
    # B's caseworker cannot reach it
    b_client = client_for(world.user("b", "caseworker"))
    url = f"/api/v1/persons/{ana.reference}/consents/{consent['id']}/withdraw/"
    assert post(b_client, url).status_code == 404
    response = post(client, url)
    assert response.status_code == 200
    assert response.json()["active"] is False
    person = Person.objects.get(pk=ana.pk)
    assert person.erased_at is not None
    assert person.given_name == ""
    assert Consent.objects.get(pk=consent["id"]).withdrawn_by == world.user("a", "caseworker")


def test_merge_undo_and_not_same_through_the_api(world, client_for, form):
    caseworker = world.user("a", "caseworker")
    client = client_for(caseworker)
    site = world.a.sites[0]
    adult = {"age_estimate": "25", "child_care": None}
    first = register(client, form, site, answers(given_name="Fatima", family_name="Hassan", **adult)).json()
    second = register(client, form, site, answers(given_name="فاطمة", family_name="حسن", **adult)).json()
    [duplicate] = second["duplicates"]
    base = f"/api/v1/persons/{second['reference']}/duplicates/{duplicate['id']}"
    listed = client.get(f"/api/v1/persons/{first['reference']}/duplicates/").json()
    assert [(d["person"], d["candidate"]) for d in listed] == [(second["reference"], first["reference"])]
    # merge: the newer record folds into the earlier one
    merged = post(client, f"{base}/merge/")
    assert merged.status_code == 200
    assert merged.json()["decision"] == "merged"
    assert Person.objects.get(reference=second["reference"]).merged_into.reference == first["reference"]
    assert references(client.get("/api/v1/persons/")) == [first["reference"]]
    # not the same is refused while merged; merging twice is a conflict
    assert post(client, f"{base}/not-same/").status_code == 409
    assert post(client, f"{base}/merge/").status_code == 409
    # undo, then not the same
    assert post(client, f"{base}/undo/").json()["decision"] == "pending"
    assert post(client, f"{base}/not-same/").json()["decision"] == "not_same"
    assert DuplicateCandidate.objects.get(pk=duplicate["id"]).decided_by == caseworker
    # B's caseworker cannot decide on A's pairs
    assert post(client_for(world.user("b", "caseworker")), f"{base}/undo/").status_code == 404


def test_erasure_needs_a_reason_code_and_is_audited(world, client_for, people):
    ana = people["ana"]
    user = world.user("a", "caseworker")
    client = client_for(user)
    url = f"/api/v1/persons/{ana.reference}/erase/"
    missing = post(client, url, {})
    assert missing.status_code == 400
    assert list(missing.json()["error"]["fields"]) == ["reason"]
    free_text = post(client, url, {"reason": "Ana López asked"})
    assert free_text.status_code == 400
    assert Person.objects.get(pk=ana.pk).erased_at is None
    # B's caseworker and A's partner focal point: not found
    assert (
        post(client_for(world.user("b", "caseworker")), url, {"reason": "person_request"}).status_code == 404
    )
    assert (
        post(
            client_for(world.user("a", "partner_focal_point")), url, {"reason": "person_request"}
        ).status_code
        == 404
    )
    before = AuditEntry.objects.count()
    response = post(client, url, {"reason": "person_request"})
    assert response.status_code == 200
    assert response.json()["reference"] == ana.reference
    assert Person.objects.get(pk=ana.pk).given_name == ""
    [entry] = AuditEntry.objects.order_by("id")[before:]
    assert (entry.action, entry.actor_id, entry.detail) == ("erase", user.pk, {"reason": "person_request"})


def test_a_flag_is_closed_with_a_reason_once(world, client_for, people):
    flag = Flag.objects.get(person=people["ana"], code="international_protection")
    url = f"/api/v1/flags/{flag.pk}/dismiss/"
    client = client_for(world.user("a", "caseworker"))
    assert post(client, url, {}).status_code == 400  # the reason is required
    before = AuditEntry.objects.count()
    response = post(client, url, {"reason": "Assessed by the protection officer: no fear of return."})
    assert response.status_code == 200
    assert response.json()["open"] is False
    flag.refresh_from_db()
    assert flag.dismissed_by == world.user("a", "caseworker")
    assert AuditEntry.objects.count() == before + 1
    assert post(client, url, {"reason": "again"}).status_code == 409
    # The flag of a person at another site, or of another organisation, is not found.
    omar_flag = Flag.objects.filter(person=people["omar"]).first()
    assert omar_flag is not None
    assert post(client, f"/api/v1/flags/{omar_flag.pk}/dismiss/", {"reason": "x"}).status_code == 404
    beatriz_flag = Flag.objects.filter(person=people["beatriz"]).first()
    assert beatriz_flag is not None
    assert post(client, f"/api/v1/flags/{beatriz_flag.pk}/dismiss/", {"reason": "x"}).status_code == 404
    closed = client.get("/api/v1/flags/?open=false").json()["results"]
    assert [(row["code"], row["open"]) for row in closed] == [("international_protection", False)]
