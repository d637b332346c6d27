"""The sending side's pages (list, new referral, detail, status, links) and the pathway pages."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.accounts import services as accounts
from ventanilla.cases import services as cases
from ventanilla.core.models import AuditEntry
from ventanilla.directory.models import ServicePoint
from ventanilla.messaging.models import OutboundMessage
from ventanilla.referrals import links, pathways, projection, services
from ventanilla.referrals.models import FocalPoint, Pathway, Referral, ReferralLink, ReferralStatus, Via
from ventanilla.registration import services as registration
from ventanilla.testing.factories import UserFactory
from ventanilla.testing.referrals import CHILD_ANSWERS, pathway, provider, register_person

NEW = "/en/staff/referrals/new/{}/"


@pytest.fixture
def child(world):
    return register_person(world)


@pytest.fixture
def caseworker(world, client_for):
    return client_for(world.user("a", "caseworker"))


def refer(world, person, path, category="medical", **kwargs):
    return services.create_referral(
        person, pathway=path, category=category, by=world.user("a", "caseworker"), need="x", **kwargs
    )


def form_data(path, category="medical", **changes):
    return {
        "option": f"{path.pk}:{category}",
        "need": "Herida en la pierna",
        "urgency": "normal",
        "appointment": "",
        "case": "",
        "link_to": "",
        "link_channel": "email",
        **changes,
    }


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# --- a new referral --------------------------------------------------------------------------------


def test_from_a_flag_the_page_offers_its_services_and_previews_what_is_shared(world, child, caseworker):
    # given a pathway for medical care, child protection and counter-trafficking, and the medical flag
    path = pathway(world)
    flag = child.flags.get(code="urgent_medical_need")
    # when the caseworker opens the referral page from the flag
    response = caseworker.get(NEW.format(child.reference) + f"?flag={flag.pk}")
    # then only the flag's service is offered, with the fields shared, their values and what is not shared
    assert response.status_code == 200
    [choice] = response.context["choices"]
    assert choice["value"] == f"{path.pk}:medical"
    assert choice["fields"] == ["Age", "Sex", "Languages", "Health", "Why this referral"]
    assert {"Name", "Nationality", "Phone", "Protection concerns", "Documents held"} <= set(
        choice["not_shared"]
    )
    assert [item.field for item in choice["items"]] == ["age", "sex", "health", "flags"]
    assert response.context["form"]["urgency"].value() == "urgent"  # the flag is critical
    html = response.content.decode()
    assert "Not shared" in html
    assert "the journey" in html
    assert "Tecún" not in html


def test_creating_from_a_flag_sends_it_and_the_partner_sees_no_journey_or_trafficking(
    world, child, caseworker
):
    # given the medical flag of a separated child who also shows trafficking indicators
    path = pathway(world)
    flag = child.flags.get(code="urgent_medical_need")
    # when the caseworker sends the referral
    response = caseworker.post(NEW.format(child.reference), {**form_data(path), "flag": flag.pk})
    # then it is sent from the flag, and the page of the referral follows
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/staff/referrals/{referral.reference}/"
    assert (referral.flag_id, referral.category, referral.status, referral.need) == (
        flag.pk,
        "medical",
        ReferralStatus.SENT,
        "Herida en la pierna",
    )
    assert referral.created_by == world.user("a", "caseworker")
    # and what the partner would see has the medical need, never the journey or the trafficking signs
    shared = projection.loads(referral.shared)
    assert {item.field for item in shared} == {"age", "sex", "health", "flags"}
    assert "Tecún" not in referral.shared
    assert "protection" not in {item.field for item in shared}
    assert "trata" not in referral.shared.lower()
    detail = caseworker.get(response["Location"])
    assert [item.field for item in detail.context["shared"]] == ["age", "sex", "health", "flags"]
    assert "Tecún" not in detail.content.decode()


def test_a_person_without_referral_consent_is_refused_and_nothing_is_created(world, caseworker):
    # given a person who did not consent to be referred
    person = register_person(world, consent_referral="no")
    path = pathway(world)
    # when the caseworker tries to refer them
    page = caseworker.get(NEW.format(person.reference))
    response = caseworker.post(NEW.format(person.reference), form_data(path))
    # then the page warns, the refusal is shown, and nothing is written
    assert "has not consented" in page.content.decode()
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The person has not consented to be referred (or withdrew that consent)."
    ]
    assert not Referral.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_a_service_outside_the_pathway_is_refused_next_to_the_choice(world, child, caseworker):
    # given a pathway for medical care only
    path = pathway(world, codes=("medical",))
    # when the caseworker posts shelter on it
    response = caseworker.post(NEW.format(child.reference), form_data(path, category="shelter"))
    # then the choice is refused and nothing is created
    assert response.status_code == 200
    assert response.context["form"].errors["option"] == ["Choose one of the partners offered."]
    assert not Referral.objects.exists()


def test_a_person_the_pathway_does_not_serve_is_refused_with_the_reason(world, child, caseworker):
    # given a pathway for children up to 10 (the child is 15)
    path = pathway(world, age_max=10)
    # when the caseworker refers her along it anyway
    page = caseworker.get(NEW.format(child.reference))
    response = caseworker.post(NEW.format(child.reference), form_data(path))
    # then the page said so beforehand, and the refusal is next to the choice; nothing is created
    assert "up to 10 years old" in page.content.decode()
    assert response.context["form"].errors["option"] == ["The partner serves people up to 10 years old."]
    assert not Referral.objects.exists()


def test_a_referral_on_a_closed_case_is_refused(world, child, caseworker):
    # given the person's case, closed
    path = pathway(world)
    case = cases.open_case(child, by=world.user("a", "caseworker"))
    cases.close_case(case, by=world.user("a", "caseworker"), reason="needs_met")
    # when the caseworker refers the person on that case
    response = caseworker.post(NEW.format(child.reference), form_data(path, case=case.reference))
    # then the case field says why, and nothing is created
    assert response.context["form"].errors["case"] == ["The case is closed; reopen it or open a new one."]
    assert not Referral.objects.exists()


def test_a_refused_link_refuses_the_referral_too(world, child, caseworker):
    # given a focal point without a phone
    path = pathway(world)
    focal = path.focal_points.get()
    FocalPoint.objects.filter(pk=focal.pk).update(phone="")
    # when the referral asks for the link by SMS
    response = caseworker.post(
        NEW.format(child.reference), form_data(path, link_to=str(focal.pk), link_channel="sms")
    )
    # then the link's refusal is shown by its field and no referral is left half-made
    assert response.context["form"].errors["link_channel"] == [
        "The focal point has no address for that channel."
    ]
    assert not Referral.objects.exists()
    assert not ReferralLink.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_a_link_made_with_the_referral_is_shown_once(world, child, caseworker):
    # given a pathway
    path = pathway(world)
    # when the referral is sent with a link for the caseworker to pass on, with a code
    response = caseworker.post(
        NEW.format(child.reference), form_data(path, link_to="show", link_with_code="on"), follow=True
    )
    # then the link and its code are shown on the next page, and they work
    shown = messages_of(response)
    url = next(text for text in shown if "/r/" in text).rsplit(" ", 1)[1]
    code = next(text for text in shown if "one-time code" in text).rsplit(" ", 1)[1]
    link = links.resolve(url.rstrip("/").rsplit("/", 1)[1])
    assert links.check_code(link, code)
    # and never again
    again = caseworker.get(response.redirect_chain[-1][0])
    assert url not in again.content.decode()
    assert code not in again.content.decode()


def test_the_sms_choice_is_offered_only_with_consent_to_contact(world, caseworker):
    # given a person who did not agree to be contacted
    person = register_person(world, consent_followup="no")
    path = pathway(world)
    # when the page is shown and the referral sent
    page = caseworker.get(NEW.format(person.reference))
    caseworker.post(NEW.format(person.reference), {**form_data(path), "tell_person": "on"})
    # then there was no SMS choice, and nobody is told
    assert "tell_person" not in page.context["form"].fields
    assert Referral.objects.get().tell_person is False
    assert not OutboundMessage.objects.filter(purpose="referral_person").exists()


def test_roles_without_personal_data_cannot_refer(world, child, client_for):
    # given A's administrator and a pathway
    path = pathway(world)
    # when they try to refer the person
    response = client_for(world.user("a", "administrator")).post(NEW.format(child.reference), form_data(path))
    # then they are refused and nothing is created
    assert response.status_code == 403
    assert not Referral.objects.exists()


# --- the person page -------------------------------------------------------------------------------


def test_the_person_page_offers_referral_from_each_flag_and_lists_referrals(world, child, caseworker):
    # given a referral sent for the person
    referral = refer(world, child, pathway(world))
    # when the caseworker opens the person's record
    html = caseworker.get(f"/en/staff/people/{child.reference}/").content.decode()
    # then each open flag has its "Refer" link, and the referral is listed
    for flag in child.flags.all():
        assert f"/en/staff/referrals/new/{child.reference}/?flag={flag.pk}" in html
    assert f'href="/en/staff/referrals/new/{child.reference}/"' in html
    assert f"/en/staff/referrals/{referral.reference}/" in html


# --- one referral ----------------------------------------------------------------------------------


def test_the_detail_read_is_audited_and_offers_the_senders_moves(world, child, caseworker):
    # given a sent referral
    referral = refer(world, child, pathway(world))
    # when the caseworker opens it
    response = caseworker.get(f"/en/staff/referrals/{referral.reference}/")
    # then the read is audited and only withdrawing is offered (the partner answers)
    assert AuditEntry.objects.filter(
        action="read", object_type="referrals.referral", object_id=str(referral.pk)
    ).exists()
    assert [status for status, _label in response.context["actions"]] == ["withdrawn"]


def test_withdrawing_needs_a_reason_and_is_kept_in_the_timeline(world, child, caseworker):
    # given a sent referral
    referral = refer(world, child, pathway(world))
    url = f"/en/staff/referrals/{referral.reference}/status/"
    # when the caseworker withdraws it without a reason, then with one
    refused = caseworker.post(url, {"to": "withdrawn", "reason": "", "note": ""}, follow=True)
    referral.refresh_from_db()
    status_after_refusal = referral.status
    done = caseworker.post(
        url, {"to": "withdrawn", "reason": "need_met_elsewhere", "note": "Fue a otra clínica"}
    )
    # then the first is refused with a message and changes nothing; the second is recorded
    assert messages_of(refused) == ["Choose a reason."]
    assert status_after_refusal == ReferralStatus.SENT
    assert done.status_code == 302
    referral.refresh_from_db()
    event = referral.events.latest("pk")
    assert (referral.status, referral.reason) == (ReferralStatus.WITHDRAWN, "need_met_elsewhere")
    assert (event.by, event.via, event.note) == (
        world.user("a", "caseworker"),
        Via.STAFF,
        "Fue a otra clínica",
    )
    timeline = caseworker.get(f"/en/staff/referrals/{referral.reference}/").content.decode()
    assert "Need met elsewhere" in timeline


def test_a_move_the_lifecycle_does_not_allow_is_refused(world, child, caseworker):
    # given a sent referral
    referral = refer(world, child, pathway(world))
    # when the sender tries to accept it for the partner
    response = caseworker.post(
        f"/en/staff/referrals/{referral.reference}/status/", {"to": "accepted"}, follow=False
    )
    # then it is refused and nothing changes
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert referral.events.count() == 1


def test_issuing_a_link_to_a_focal_point_and_revoking_it_from_the_page(world, child, caseworker):
    # given a referral to a partner without an account
    path = pathway(world, with_account=False)
    referral = refer(world, child, path)
    focal = path.focal_points.get()
    # when the caseworker sends the focal point a link with a code, then revokes it
    issued = caseworker.post(
        f"/en/staff/referrals/{referral.reference}/links/",
        {"focal_point": str(focal.pk), "channel": "email", "with_code": "on", "days": "3"},
        follow=True,
    )
    link = ReferralLink.objects.get()
    page = caseworker.get(f"/en/staff/referrals/{referral.reference}/").content.decode()
    revoked = caseworker.post(
        f"/en/staff/referrals/{referral.reference}/links/{link.pk}/revoke/", follow=True
    )
    # then the link went by email and the code by SMS; the page lists it without its token
    assert messages_of(issued) == ["A link was sent to Focal Point."]
    assert (link.sent_to, link.channel, bool(link.code_hash)) == (focal, "email", True)
    assert 2 * 86400 < (link.expires_at - link.created_at).total_seconds() <= 3 * 86400
    assert set(OutboundMessage.objects.values_list("purpose", "channel")) >= {
        ("referral_link", "email"),
        ("referral_link_code", "sms"),
    }
    assert "/r/" not in page
    assert "Revoke" in page
    # and after revoking, it is marked and no longer offers a revoke button
    link.refresh_from_db()
    assert messages_of(revoked) == ["The link is revoked; it shows nothing any more."]
    assert link.revoked_at is not None
    assert "Revoke</button>" not in revoked.content.decode()


def test_a_revoked_link_shows_nothing(world, child, caseworker):
    # given a link shown to the sender
    referral = refer(world, child, pathway(world, with_account=False))
    response = caseworker.post(
        f"/en/staff/referrals/{referral.reference}/links/",
        {"focal_point": "", "channel": "email", "days": "7"},
        follow=True,
    )
    url = next(text for text in messages_of(response) if "/r/" in text).rsplit(" ", 1)[1]
    token = url.rstrip("/").rsplit("/", 1)[1]
    # when it is revoked from the page
    caseworker.post(f"/en/staff/referrals/{referral.reference}/links/{ReferralLink.objects.get().pk}/revoke/")
    # then it no longer resolves
    with pytest.raises(links.LinkUnusable):
        links.resolve(token)


def test_a_link_with_bad_days_is_refused_with_a_message(world, child, caseworker):
    # given a sent referral
    referral = refer(world, child, pathway(world))
    # when a link of 90 days is asked for
    response = caseworker.post(
        f"/en/staff/referrals/{referral.reference}/links/",
        {"focal_point": "", "channel": "email", "days": "90"},
        follow=True,
    )
    # then nothing is issued and the page says why
    assert not ReferralLink.objects.exists()
    assert messages_of(response) == ["Ensure this value is less than or equal to 30."]


# --- the list --------------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_service(world, child, caseworker):
    # given a sent medical referral and a withdrawn child-protection one
    path = pathway(world)
    medical = refer(world, child, path)
    protection = refer(world, child, path, category="child_protection")
    services.transition(
        protection, "withdrawn", by=world.user("a", "caseworker"), via=Via.STAFF, reason="sent_in_error"
    )

    def shown(query=""):
        return [row.reference for row in caseworker.get(f"/en/staff/referrals/{query}").context["rows"]]

    # when the list is asked with each filter; then it shows exactly the matching referrals
    assert shown() == [medical.reference]
    assert shown("?status=all") == [protection.reference, medical.reference]
    assert shown("?status=withdrawn") == [protection.reference]
    assert shown("?status=all&category=child_protection") == [protection.reference]
    assert shown("?status=all&category=shelter") == []


def test_the_list_marks_overdue_referrals_and_audits_the_read(world, child, caseworker):
    # given a referral past its answer time
    referral = refer(world, child, pathway(world))
    Referral.objects.filter(pk=referral.pk).update(respond_by=referral.sent_at - datetime.timedelta(hours=1))
    before = AuditEntry.objects.count()
    # when the list is shown
    response = caseworker.get("/en/staff/referrals/")
    # then the row is overdue, and one audit entry counts the rows read
    assert [row.is_overdue for row in response.context["rows"]] == [True]
    assert 'class="overdue"' in response.content.decode()
    [entry] = AuditEntry.objects.order_by("id")[before:]
    assert (entry.action, entry.object_type, entry.detail) == (
        "read",
        "referrals.Referral",
        {"list": True, "count": 1},
    )


def test_the_list_filters_by_site_for_staff_of_two_sites(world, child, client_for):
    # given a site manager of both of A's sites, and a referral from each site
    manager = world.user("a", "site_manager")
    manager.memberships.get().sites.add(world.a.sites[1])
    path = pathway(world)
    first = refer(world, child, path)
    other = registration.register(
        registration.shipped_form(),
        {**CHILD_ANSWERS, "given_name": "Berta"},
        organisation=world.a.organisation,
        site=world.a.sites[1],
        by=manager,
        language="es",
    ).person
    second = services.create_referral(other, pathway=path, category="medical", by=manager, need="y")
    client = client_for(manager)

    # when they filter by site
    def shown(query=""):
        return [row.reference for row in client.get(f"/en/staff/referrals/{query}").context["rows"]]

    # then each site shows its own
    assert set(shown()) == {first.reference, second.reference}
    assert shown(f"?site={world.a.sites[1].pk}") == [second.reference]
    assert shown(f"?site={world.a.sites[0].pk}") == [first.reference]


def test_second_site_staff_do_not_see_first_site_referrals(world, child, client_for):
    # given a referral from A's first site and a caseworker of A's second site only
    referral = refer(world, child, pathway(world))
    colleague = UserFactory(username="a_second_site")
    accounts.grant_membership(
        user=colleague,
        organisation=world.a.organisation,
        role="caseworker",
        sites=[world.a.sites[1]],
        by=None,
    )
    client = client_for(colleague)
    # when they look for it
    listed = client.get("/en/staff/referrals/?status=all").context["rows"]
    detail = client.get(f"/en/staff/referrals/{referral.reference}/")
    withdraw = client.post(
        f"/en/staff/referrals/{referral.reference}/status/", {"to": "withdrawn", "reason": "other"}
    )
    # then it is not there for them, and nothing changed
    assert list(listed) == []
    assert (detail.status_code, withdraw.status_code) == (404, 404)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_the_partner_receiving_a_referral_does_not_see_it_on_the_sending_side(world, child, client_for):
    # given a referral from A to B, and B's partner focal point (who sees it in the inbox)
    referral = refer(world, child, pathway(world))
    client = client_for(world.user("b", "partner_focal_point"))
    # when they open the sender's page of it
    response = client.get(f"/en/staff/referrals/{referral.reference}/")
    # then they are refused (no personal data on the sending side)
    assert response.status_code == 403


def test_the_list_reads_a_fixed_number_of_queries(world, child, caseworker):
    # given one referral, then four
    path = pathway(world)
    refer(world, child, path)
    caseworker.get("/en/staff/referrals/")  # the session's first page also checks the sign-in policy
    with CaptureQueriesContext(connection) as few:
        caseworker.get("/en/staff/referrals/")
    for _ in range(3):
        refer(world, child, path)
    # when the list is shown again
    with CaptureQueriesContext(connection) as many:
        response = caseworker.get("/en/staff/referrals/")
    # then it costs the same number of queries
    assert len(response.context["rows"]) == 4
    assert len(many) == len(few)


# --- pathways --------------------------------------------------------------------------------------

PATHWAYS = "/en/staff/referrals/pathways/"


def focal_rows(*rows, initial=0):
    data = {
        "focal_points-TOTAL_FORMS": str(len(rows)),
        "focal_points-INITIAL_FORMS": str(initial),
        "focal_points-MIN_NUM_FORMS": "0",
        "focal_points-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"focal_points-{index}-{key}": value for key, value in row.items()})
    return data


def pathway_form(partner, **changes):
    return {
        "name": "A → Clínica",
        "provider": str(partner.pk),
        "categories": ["medical"],
        "sexes": "any",
        "response_hours": "24",
        "language": "es",
        "valid_from": "2026-01-01",
        "is_active": "on",
        **focal_rows({"name": "Recepción", "email": "", "phone": "+52 962 123 4567", "language": "es"}),
        **changes,
    }


def test_a_pathway_manager_creates_a_pathway_with_focal_points(world, client_for):
    # given A's site manager and a published partner
    partner = provider(world, name="Clínica Norte")
    client = client_for(world.user("a", "site_manager"))
    point = partner.points.get()
    # when they create a pathway to one of its points
    response = client.post(
        PATHWAYS + f"new/?provider={partner.pk}", pathway_form(partner, service_points=[point.pk])
    )
    # then it is saved for A, with its focal point in international format, and audited by field
    assert response.status_code == 302
    path = Pathway.objects.get(name="A → Clínica")
    assert (path.organisation, path.provider, path.response_hours) == (world.a.organisation, partner, 24)
    assert list(path.service_points.all()) == [point]
    assert list(path.focal_points.values_list("name", "phone")) == [("Recepción", "+529621234567")]
    entry = AuditEntry.objects.filter(object_type="referrals.pathway", object_id=str(path.pk)).get()
    assert entry.action == "create"
    assert {"name", "provider", "categories", "focal_points", "valid_from"} <= set(entry.fields)
    listed = client.get(PATHWAYS).content.decode()
    assert "A → Clínica" in listed
    assert "Recepción" in listed


def test_pathway_errors_are_named_by_field_and_nothing_is_saved(world, client_for):
    # given a partner and a pathway manager
    partner = provider(world, name="Clínica Norte")
    client = client_for(world.user("a", "administrator"))
    # when the pathway ends before it starts, and the focal point's phone has no country code
    response = client.post(
        PATHWAYS + "new/",
        pathway_form(
            partner,
            valid_to="2025-12-31",
            **focal_rows({"name": "Recepción", "email": "", "phone": "962 123 4567", "language": "es"}),
        ),
    )
    # then each error is next to its field, and nothing is saved
    assert response.status_code == 200
    assert response.context["form"].errors == {"valid_to": ["The pathway cannot end before it starts."]}
    assert response.context["focal_points"].forms[0].errors == {
        "phone": ["Enter the number in international format, for example +52 962 123 4567."]
    }
    assert not Pathway.objects.exists()


def test_service_points_must_offer_one_of_the_services(world, client_for):
    # given a partner whose only point gives medical care
    partner = provider(world, name="Clínica Norte")
    point = partner.points.get()
    client = client_for(world.user("a", "administrator"))
    # when a shelter pathway names that point
    response = client.post(
        PATHWAYS + "new/", pathway_form(partner, categories=["shelter"], service_points=[point.pk])
    )
    # then the service points field says why
    assert response.context["form"].errors == {
        "service_points": [
            "These service points offer none of the pathway's services: Clínica Norte — main office."
        ]
    }
    assert not Pathway.objects.exists()


def test_save_pathway_refuses_unknown_fields_and_foreign_points(world):
    # given a pathway manager, a partner and another provider's point
    partner = provider(world, name="Clínica Norte")
    elsewhere = provider(world, name="Otra").points.get()
    data = pathways.PathwayInput(
        name="x",
        provider=partner,
        categories=["medical"],
        valid_from=datetime.date(2026, 1, 1),
        service_points=[elsewhere],
        shared_fields=["age", "journey"],
    )
    # when it is saved
    with pytest.raises(pathways.PathwayInvalid) as error:
        pathways.save_pathway(
            None, data, by=world.user("a", "administrator"), organisation=world.a.organisation
        )
    # then both problems are named, and nothing is written
    assert set(error.value.errors) == {"service_points", "shared_fields"}
    assert error.value.errors["shared_fields"] == "Unknown fields: journey."
    assert not Pathway.objects.exists()


def test_editing_a_pathway_keeps_updates_and_removes_focal_points(world, client_for):
    # given A's pathway with one focal point
    path = pathway(world)
    focal = path.focal_points.get()
    client = client_for(world.user("a", "administrator"))
    data = pathway_form(
        path.provider,
        name="A → Beta (renamed)",
        categories=["medical", "child_protection"],
        shared_fields=["age", "sex"],
        **focal_rows(
            {
                "id": focal.pk,
                "name": "Focal Point",
                "email": "new@example.org",
                "phone": "",
                "language": "es",
            },
            {"name": "Night desk", "email": "night@example.org", "phone": "", "language": "fr"},
            initial=1,
        ),
    )
    # when it is edited
    response = client.post(PATHWAYS + f"{path.pk}/", data)
    # then the pathway and its focal points are exactly what was posted, audited by field name
    assert response.status_code == 302
    path.refresh_from_db()
    assert (path.name, path.shared_fields) == ("A → Beta (renamed)", ["age", "sex"])
    assert sorted(path.categories.values_list("code", flat=True)) == ["child_protection", "medical"]
    assert list(path.focal_points.order_by("name").values_list("pk", "email")) == [
        (focal.pk, "new@example.org"),
        (path.focal_points.get(name="Night desk").pk, "night@example.org"),
    ]
    entry = AuditEntry.objects.filter(object_type="referrals.pathway").latest("pk")
    assert entry.action == "update"
    assert set(entry.fields) == {
        "name",
        "response_hours",
        "shared_fields",
        "categories",
        "focal_points",
    }


def test_the_pathway_form_shows_the_default_shared_fields(world, client_for):
    # given a pathway manager
    client = client_for(world.user("a", "administrator"))
    # when the new pathway form is shown
    response = client.get(PATHWAYS + "new/")
    # then it lists what each service shares when no field is ticked
    defaults = dict(response.context["defaults"])
    assert defaults["Medical care"] == ["Age", "Sex", "Languages", "Health", "Why this referral"]


def test_the_partner_reads_pathways_to_it_but_cannot_change_them(world, client_for):
    # given A's pathway to B
    path = pathway(world)
    client = client_for(world.user("b", "partner_focal_point"))
    # when B's partner focal point looks at pathways and tries to change A's
    listed = client.get(PATHWAYS)
    changed = client.post(PATHWAYS + f"{path.pk}/", pathway_form(path.provider, name="Hijacked"))
    # then they read it, but may not change it
    assert [row.pk for row in listed.context["rows"]] == [path.pk]
    assert changed.status_code == 403
    path.refresh_from_db()
    assert path.name != "Hijacked"


def test_service_points_listed_are_the_chosen_partners(world, client_for):
    # given two partners
    partner = provider(world, name="Clínica Norte")
    provider(world, name="Otra")
    client = client_for(world.user("a", "administrator"))
    # when the form is asked for one partner
    response = client.get(PATHWAYS + f"new/?provider={partner.pk}")
    # then only its points are offered
    assert list(response.context["form"].fields["service_points"].queryset) == list(
        ServicePoint.objects.filter(provider=partner)
    )
