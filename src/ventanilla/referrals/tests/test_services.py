"""The referral lifecycle through services: consent, pathway, projection, transitions, links, expiry."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from ventanilla.core.models import AuditEntry
from ventanilla.messaging.models import OutboundMessage
from ventanilla.referrals import links, projection, services
from ventanilla.referrals.models import Referral, ReferralEvent, ReferralStatus, Via
from ventanilla.registration import services as registration
from ventanilla.registration.models import Consent, ConsentPurpose
from ventanilla.testing.referrals import pathway, register_person


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


def test_a_medical_referral_shares_health_but_never_the_journey_or_trafficking(world, child):
    referral = refer(world, child, pathway(world))
    assert referral.status == ReferralStatus.SENT
    assert referral.respond_by == referral.sent_at + datetime.timedelta(hours=48)
    fields = {item.field for item in projection.loads(referral.shared)}
    assert fields <= {"age", "sex", "languages", "health", "flags"}
    assert "health" in fields
    text = referral.shared
    assert "Tecún" not in text
    assert "Ana" not in text
    flags = next(i.value for i in projection.loads(referral.shared) if i.field == "flags")
    assert "trata" not in flags.lower()
    assert "trafficking" not in flags.lower()


def test_child_protection_referral_names_the_flag_that_suggested_it(world, child):
    referral = refer(world, child, pathway(world), category="child_protection")
    items = {item.field: item.value for item in projection.loads(referral.shared)}
    assert items["name"] == "Ana López"
    assert "separad" in items["flags"].lower()


def test_without_referral_consent_nothing_is_created(world):
    person = register_person(world, consent_referral="no")
    with pytest.raises(services.ReferralError) as error:
        refer(world, person, pathway(world))
    assert error.value.field == "consent"
    assert not Referral.objects.exists()


def test_a_category_outside_the_pathway_is_refused(world, child):
    with pytest.raises(services.ReferralError) as error:
        refer(world, child, pathway(world, codes=("medical",)), category="shelter")
    assert error.value.field == "category"
    assert not Referral.objects.exists()


def test_partner_accepts_and_delivers_sender_closes(world, child):
    referral = refer(world, child, pathway(world))
    partner = world.b.users["partner_focal_point"]
    services.transition(referral, ReferralStatus.ACCEPTED, by=partner, via=Via.PARTNER)
    services.transition(referral, ReferralStatus.DELIVERED, by=partner, via=Via.PARTNER, note="Curada")
    services.transition(referral, ReferralStatus.CLOSED, by=world.a.users["caseworker"], via=Via.STAFF)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED
    assert referral.outcome_note == "Curada"
    assert list(referral.events.values_list("to_status", flat=True)) == [
        "sent",
        "accepted",
        "delivered",
        "closed",
    ]
    assert (
        AuditEntry.objects.filter(object_type="referrals.referral", object_id=str(referral.pk)).count() >= 5
    )


def test_a_transition_the_lifecycle_does_not_allow_changes_nothing(world, child):
    referral = refer(world, child, pathway(world))
    partner = world.b.users["partner_focal_point"]
    with pytest.raises(services.ReferralError):
        services.transition(referral, ReferralStatus.DELIVERED, by=partner, via=Via.PARTNER)
    with pytest.raises(services.ReferralPermissionError):
        services.transition(referral, ReferralStatus.ACCEPTED, by=world.a.users["caseworker"], via=Via.STAFF)
    with pytest.raises(services.ReferralError):
        services.transition(referral, ReferralStatus.DECLINED, by=partner, via=Via.PARTNER, reason="")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert ReferralEvent.objects.filter(referral=referral).count() == 1


def test_partner_sees_only_active_referrals(world, child):
    referral = refer(world, child, pathway(world))
    partner = world.b.users["partner_focal_point"]
    assert list(Referral.objects.visible_to(partner)) == [referral]
    services.transition(referral, ReferralStatus.DECLINED, by=partner, via=Via.PARTNER, reason="no_capacity")
    assert not Referral.objects.visible_to(partner).exists()


def test_withdrawing_referral_consent_withdraws_active_referrals(world, child):
    referral = refer(world, child, pathway(world))
    consent = Consent.objects.get(person=child, purpose=ConsentPurpose.REFERRAL)
    registration.withdraw_consent(consent, by=world.a.users["caseworker"])
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.WITHDRAWN
    assert referral.reason == "consent_withdrawn"


def test_erasure_blanks_the_projection(world, child):
    referral = refer(world, child, pathway(world))
    registration.erase_person(child, by=world.a.users["caseworker"], reason="test")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.WITHDRAWN
    assert referral.shared == ""
    assert referral.need == ""


def test_the_person_is_told_by_sms_without_sensitive_details(world, child):
    refer(world, child, pathway(world), category="counter_trafficking", appointment="mañana 10:00")
    sms = OutboundMessage.objects.get(purpose="referral_person")
    assert sms.recipient == "+50233334444"
    assert "mañana 10:00" in sms.body
    assert "trata" not in sms.body.lower()
    assert "Clínica" not in sms.body


def test_a_link_works_until_revoked_and_every_use_is_audited(world, child):
    path = pathway(world, with_account=False)
    referral = refer(world, child, path)
    issued = links.issue(referral, by=world.a.users["caseworker"], focal_point=path.focal_points.get())
    token = issued.url.rstrip("/").rsplit("/", 1)[1]
    link = links.resolve(token)
    links.record_use(link, what="view")
    assert AuditEntry.objects.filter(detail__link=link.pk, action="read").exists()
    assert OutboundMessage.objects.filter(purpose="referral_link", channel="email").exists()
    links.revoke(link, by=world.a.users["caseworker"])
    with pytest.raises(links.LinkUnusable):
        links.resolve(token)
    with pytest.raises(links.LinkUnusable):
        links.resolve(token[:-2] + "xx")


def test_a_link_with_a_code_is_revoked_after_too_many_wrong_codes(world, child):
    path = pathway(world, with_account=False)
    referral = refer(world, child, path)
    issued = links.issue(
        referral, by=world.a.users["caseworker"], focal_point=path.focal_points.get(), with_code=True
    )
    token = issued.url.rstrip("/").rsplit("/", 1)[1]
    code = OutboundMessage.objects.get(purpose="referral_link_code").body.rsplit(" ", 1)[1]
    assert links.check_code(links.resolve(token), code)
    for _ in range(links.MAX_CODE_ATTEMPTS):
        links.check_code(links.resolve(token), "000000" if code != "000000" else "111111")
    with pytest.raises(links.LinkUnusable):
        links.resolve(token)


def test_unanswered_referrals_expire_and_reach_the_site_manager(world, child):
    referral = refer(world, child, pathway(world, response_hours=2))
    assert services.expire_overdue(now=timezone.now() + datetime.timedelta(hours=1)) == 0
    assert services.expire_overdue(now=timezone.now() + datetime.timedelta(hours=3)) == 1
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.EXPIRED
    assert referral.escalated_at is not None
    manager = world.a.users["site_manager"]
    assert manager.notices.filter(kind="referral_expired").exists()


def test_a_merge_takes_the_referrals_and_case_along_and_undo_brings_them_back(world, child):
    # given a referral and a case on a newer duplicate record of the same child
    from ventanilla.cases import services as cases
    from ventanilla.registration.models import DuplicateCandidate

    newer = register_person(world)
    referral = refer(world, newer, pathway(world))
    case = cases.open_case(newer, by=world.a.users["caseworker"])
    candidate = DuplicateCandidate.objects.get(person=newer, candidate=child)
    # when the caseworker merges the pair
    registration.merge(candidate, by=world.a.users["caseworker"])
    # then the referral and the case belong to the surviving record
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.person_id == child.pk
    assert case.person_id == child.pk
    # and undoing the merge gives them back
    candidate.refresh_from_db()
    registration.undo_merge(candidate, by=world.a.users["caseworker"])
    referral.refresh_from_db()
    assert referral.person_id == newer.pk


def test_two_open_cases_block_a_merge(world, child):
    from ventanilla.cases import services as cases
    from ventanilla.registration.models import DuplicateCandidate

    newer = register_person(world)
    cases.open_case(newer, by=world.a.users["caseworker"])
    cases.open_case(child, by=world.a.users["caseworker"])
    candidate = DuplicateCandidate.objects.get(person=newer, candidate=child)
    with pytest.raises(ValueError, match="open case"):
        registration.merge(candidate, by=world.a.users["caseworker"])
    assert candidate.person.merged_into_id is None
