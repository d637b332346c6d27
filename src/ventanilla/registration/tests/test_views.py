"""The caseworker's pages: registering through the form without JavaScript, the record, decisions."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from ventanilla.core.models import AuditEntry
from ventanilla.registration import services
from ventanilla.registration.models import Consent, Person
from ventanilla.registration.tests.test_register import TODAY, answers


@pytest.fixture
def form(db):
    return services.shipped_form()


def finish(client, form, data, *, site, language="es", extra=None):
    """Post the whole form from its last page, as the browser does after walking the pages."""
    questionnaire = form.questionnaire
    url = reverse("registration:register") + f"?site={site.pk}&form={questionnaire.pk}"
    pages = client.get(url)
    assert pages.status_code == 200
    last = pages.context["page"].count - 1
    payload = {
        "_answers": json.dumps(data),
        "_page": str(last),
        "_action": "finish",
        "_language": language,
        "_site": str(site.pk),
        "_form": str(questionnaire.pk),
        **(extra or {}),
    }
    return client.post(url, payload)


def test_caseworker_registers_a_separated_child_and_sees_the_flag_with_its_reason(world, form, client_for):
    caseworker = world.a.users["caseworker"]
    client = client_for(caseworker)
    response = finish(client, form, answers(), site=world.a.sites[0])
    assert response.status_code == 302
    person = Person.objects.get()
    assert response["Location"].endswith(f"/staff/people/{person.reference}/")
    page = client.get(response["Location"])
    content = page.content.decode()
    assert "Separated child" in content
    # The reason, in words from the form: the question and the chosen answer.
    assert "Who looks after you on this journey?" in content or "child_care" not in content
    assert AuditEntry.objects.filter(action="read", object_id=str(person.pk)).exists()
    # Services and the journey in words, not codes.
    assert "Child protection" in content
    assert "child_protection" not in content
    assert "smuggler_broker" not in content


def test_walking_the_pages_without_javascript(world, form, client_for):
    client = client_for(world.a.users["caseworker"])
    site = world.a.sites[0]
    url = reverse("registration:register") + f"?site={site.pk}&form={form.questionnaire.pk}"
    first = client.get(url)
    assert first.context["page"].index == 0
    # Page 1 (consent): say yes, go on to the identity page.
    response = client.post(
        url,
        {
            "_answers": "{}",
            "_page": "0",
            "_action": "next",
            "_language": "en",
            "consent_registration": "yes",
            "consent_referral": "yes",
            "consent_followup": "yes",
            "consent_method": "written",
            "receipt_language": "en",
        },
    )
    assert response.status_code == 200
    assert response.context["page"].index == 1
    keys = [item.key for item in response.context["page"].items]
    assert "given_name" in keys
    carried = json.loads(response.context["answers_json"])
    assert carried["consent_registration"] == "yes"
    # Next without the required name: stays on the page with the error.
    again = client.post(
        url,
        {"_answers": response.context["answers_json"], "_page": "1", "_action": "next", "_language": "en"},
    )
    assert again.status_code == 422
    assert again.context["page"].index == 1
    assert again.context["page"].errors >= 1


def test_arabic_form_is_right_to_left(world, form, client_for):
    client = client_for(world.a.users["caseworker"])
    site = world.a.sites[0]
    url = reverse("registration:register") + f"?site={site.pk}&form={form.questionnaire.pk}&language=ar"
    response = client.get(url)
    assert 'dir="rtl"' in response.content.decode()
    assert response.context["form_language"] == "ar"


def test_no_consent_stores_nothing_and_says_so(world, form, client_for):
    client = client_for(world.a.users["caseworker"])
    response = finish(
        client, form, {"consent_registration": "no", "consent_statistics": "no"}, site=world.a.sites[0]
    )
    assert response.status_code == 200
    assert "nothing was stored" in response.content.decode()
    assert not Person.objects.exists()


def test_people_list_search_by_arabic_spelling_and_scoping(world, form, client_for):
    org = world.a
    services.register(
        form,
        answers(given_name="Mohamed", family_name="Ahmed", sex="male", age_estimate="30", child_care=None),
        organisation=org.organisation,
        site=org.sites[0],
        by=org.users["caseworker"],
        today=TODAY,
    )
    client = client_for(org.users["caseworker"])
    found = client.get(reverse("registration:person_list"), {"q": "محمد"})
    assert [p.given_name for p in found.context["rows"]] == ["Mohamed"]
    other_site = client_for(world.b.users["caseworker"]).get(
        reverse("registration:person_list"), {"q": "Mohamed"}
    )
    assert list(other_site.context["rows"]) == []
    assert (
        client_for(org.users["partner_focal_point"]).get(reverse("registration:person_list")).status_code
        == 403
    )


def test_record_of_another_organisation_is_not_found(world, form, client_for):
    outcome = services.register(
        form,
        answers(),
        organisation=world.a.organisation,
        site=world.a.sites[0],
        by=world.a.users["caseworker"],
        today=TODAY,
    )
    url = reverse("registration:person_detail", args=[outcome.person.reference])
    assert client_for(world.b.users["site_manager"]).get(url).status_code == 404
    assert client_for(world.a.users["caseworker"]).get(url).status_code == 200


def test_withdraw_consent_from_the_record(world, form, client_for):
    outcome = services.register(
        form,
        answers(),
        organisation=world.a.organisation,
        site=world.a.sites[0],
        by=world.a.users["caseworker"],
        today=TODAY,
    )
    consent = Consent.objects.get(person=outcome.person, purpose="follow_up")
    client = client_for(world.a.users["caseworker"])
    url = reverse("registration:withdraw_consent", args=[outcome.person.reference, consent.pk])
    client.post(url)
    consent.refresh_from_db()
    # follow_up was "no": nothing to withdraw; referral was yes.
    assert consent.withdrawn_at is None
    referral = Consent.objects.get(person=outcome.person, purpose="referral")
    client.post(reverse("registration:withdraw_consent", args=[outcome.person.reference, referral.pk]))
    referral.refresh_from_db()
    assert referral.withdrawn_at is not None


def test_receipt_in_the_persons_language(world, form, client_for):
    outcome = services.register(
        form,
        answers(receipt_language="ar"),
        organisation=world.a.organisation,
        site=world.a.sites[0],
        by=world.a.users["caseworker"],
        today=TODAY,
    )
    response = client_for(world.a.users["caseworker"]).get(
        reverse("registration:receipt", args=[outcome.person.reference])
    )
    content = response.content.decode()
    assert 'lang="ar" dir="rtl"' in content
    assert outcome.person.reference in response.context["receipt"].sms


def test_erase_needs_the_reference_typed(world, form, client_for):
    outcome = services.register(
        form,
        answers(),
        organisation=world.a.organisation,
        site=world.a.sites[0],
        by=world.a.users["caseworker"],
        today=TODAY,
    )
    client = client_for(world.a.users["caseworker"])
    url = reverse("registration:erase", args=[outcome.person.reference])
    client.post(url, {"confirm": "nope"})
    assert Person.objects.get().erased_at is None
    client.post(url, {"confirm": outcome.person.reference})
    assert Person.objects.get().erased_at is not None


def test_merge_from_the_record(world, form, client_for):
    org = world.a
    kwargs = {
        "organisation": org.organisation,
        "site": org.sites[0],
        "by": org.users["caseworker"],
        "today": TODAY,
    }
    services.register(
        form, answers(given_name="Fatima", family_name="Hassan", age_estimate="25", child_care=None), **kwargs
    )
    second = services.register(
        form, answers(given_name="فاطمة", family_name="حسن", age_estimate="25", child_care=None), **kwargs
    )
    candidate = second.duplicates[0]
    client = client_for(org.users["caseworker"])
    page = client.get(reverse("registration:person_detail", args=[second.person.reference]))
    assert "Possible duplicates" in page.content.decode()
    response = client.post(
        reverse("registration:decide_duplicate", args=[second.person.reference, candidate.pk, "merge"])
    )
    assert response.status_code == 302
    second.person.refresh_from_db()
    assert second.person.merged_into_id == candidate.candidate_id


def test_correct_answers_needs_a_reason(world, form, client_for):
    outcome = services.register(
        form,
        answers(),
        organisation=world.a.organisation,
        site=world.a.sites[0],
        by=world.a.users["caseworker"],
        today=TODAY,
    )
    client = client_for(world.a.users["caseworker"])
    url = reverse("registration:correct", args=[outcome.person.reference, outcome.registration.pk])
    page = client.get(url)
    last = page.context["page"].count - 1
    corrected = {**outcome.registration.submission.answers, "given_name": "Ana María"}
    refused = client.post(
        url, {"_answers": json.dumps(corrected), "_page": str(last), "_action": "finish", "_reason": ""}
    )
    assert refused.status_code == 422
    done = client.post(
        url, {"_answers": json.dumps(corrected), "_page": str(last), "_action": "finish", "_reason": "typo"}
    )
    assert done.status_code == 302
    assert Person.objects.get().given_name == "Ana María"


def test_finish_on_a_page_that_opened_more_pages_goes_on_without_javascript(world, form, client_for):
    # Before consent is answered the consent page is the only page, so it offers "Finish".
    client = client_for(world.a.users["caseworker"])
    site = world.a.sites[0]
    url = reverse("registration:register") + f"?site={site.pk}&form={form.questionnaire.pk}"
    assert client.get(url).context["is_last"] is True
    data = {"_answers": "{}", "_page": "0", "_action": "finish", "_language": "en"}
    consent = {
        "consent_registration": "yes",
        "consent_referral": "no",
        "consent_followup": "no",
        "consent_method": "verbal",
        "receipt_language": "en",
    }
    response = client.post(url, {**data, **consent})
    assert response.status_code == 200
    assert response.context["page"].index == 1
    assert response.context["page"].errors == 0
    assert not Person.objects.exists()
