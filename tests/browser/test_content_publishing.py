"""A staff member publishing a reviewed article, in a browser, from the first word to the public page.

The issue asks for this path explicitly: an author writes an article and sends it for review, a second
person approves and publishes it, and anyone can then read it on the public article page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from ventanilla.hub.models import ContentItem, ContentTranslation, TranslationStatus

pytestmark = pytest.mark.browser

KEY = "keep-your-documents"


def sign_in(page, live_server, user, password):
    page.goto(live_server.url + reverse("accounts:login"))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_author_writes_reviewer_publishes_and_the_public_reads_it(world, live_server, open_page):
    author, reviewer = world.user("a", "information_officer"), world.user("a", "administrator")
    # given the author, signed in on a phone, creating a protection-critical article
    page = open_page()
    sign_in(page, live_server, author, world.password)
    page.goto(live_server.url + "/en/staff/content/new/")
    page.fill("input[name=key]", KEY)
    page.select_option("select[name=kind]", "rights")
    page.select_option("select[name=sensitivity]", "protection_critical")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    item = ContentItem.objects.get(key=KEY)
    assert page.url == f"{live_server.url}/en/staff/content/{item.pk}/en/"
    # when they write it in English and send it for review
    page.fill("input[name=title]", "If someone keeps your documents")
    page.fill("textarea[name=summary]", "Nobody may keep your passport.")
    page.fill("textarea[name=steps]", "Ask for them back in writing.\nCall the labour inspectorate.")
    with page.expect_navigation():
        page.click("button[name=submit]")
    # then it waits for review and is not public yet
    assert ContentTranslation.objects.get(item=item, language="en").status == TranslationStatus.IN_REVIEW
    public = open_page(java_script_enabled=False)
    assert public.goto(f"{live_server.url}/en/info/{KEY}/").status == 404
    # and the author cannot approve their own protection-critical words
    page.goto(f"{live_server.url}/en/staff/content/{item.pk}/en/review/")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve and publish").click()
    assert page.locator("main").get_by_text("needs a reviewer other than its author").count() == 1
    assert ContentTranslation.objects.get(item=item, language="en").status == TranslationStatus.IN_REVIEW

    # when a second content manager opens the review queue and approves it
    review = open_page()
    sign_in(review, live_server, reviewer, world.password)
    review.goto(live_server.url + "/en/staff/content/review/")
    with review.expect_navigation():
        review.get_by_role("link", name="If someone keeps your documents").click()
    assert review.locator("main").get_by_text("Nobody may keep your passport.").count() >= 1
    with review.expect_navigation():
        review.get_by_role("button", name="Approve and publish").click()
    # then the queue is empty, and the translation is published by the reviewer
    assert review.url == live_server.url + "/en/staff/content/review/"
    assert review.locator("main").get_by_text("Nothing waits for review.").count() == 1
    translation = ContentTranslation.objects.get(item=item, language="en")
    assert (translation.status, translation.reviewed_by_id) == (TranslationStatus.PUBLISHED, reviewer.pk)

    # and anyone, without JavaScript, reads it on the public article page with its numbered steps
    response = public.goto(f"{live_server.url}/en/info/{KEY}/")
    assert response.status == 200
    assert public.locator("h1").inner_text() == "If someone keeps your documents"
    assert public.locator("ol.steps li").all_inner_texts() == [
        "Ask for them back in writing.",
        "Call the labour inspectorate.",
    ]
