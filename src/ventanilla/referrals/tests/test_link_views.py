"""The referral link page: a partner without an account reads and answers one referral, and nothing more."""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.referrals import links, projection, services
from ventanilla.referrals.models import ReferralEvent, ReferralLink, ReferralStatus, Via
from ventanilla.registration import services as registration
from ventanilla.registration.models import Consent, ConsentPurpose
from ventanilla.testing.referrals import pathway, register_person

GONE = "This link is no longer valid"


@pytest.fixture
def referral(world):
    """Sent by A's caseworker to a clinic that has no account, for medical care."""
    return services.create_referral(
        register_person(world),
        pathway=pathway(world, with_account=False),
        category="medical",
        by=world.user("a", "caseworker"),
        need="Herida en la pierna",
    )


def issue(world, referral, **options) -> tuple[str, ReferralLink, str]:
    issued = links.issue(referral, by=world.user("a", "caseworker"), **options)
    return urlsplit(issued.url).path, issued.link, issued.code


@pytest.fixture
def link(world, referral):
    path, link, _code = issue(world, referral)
    return path, link


def uses_of(link: ReferralLink) -> list[dict]:
    return [
        e.detail
        for e in AuditEntry.objects.filter(action=AuditAction.READ, object_id=str(link.referral_id)).order_by(
            "id"
        )
        if e.detail.get("link") == link.pk
    ]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_link_shows_what_was_shared_to_anyone_holding_it(world, referral, link):
    # given a live link and nobody signed in
    path, link = link
    # when it is opened
    response = Client().get(path)
    # then it shows the referral's code, the need and each shared item, never the person's reference
    html = response.content.decode()
    assert response.status_code == 200
    assert referral.reference in html
    assert "Herida en la pierna" in html
    for item in projection.loads(referral.shared):
        assert f'<dd dir="auto">{escape(item.value)}</dd>' in html
    assert referral.person.reference not in html
    # and the answers the lifecycle allows now
    offered = set(re.findall(r'name="action" value="(\w+)"', html))
    assert offered == {"appointment", "accepted", "declined"}
    # and the use is audited with the link's id, by nobody
    assert uses_of(link) == [{"link": link.pk, "via": "link", "what": "view"}]
    link.refresh_from_db()
    assert link.uses == 1


def test_the_link_page_is_never_stored_indexed_or_passed_on(world, link):
    # given a live link and a revoked one
    path, _link = link
    # when each is opened
    live = Client().get(path)
    gone = Client().get(path[:-4] + "abc/")
    # then neither may be cached, indexed, or named in a Referer (the origin at most, never the token)
    for response in (live, gone):
        assert response["Cache-Control"] == "no-store"
        assert response["Referrer-Policy"] == "strict-origin"
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_the_link_page_has_no_staff_navigation_even_for_staff(world, client_for, link):
    # given A's caseworker signed in, opening the link
    path, _link = link
    response = client_for(world.user("a", "caseworker")).get(path)
    # then the page has none of the staff pages' navigation
    html = response.content.decode()
    assert response.status_code == 200
    assert "main-nav" not in html
    assert "Sign out" not in html
    assert "/staff/" not in html


def test_accept_then_record_the_outcome_through_the_link(world, referral, link):
    # given a partner without an account, with the link
    path, link = link
    client = Client()
    client.get(path)
    # when they accept with where and when, start, and record the service given
    accepted = client.post(path, {"action": "accepted", "appointment": "Lunes 9:00"})
    page = client.get(path)
    client.post(path, {"action": "in_progress"}, follow=True)
    delivered = client.post(path, {"action": "delivered", "note": "Curación hecha"})
    after = client.get(path)
    # then each answer went through the lifecycle by the link, by nobody
    assert accepted["Location"] == path
    assert "Lunes 9:00" in page.content.decode()
    assert messages_of(page) == [f"Referral {referral.reference}: Accepted."]
    referral.refresh_from_db()
    assert (referral.status, referral.appointment, referral.outcome_note) == (
        ReferralStatus.DELIVERED,
        "Lunes 9:00",
        "Curación hecha",
    )
    events = list(referral.events.order_by("pk").values_list("to_status", "via", "by", "link"))
    assert events[1:] == [
        ("accepted", Via.LINK, None, link.pk),
        ("in_progress", Via.LINK, None, link.pk),
        ("delivered", Via.LINK, None, link.pk),
    ]
    # and the link, its work done, shows nothing more (but says the answer was recorded)
    assert delivered["Location"] == path
    assert after.status_code == 404
    assert messages_of(after) == [f"Referral {referral.reference}: Service delivered."]
    assert referral.reference not in after.content.decode().replace(messages_of(after)[0], "")
    # and every use is in the audit log with the link's id
    assert [use["what"] for use in uses_of(link)] == [
        "view",
        "accepted",
        "view",
        "in_progress",
        "view",
        "delivered",
    ]


def test_decline_through_the_link_needs_a_reason(world, referral, link):
    # given the link
    path, _link = link
    client = Client()
    # when the partner declines without a reason, then with one
    client.post(path, {"action": "declined"})
    refused = client.get(path)
    client.post(path, {"action": "declined", "reason": "outside_area"})
    # then the first changed nothing, the second declined
    assert messages_of(refused) == ["Choose a reason."]
    referral.refresh_from_db()
    assert (referral.status, referral.reason) == (ReferralStatus.DECLINED, "outside_area")
    assert list(referral.events.values_list("to_status", flat=True)) == ["sent", "declined"]


def test_a_move_the_lifecycle_does_not_allow_changes_nothing(world, referral, link):
    # given a sent referral and its link
    path, _link = link
    client = Client()
    # when the link's holder tries to skip ahead, to close, or to withdraw
    for data in ({"action": "delivered"}, {"action": "closed"}, {"action": "withdrawn", "reason": "other"}):
        client.post(path, data)
    # then the referral is as it was
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert ReferralEvent.objects.filter(referral=referral).count() == 1


def test_the_appointment_can_be_set_through_the_link(world, referral, link):
    path, _link = link
    # when the partner says where and when
    Client().post(path, {"action": "appointment", "appointment": "Martes 10:00, puerta 3"})
    # then it is kept and the status is unchanged
    referral.refresh_from_db()
    assert (referral.status, referral.appointment) == (ReferralStatus.SENT, "Martes 10:00, puerta 3")


def test_csrf_stays_on_for_the_link(world, referral, link):
    # given a browser-like client that enforces CSRF
    path, _link = link
    client = Client(enforce_csrf_checks=True)
    # when it posts without the form's token, then with it
    forged = client.post(path, {"action": "accepted"})
    html = client.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    real = client.post(path, {"action": "accepted", "csrfmiddlewaretoken": token})
    # then the forged one is refused, the real one accepted
    assert (forged.status_code, real.status_code) == (403, 302)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED


# --- the one-time code ------------------------------------------------------------------------------


@pytest.fixture
def coded(world, referral):
    """A link with a one-time code (no focal point: the sender is shown the code to pass on)."""
    path, link, code = issue(world, referral, with_code=True)
    assert len(code) == 6
    return path, link, code


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_coded_link_shows_nothing_before_the_code(world, referral, coded):
    path, _link, _code = coded
    client = Client()
    # when it is opened, and an answer is tried without the code
    page = client.get(path)
    client.post(path, {"action": "accepted"})
    # then only the code form shows, and nothing changed
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="code"' in html
    assert referral.reference not in html
    assert "Herida" not in html
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_the_right_code_opens_the_link_for_this_session_only(world, referral, coded):
    path, link, code = coded
    client = Client()
    # when a wrong code is given, then the right one
    client.post(path, {"code": wrong(code)})
    after_wrong = client.get(path)
    right = client.post(path, {"code": code})
    page = client.get(path)
    # then the wrong one says how many tries are left; the right one shows the referral
    assert messages_of(after_wrong) == ["That code is not right. You can try 4 more times."]
    assert right["Location"] == path
    assert referral.reference in page.content.decode()
    assert "Herida en la pierna" in page.content.decode()
    # and another browser still needs the code
    assert 'name="code"' in Client().get(path).content.decode()
    # and the session can answer
    client.post(path, {"action": "accepted"})
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert [use["what"] for use in uses_of(link)] == [
        "code",
        "code_form",
        "code",
        "view",
        "code_form",
        "accepted",
    ]


def test_too_many_wrong_codes_revoke_the_link(world, referral, coded):
    path, link, code = coded
    client = Client()
    # when the wrong code is given as many times as allowed
    answers = [client.post(path, {"code": wrong(code)}) for _ in range(links.MAX_CODE_ATTEMPTS)]
    # then the last try finds the link revoked, and even the right code opens nothing now
    assert [a.status_code for a in answers] == [302] * (links.MAX_CODE_ATTEMPTS - 1) + [404]
    assert GONE in answers[-1].content.decode()
    late = Client().post(path, {"code": code})
    assert late.status_code == 404
    assert "Herida" not in late.content.decode()
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert AuditEntry.objects.filter(
        object_id=str(referral.pk), detail__link=link.pk, detail__revoked="too_many_codes"
    ).exists()


# --- when the link shows nothing --------------------------------------------------------------------


def revoke(world, referral, link):
    links.revoke(link, by=world.user("a", "caseworker"))


def expire(world, referral, link):
    ReferralLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))


def withdraw(world, referral, link):
    services.transition(
        referral,
        ReferralStatus.WITHDRAWN,
        by=world.user("a", "caseworker"),
        via=Via.STAFF,
        reason="sent_in_error",
    )


def withdraw_consent(world, referral, link):
    consent = Consent.objects.get(person=referral.person, purpose=ConsentPurpose.REFERRAL)
    registration.withdraw_consent(consent, by=world.user("a", "caseworker"))


@pytest.mark.parametrize("end", [revoke, expire, withdraw, withdraw_consent], ids=lambda f: f.__name__)
def test_after_the_end_the_link_shows_nothing_and_each_use_was_audited(world, referral, link, end):
    # given a link used twice (a look and an answer)
    path, link = link
    client = Client()
    client.get(path)
    client.post(path, {"action": "accepted"})
    before = AuditEntry.objects.count()
    # when it is revoked / expires / the referral is withdrawn / consent is withdrawn
    end(world, referral, link)
    changes = AuditEntry.objects.count()
    responses = [client.get(path), client.post(path, {"action": "delivered"}), Client().get(path)]
    # then every request gets the same page, saying only that the link is no longer valid
    for response in responses:
        html = response.content.decode()
        assert response.status_code == 404
        assert GONE in html
        assert referral.reference not in html
        assert "Herida" not in html
        assert "form" not in html
    # and nothing was changed or recorded by those requests
    assert AuditEntry.objects.count() == changes >= before
    referral.refresh_from_db()
    assert referral.status != ReferralStatus.DELIVERED
    # and the log holds one entry per use, each with the link's id
    assert [use["what"] for use in uses_of(link)] == ["view", "accepted"]


def test_a_tampered_or_stale_link_looks_like_any_other_dead_link(world, referral, link):
    path, link = link
    revoked_path, revoked, _code = issue(world, referral)
    links.revoke(revoked, by=world.user("a", "caseworker"))
    # when a tampered token, a made-up one and a revoked one are opened
    pages = [Client().get(p) for p in (path[:-4] + "abc/", "/en/r/not-a-token/", revoked_path)]
    # then all three are the same page (only the language links, to this same address, differ)
    assert {p.status_code for p in pages} == {404}
    bodies = {re.sub(r'href="[^"]*"', "", p.content.decode()) for p in pages}
    assert len(bodies) == 1
    assert GONE in bodies.pop()


def test_no_person_name_reaches_the_audit_log_through_the_link(world):
    # given a child protection referral, which shares the child's name, and its link
    referral = services.create_referral(
        register_person(world),
        pathway=pathway(world, with_account=False),
        category="child_protection",
        by=world.user("a", "caseworker"),
    )
    path, link, _code = issue(world, referral)
    client = Client()
    # when the partner reads it, answers with notes and an appointment, and tries an odd action
    page = client.get(path)
    client.post(path, {"action": "accepted", "appointment": "Hoy 15:00", "note": "Ana llega con su tía"})
    client.post(path, {"action": "Ana López"})
    # then the name is on the page but in no audit entry
    assert "Ana López" in page.content.decode()
    details = json.dumps(list(AuditEntry.objects.values_list("detail", flat=True)), ensure_ascii=False)
    assert "Ana" not in details
    assert "López" not in details
    assert "Hoy" not in details
    assert [use["what"] for use in uses_of(link)] == ["view", "accepted", "unknown"]
