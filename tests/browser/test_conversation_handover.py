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


def test_an_officer_hands_a_conversation_to_a_caseworker_who_registers_the_person(
    world, live_server, open_page
):
    # given a request for help in A's inbox, and A's officer who registers nobody
    conversation = ingest.record_inbound(gateway(world), sender="+50233334455", text=REQUEST).conversation
    officer, caseworker = world.user("a", "information_officer"), world.user("a", "caseworker")
    officer_page = open_page(locale="fr")
    sign_in(officer_page, live_server, officer, world.password, "fr")
    officer_page.goto(url(live_server, "inbox:detail", "fr", pk=conversation.pk))
    assert officer_page.get_by_role("link", name="Commencer un enregistrement").count() == 0
    # when the officer picks the caseworker, marked as one who registers people, and assigns
    name = caseworker.get_full_name() or caseworker.username
    officer_page.get_by_label("Assigné à").select_option(label=f"{name} · enregistre des personnes")
    with officer_page.expect_navigation():
        officer_page.get_by_role("button", name="Assigner").click()
    assert "L'assignation est enregistrée." in officer_page.locator("main").inner_text()

    # then the caseworker finds it in their inbox, alone, and starts the registration from it
    page = open_page(locale="fr")
    sign_in(page, live_server, caseworker, world.password, "fr")
    with page.expect_navigation():
        page.locator("nav").get_by_role("link", name="Boîte de réception").click()
    rows = page.locator("table.inbox tbody tr")
    assert rows.count() == 1
    with page.expect_navigation():
        rows.first.get_by_role("link").first.click()
    assert REQUEST in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Commencer un enregistrement").click()
    assert f"conversation={conversation.pk}" in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
