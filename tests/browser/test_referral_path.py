"""The whole referral path in a browser: a caseworker registers a separated child, opens a case, the flag
suggests child protection, the referral goes by link to a partner without an account, the partner accepts
and records the service, the caseworker closes the referral and the case."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_registration import sign_in, url, walk
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.core.models import AuditEntry
from ventanilla.messaging.models import OutboundMessage
from ventanilla.referrals.models import Referral, ReferralStatus
from ventanilla.registration import services as registration
from ventanilla.registration.models import Person
from ventanilla.testing.referrals import pathway

pytestmark = pytest.mark.browser


def test_a_separated_child_reaches_child_protection_by_link_and_the_case_closes(
    world, live_server, open_page
):
    # given a child-protection office without accounts, on a pathway of A with a focal point
    registration.shipped_form()
    path = pathway(world, codes=("child_protection", "family_tracing"), with_account=False)
    caseworker = world.user("a", "caseworker")

    # when A's caseworker registers a separated child of 15
    page = open_page()
    sign_in(page, live_server, caseworker, world.password)
    page.goto(url(live_server, "registration:register") + f"?site={world.a.sites[0].pk}")
    walk(page, child=True, given="Kevin", family="Reyes", age="15")
    person = Person.objects.get()
    assert page.url.endswith(f"/en/staff/people/{person.reference}/")

    # ... opens a case for him
    with page.expect_navigation():
        page.get_by_role("link", name="Open a case").click()
    page.fill("textarea[name=needs]", "Family tracing; safe shelter")
    with page.expect_navigation():
        page.get_by_role("button", name="Open the case").click()
    case = Case.objects.get(person=person)
    assert f"/en/staff/cases/{case.reference}/" in page.url

    # ... and follows the flag's suggestion from the person page
    page.goto(url(live_server, "registration:person_detail", reference=person.reference))
    flag_card = page.locator("#flags-title + ul li", has_text="Separated child")
    with page.expect_navigation():
        flag_card.get_by_role("link", name="Refer").click()
    assert "?flag=" in page.url
    option = page.locator("label.choice", has_text="Child protection")
    option.locator("input").check()
    preview = page.locator("li", has=option).locator("details")
    preview.locator("summary").click()
    assert "journey" in preview.inner_text()  # said not to be shared
    page.fill("textarea[name=need]", "Separated child, travelling with an unrelated adult")
    assert page.locator("select[name=case]").input_value() == case.reference  # the open case, preselected
    page.select_option("select[name=link_to]", str(path.focal_points.get().pk))
    page.select_option("select[name=link_channel]", "email")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the referral").click()
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.SENT
    assert referral.case_id == case.pk
    assert page.url.endswith(f"/en/staff/referrals/{referral.reference}/")

    # then the focal point's email holds the link (and the shared data names no journey)
    email = OutboundMessage.objects.get(purpose="referral_link")
    link = re.search(r"https?://\S+/r/\S+/", email.body).group(0)
    path_only = link.split("://", 1)[1].split("/", 1)[1]

    # when the partner, who has no account, opens the link in another browser
    partner = open_page()
    partner.goto(f"{live_server.url}/{path_only}")
    shared = partner.locator("main").inner_text()
    assert referral.reference in shared
    assert "Kevin" in shared  # child protection receives the name
    assert person.reference not in shared  # the person's record reference never reaches a partner
    # ... accepts, saying where and when
    partner.fill("#accept-appointment", "Oficina DIF, lunes 9:00")
    with partner.expect_navigation():
        partner.get_by_role("button", name="Accept the referral").click()
    # ... and records the service given
    partner.fill("#deliver-note", "Placed in a safe shelter; tracing started")
    with partner.expect_navigation():
        partner.get_by_role("button", name="Record: service delivered").click()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DELIVERED
    assert referral.appointment == "Oficina DIF, lunes 9:00"
    # the link is now spent: it shows nothing more
    partner.goto(f"{live_server.url}/{path_only}")
    assert "Kevin" not in partner.locator("main").inner_text()
    # every use of the link was audited with its id
    assert AuditEntry.objects.filter(object_type="referrals.referral", detail__via="link").count() >= 3

    # when the caseworker sees the outcome, closes the referral, then closes the case
    page.goto(url(live_server, "referrals:detail", reference=referral.reference))
    assert "Placed in a safe shelter" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Close", exact=True).click()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED
    page.goto(url(live_server, "cases:close", reference=case.reference))
    page.check("input[name=reason][value=needs_met]")
    with page.expect_navigation():
        page.get_by_role("button", name="Close the case").click()
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
