"""From the inbox to a referral in a browser, in Spanish: a site manager opens a request for help sent
from a registered person's number, links her record and refers her to a clinic from the conversation."""

from __future__ import annotations

import pytest

from tests.browser.test_registration import sign_in, url
from ventanilla.messaging import ingest
from ventanilla.referrals.models import Referral
from ventanilla.testing.messaging import gateway
from ventanilla.testing.referrals import pathway, register_person

pytestmark = pytest.mark.browser

REQUEST = "Mi hija tiene fiebre alta desde ayer, ¿a dónde la llevo?"


def test_a_request_for_help_is_linked_to_the_persons_record_and_referred(world, live_server, open_page):
    # given a registered person who consented to referral, a pathway to a clinic, and her message
    person = register_person(world, phone="+502 3333 4444")
    pathway(world)
    conversation = ingest.record_inbound(gateway(world), sender="+50233334444", text=REQUEST).conversation
    manager = world.user("a", "site_manager")

    # when A's site manager opens the conversation in Spanish
    page = open_page(locale="es")
    sign_in(page, live_server, manager, world.password, "es")
    page.goto(url(live_server, "inbox:detail", "es", pk=conversation.pk))
    # then her record is offered (same number), and linking it takes one button
    section = page.locator("section[aria-labelledby=register-title]")
    assert person.reference in section.inner_text()
    with page.expect_navigation():
        section.get_by_role("button", name="Vincular este registro").click()
    assert page.url == url(live_server, "inbox:detail", "es", pk=conversation.pk)
    # when they refer her from the conversation
    with page.expect_navigation():
        page.get_by_role("link", name="Derivar a una organización aliada").click()
    assert "bandeja de entrada" in page.locator("main").inner_text()
    page.locator("label.choice", has_text="Atención médica").locator("input").check()
    page.fill("textarea[name=need]", "Fiebre alta en una niña de 9 años")
    with page.expect_navigation():
        page.get_by_role("button", name="Enviar la derivación").click()

    # then the referral is sent and remembers the conversation, which lists it
    referral = Referral.objects.get()
    assert (referral.person, referral.conversation, referral.category) == (person, conversation, "medical")
    page.goto(url(live_server, "inbox:detail", "es", pk=conversation.pk))
    assert referral.reference in page.locator("section[aria-labelledby=register-title]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
