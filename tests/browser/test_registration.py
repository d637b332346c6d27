"""Registering in a browser: the shipped form page by page with htmx, a flag, a duplicate, the audit trail."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from ventanilla.core.models import AuditEntry
from ventanilla.registration import services
from ventanilla.registration.models import Person
from ventanilla.registration.tests.test_register import TODAY, answers

pytestmark = pytest.mark.browser


def url(live_server, name, language="en", **kwargs):
    with translation.override(language):
        return live_server.url + reverse(name, kwargs=kwargs or None)


def sign_in(page, live_server, user, password, language="en"):
    page.goto(url(live_server, "accounts:login", language))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def choose(page, name, value):
    """Tick a radio button; htmx re-renders the page, so wait for what the choice reveals."""
    page.check(f"input[name='{name}'][value='{value}']")


def next_page(page, heading_name=None):
    with page.expect_navigation():
        page.click("button[name=_action][value=next]")


def walk(page, *, child: bool, given: str, family: str, age: str):
    # consent: choosing "yes" reveals the other consent questions without a page load (htmx)
    choose(page, "consent_registration", "yes")
    page.wait_for_selector("input[name=consent_referral]")
    choose(page, "consent_referral", "yes")
    choose(page, "consent_followup", "no")
    choose(page, "consent_method", "verbal")
    page.wait_for_selector("input[name=receipt_language]")
    choose(page, "receipt_language", "es")
    next_page(page)
    # identity
    page.fill("input[name=given_name]", given)
    page.fill("input[name=family_name]", family)
    choose(page, "sex", "male")
    choose(page, "dob_known", "no")
    page.wait_for_selector("input[name=age_estimate]")
    page.fill("input[name=age_estimate]", age)
    page.select_option("select[name=nationality]", "GT")
    next_page(page)
    # companions: a child is asked who looks after them
    choose(page, "travelling_with", "other_adults" if child else "alone")
    if child:
        page.wait_for_selector("input[name=child_care]")
        choose(page, "child_care", "unrelated_adult")
    next_page(page)
    # origin
    page.select_option("select[name=country_of_origin]", "GT")
    page.select_option("select[name=country_of_residence]", "GT")
    next_page(page)
    # journey, reasons, protection: nothing required
    for _ in range(3):
        next_page(page)
    # health
    choose(page, "urgent_medical_need", "no")
    next_page(page)
    with page.expect_navigation():
        page.click("button[name=_action][value=finish]")


def test_caseworker_registers_a_separated_child_in_spanish(world, live_server, open_page):
    services.shipped_form()
    page = open_page(locale="es-MX")
    sign_in(page, live_server, world.user("a", "caseworker"), world.password, "es")
    page.goto(url(live_server, "registration:register", "es") + f"?site={world.a.sites[0].pk}")
    assert page.locator("html").get_attribute("lang") == "es"
    walk(page, child=True, given="Kevin", family="Reyes", age="15")
    person = Person.objects.get()
    assert page.url.endswith(f"/es/staff/people/{person.reference}/")
    flags = page.locator("#flags-title + ul").inner_text()
    assert "separado" in flags.lower()
    assert "15" in flags
    # an auditor sees the read of this record in the audit log
    assert AuditEntry.objects.filter(action="read", object_id=str(person.pk)).exists()
    auditor_page = open_page()
    sign_in(auditor_page, live_server, world.user("a", "auditor"), world.password)
    auditor_page.goto(url(live_server, "core:audit_log"))
    assert "Read personal record" in auditor_page.locator("main").inner_text()


def test_arabic_registration_warns_of_an_earlier_latin_spelling(world, live_server, open_page):
    org = world.a
    version = services.shipped_form()
    services.register(
        version,
        answers(
            given_name="Mohamed",
            family_name="Ahmed",
            sex="male",
            age_estimate="30",
            child_care=None,
            nationality="GT",
        ),
        organisation=org.organisation,
        site=org.sites[0],
        by=org.users["caseworker"],
        today=TODAY,
    )
    page = open_page(locale="ar")
    sign_in(page, live_server, world.user("a", "caseworker"), world.password, "ar")
    page.goto(url(live_server, "registration:register", "ar") + f"?site={org.sites[0].pk}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#questionnaire-page").get_attribute("dir") == "rtl"
    walk(page, child=False, given="محمد", family="احمد", age="31")
    assert "/ar/staff/people/VT-" in page.url
    duplicates = page.locator("#dup-title + ul").inner_text()
    assert "Mohamed" in duplicates
