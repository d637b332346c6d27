"""A partner without an account answers a referral from the link, in a phone's browser without JavaScript."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ventanilla.referrals import links, services
from ventanilla.referrals.models import ReferralStatus, Via
from ventanilla.testing.referrals import pathway, register_person

pytestmark = pytest.mark.browser


def test_partner_accepts_and_records_the_service_from_the_link(world, live_server, open_page):
    # given a referral from A to a clinic without accounts, and the link the clinic was sent
    referral = services.create_referral(
        register_person(world),
        pathway=pathway(world, with_account=False),
        category="medical",
        by=world.user("a", "caseworker"),
        need="Herida en la pierna",
    )
    issued = links.issue(referral, by=world.user("a", "caseworker"))
    path = urlsplit(issued.url).path
    token = path.rstrip("/").rsplit("/", 1)[1]
    page = open_page(java_script_enabled=False)
    referers: list[str] = []
    page.on("request", lambda request: referers.append(request.headers.get("referer", "")))
    # when the partner opens it, accepts with where and when, and records the service given
    page.goto(live_server.url + path)
    assert "Herida en la pierna" in page.locator("main").inner_text()
    page.fill("#accept-appointment", "Lunes 9:00, ventanilla 2")
    with page.expect_navigation():
        page.click("text=Accept the referral")
    assert f"Referral {referral.reference}: Accepted." in page.locator(".messages").inner_text()
    page.fill("#deliver-note", "Curación hecha")
    with page.expect_navigation():
        page.click("text=Record: service delivered")
    # then the browser's own posts passed the CSRF check, the referral is delivered through the link
    referral.refresh_from_db()
    assert (referral.status, referral.appointment, referral.outcome_note) == (
        ReferralStatus.DELIVERED,
        "Lunes 9:00, ventanilla 2",
        "Curación hecha",
    )
    assert list(referral.events.values_list("via", flat=True))[1:] == [Via.LINK, Via.LINK]
    # and the link now shows only that it is no longer valid (and the answer just recorded)
    assert page.locator("h1").inner_text() == "This link is no longer valid"
    assert "Herida" not in page.content()
    # and no request the page made named the token in its Referer
    assert referers
    assert [r for r in referers if token in r] == []
