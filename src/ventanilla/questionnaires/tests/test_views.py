"""Staff pages of questionnaires through the Django test client: listing, uploading, versions, trying.

The try-out is walked as a browser without JavaScript would: each page is a plain POST carrying the
hidden `_answers` and `_page` the previous page rendered, and the button pressed as `_action`.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from ventanilla.questionnaires import services
from ventanilla.questionnaires.models import FormVersion, Questionnaire
from ventanilla.questionnaires.tests.xlsforms import (
    features_form,
    q,
    settings_sheet,
    tiny_form,
    walk_form,
    xlsx,
)


def url(name: str, language: str = "en", **kwargs: Any) -> str:
    with translation.override(language):
        return reverse(f"questionnaires:{name}", kwargs=kwargs or None)


def upload(world, content: bytes, org: str = "a") -> FormVersion:
    return services.upload_form(
        content=content,
        filename="form.xlsx",
        owner=getattr(world, org).organisation,
        by=world.user(org, "administrator"),
    )


@pytest.fixture
def walk(world) -> FormVersion:
    return upload(world, walk_form())


def hidden(response, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


class Walker:
    """A browser without JavaScript on the try-out page: it posts the page it was last shown."""

    def __init__(self, client, path: str, language: str = ""):
        self.client = client
        self.path = path
        self.language = language
        self.response = client.get(path + (f"?language={language}" if language else ""))
        assert self.response.status_code == 200

    @property
    def answers(self) -> dict[str, Any]:
        return json.loads(hidden(self.response, "_answers"))

    @property
    def page(self) -> int:
        return int(hidden(self.response, "_page"))

    @property
    def text(self) -> str:
        return self.response.content.decode()

    def post(self, action: str = "next", headers: dict[str, str] | None = None, **fields: Any):
        data = {
            "_answers": hidden(self.response, "_answers"),
            "_page": hidden(self.response, "_page"),
            "_action": action,
            **({"_language": self.language} if self.language else {}),
            **fields,
        }
        self.response = self.client.post(self.path, data, headers=headers or {})
        return self.response


# ------------------------------------------------------------------------------------------- the list


def test_the_list_shows_own_and_shipped_forms_not_others(world, client_for):
    upload(world, tiny_form(form_id="a_form"), "a")
    upload(world, tiny_form(form_id="b_form"), "b")
    page = client_for(world.user("a", "caseworker")).get(url("list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "a_form" in text
    assert "b_form" not in text
    assert "Upload an XLSForm" not in text  # a caseworker does not manage forms


def test_anonymous_visitors_are_sent_to_sign_in(client_for, world):
    response = client_for(None).get(url("list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_good_upload_redirects_to_its_form_with_a_version(world, client_for):
    client = client_for(world.user("a", "me_officer"))
    response = client.post(
        url("list"),
        {
            "file": SimpleUploadedFile("walk.xlsx", walk_form()),
            "owner": world.a.organisation.pk,
            "purpose": "survey",
        },
    )
    questionnaire = Questionnaire.objects.get(form_id="walk")
    assert response.status_code == 302
    assert response["Location"] == url("detail", pk=questionnaire.pk)
    assert questionnaire.current is not None
    assert questionnaire.current.version == "1"
    assert questionnaire.owner == world.a.organisation


def test_a_bad_upload_answers_422_with_a_table_of_cells(world, client_for):
    bad = xlsx(
        [q("text", "a", "A"), q("textt", "b", "B"), q("integer", "c", "C", constraint=". >< 3")],
        None,
        settings_sheet("bad"),
    )
    response = client_for(world.user("a", "administrator")).post(
        url("list"),
        {"file": SimpleUploadedFile("bad.xlsx", bad), "owner": world.a.organisation.pk, "purpose": "survey"},
    )
    assert response.status_code == 422
    text = response.content.decode()
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>", text)
    assert ("survey", "3", "type") in rows
    assert not Questionnaire.objects.filter(form_id="bad").exists()


def test_upload_to_another_organisation_is_refused(world, client_for):
    response = client_for(world.user("a", "administrator")).post(
        url("list"),
        {
            "file": SimpleUploadedFile("t.xlsx", tiny_form()),
            "owner": world.b.organisation.pk,
            "purpose": "survey",
        },
    )
    assert response.status_code == 422  # the organisation is not among the choices
    assert not Questionnaire.objects.filter(form_id="tiny").exists()


def test_a_post_without_manage_forms_is_forbidden(world, client_for):
    response = client_for(world.user("a", "caseworker")).post(
        url("list"),
        {"file": SimpleUploadedFile("t.xlsx", tiny_form()), "owner": world.a.organisation.pk},
    )
    assert response.status_code == 403


# ----------------------------------------------------------------------------------- detail, downloads


def test_detail_and_downloads(world, client_for, walk):
    questionnaire = walk.questionnaire
    client = client_for(world.user("a", "caseworker"))
    detail = client.get(url("detail", pk=questionnaire.pk))
    assert detail.status_code == 200
    assert "pet_name" in detail.content.decode()
    xlsx_response = client.get(url("xlsx", pk=questionnaire.pk, version_pk=walk.pk))
    assert xlsx_response.status_code == 200
    assert xlsx_response.content == walk_form()
    assert 'filename="walk-1.xlsx"' in xlsx_response["Content-Disposition"]
    xform = client.get(url("xform", pk=questionnaire.pk, version_pk=walk.pk))
    assert xform.status_code == 200
    assert xform["Content-Type"].startswith("text/xml")
    assert b"<h:html" in xform.content


def test_another_organisation_sees_neither_the_form_nor_its_files(world, client_for, walk):
    client = client_for(world.user("b", "administrator"))
    pk = walk.questionnaire.pk
    for name, kwargs in [
        ("detail", {}),
        ("try", {}),
        ("xlsx", {"version_pk": walk.pk}),
        ("xform", {"version_pk": walk.pk}),
    ]:
        assert client.get(url(name, pk=pk, **kwargs)).status_code == 404, name


def test_a_version_of_another_form_is_not_found(world, client_for, walk):
    other = upload(world, tiny_form())
    client = client_for(world.user("a", "administrator"))
    response = client.get(url("xlsx", pk=walk.questionnaire.pk, version_pk=other.pk))
    assert response.status_code == 404


# -------------------------------------------------------------------------------------- make current


def test_make_current_by_a_form_manager_of_the_owner(world, client_for, walk):
    second = upload(world, walk_form("2"))
    assert second.questionnaire.current == second
    client = client_for(world.user("a", "site_manager"))
    response = client.post(url("make_current", pk=walk.questionnaire.pk, version_pk=walk.pk))
    assert response.status_code == 302
    walk.questionnaire.refresh_from_db()
    assert walk.questionnaire.current == walk


@pytest.mark.parametrize(("org", "role", "status"), [("a", "caseworker", 403), ("b", "administrator", 404)])
def test_make_current_refused_to_others(world, client_for, walk, org, role, status):
    second = upload(world, walk_form("2"))
    response = client_for(world.user(org, role)).post(
        url("make_current", pk=walk.questionnaire.pk, version_pk=walk.pk)
    )
    assert response.status_code == status
    second.questionnaire.refresh_from_db()
    assert second.questionnaire.current == second


def test_make_current_needs_a_post(world, client_for, walk):
    response = client_for(world.user("a", "administrator")).get(
        url("make_current", pk=walk.questionnaire.pk, version_pk=walk.pk)
    )
    assert response.status_code == 405


# ---------------------------------------------------------------------------------------------- try it


def test_walking_a_form_without_javascript(world, client_for, walk):
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=walk.questionnaire.pk))
    assert walker.page == 0
    assert "Do you have a pet?" in walker.text
    assert "Pet&#x27;s name" not in walker.text  # hidden until the answer is yes

    # next without an answer: the required message, on the same page, 422
    assert walker.post("next").status_code == 422
    assert walker.page == 0
    assert "Say whether you have a pet" in walker.text

    # yes reveals the pet's name, which is required in its turn
    assert walker.post("next", has_pet="yes").status_code == 422
    assert "Name the pet" in walker.text
    assert walker.post("next", has_pet="yes", pet_name="Rex").status_code == 200
    assert walker.page == 1
    assert walker.answers == {"has_pet": "yes", "pet_name": "Rex"}

    # the cascade: a state is offered only once the country is known, and only that country's
    assert 'value="chiapas"' not in walker.text
    walker.post("refresh", country="gt")
    assert 'value="peten"' in walker.text
    assert 'value="chiapas"' not in walker.text
    assert walker.post("next", country="gt", state="chiapas", age="200").status_code == 422
    assert "Choose one of the options offered." in walker.text
    assert "Too old" in walker.text

    # back keeps what was typed on this page
    walker.post("back", country="gt", state="peten", age="40")
    assert walker.page == 0
    assert walker.answers["state"] == "peten"
    assert 'value="yes" checked' in walker.text
    walker.post("next", has_pet="no")
    assert walker.page == 1
    assert "pet_name" not in walker.answers or walker.answers.get("has_pet") == "no"

    walker.post("next", country="gt", state="peten", age="40")
    assert walker.page == 2
    assert "No entries yet." in walker.text

    # repeats: add two, remove the first
    walker.post("add:child")
    walker.post("add:child", **{"child[1].child_name": "Ana"})
    assert walker.answers["child"] == [{"child_name": "Ana"}, {}]
    walker.post("remove:child[1]", **{"child[1].child_name": "Ana", "child[2].child_name": "Luis"})
    assert walker.answers["child"] == [{"child_name": "Luis"}]

    response = walker.post("finish", **{"child[1].child_name": "Luis"})
    assert response.status_code == 200
    assert "The form accepted these answers. Nothing was stored." in walker.text
    assert "pet_name" not in walker.text  # cleared when the answer became no
    assert "Luis" in walker.text


def test_finish_sends_back_to_the_first_page_with_an_error(world, client_for, walk):
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=walk.questionnaire.pk))
    walker.post("next", has_pet="no")
    walker.post("next", country="mx", state="oaxaca")
    walker.post("add:child")
    # the last page is fine but an answer on page 1 was removed behind its back
    data_answers = walker.answers
    del data_answers["has_pet"]
    walker.response = walker.client.post(
        walker.path,
        {
            "_answers": json.dumps(data_answers),
            "_page": "2",
            "_action": "finish",
            "child[1].child_name": "Ana",
        },
    )
    assert walker.response.status_code == 422
    assert walker.page == 0
    assert "Say whether you have a pet" in walker.text


def test_errors_in_arabic_on_a_right_to_left_page(world, client_for, walk):
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=walk.questionnaire.pk), "ar")
    assert 'dir="rtl"' in walker.text
    assert 'lang="ar"' in walker.text
    assert "هل لديك حيوان أليف؟" in walker.text
    walker.post("next", has_pet="yes")
    assert walker.response.status_code == 422
    assert "سمِّ الحيوان" in walker.text
    assert 'id="questionnaire-page" lang="ar" dir="rtl"' in walker.text
    walker.post("next", has_pet="yes", pet_name="ريكس")
    walker.post("next", country="mx", state="oaxaca", age="151")
    assert "العمر كبير جدا" in walker.text
    assert "Too old" not in walker.text


def test_the_language_can_be_changed_mid_form(world, client_for, walk):
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=walk.questionnaire.pk))
    walker.post("next", has_pet="no")
    walker.language = "ar"
    walker.post("language")
    assert walker.page == 1
    assert 'dir="rtl"' in walker.text
    assert "الصفحة الثانية" in walker.text
    assert walker.answers == {"has_pet": "no"}


def test_the_htmx_refresh_returns_only_the_page_with_the_new_question(world, client_for, walk):
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=walk.questionnaire.pk))
    response = walker.post("refresh", headers={"HX-Request": "true"}, has_pet="yes")
    assert response.status_code == 200
    text = walker.text
    assert text.startswith('<div id="questionnaire-page"')
    assert "<html" not in text
    assert "Pet&#x27;s name" in text
    assert 'name="pet_name"' in text
    assert walker.answers == {"has_pet": "yes"}
    assert "Name the pet" not in text  # no errors while typing


def test_nested_repeats_are_added_and_removed_inside_their_entry(world, client_for):
    version = upload(world, features_form())
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=version.questionnaire.pk))
    walker.post("next", name="Ana", age="30")
    walker.post("next", country="mx")
    assert walker.page == 2
    walker.post("add:member")
    walker.post("add:member[1].visit", **{"member[1].member_name": "A"})
    walker.post(
        "add:member[1].visit", **{"member[1].member_name": "A", "member[1].visit[1].visit_place": "x"}
    )
    assert walker.answers["member"] == [{"member_name": "A", "visit": [{"visit_place": "x"}, {}]}]
    walker.post(
        "remove:member[1].visit[1]",
        **{
            "member[1].member_name": "A",
            "member[1].visit[1].visit_place": "x",
            "member[1].visit[2].visit_place": "y",
        },
    )
    assert walker.answers["member"] == [{"member_name": "A", "visit": [{"visit_place": "y"}]}]
    assert 'value="add:member[1].visit"' in walker.text
    # a member called "nobody" has no visits: the repeat's own relevant hides its Add button
    walker.post("refresh", **{"member[1].member_name": "nobody", "member[1].visit[1].visit_place": "y"})
    assert 'value="add:member[1].visit"' not in walker.text
    assert 'value="add:member"' in walker.text


def test_read_only_answers_cannot_be_changed_by_a_post(world, client_for):
    version = upload(
        world,
        xlsx(
            [q("text", "centre", "Centre", default="Casa Alfa", read_only="yes"), q("text", "name", "Name")],
            None,
            settings_sheet("ro"),
        ),
    )
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=version.questionnaire.pk))
    # shown as a read-only answer with its value, not as a note
    assert 'name="centre" value="Casa Alfa" type="text" readonly>' in walker.text
    walker.post("finish", centre="Elsewhere", name="Ana")
    assert "centre: Casa Alfa" in walker.text
    assert "Elsewhere" not in walker.text


def test_tampered_hidden_answers_are_checked_again(world, client_for, walk):
    walker = Walker(client_for(world.user("a", "caseworker")), url("try", pk=walk.questionnaire.pk))
    for junk, message in [
        ("[1,2]", "Say whether you have a pet"),
        ("not json", "Say whether you have a pet"),
        (json.dumps({"has_pet": {"x": 1}, "child": "x"}), "Choose one of the options offered."),
        (
            json.dumps({"has_pet": "yes", "child": [{"child_name": ["a"]}, 3]}),
            "This question needs an answer.",
        ),
    ]:
        response = walker.client.post(walker.path, {"_answers": junk, "_page": "7", "_action": "finish"})
        assert response.status_code == 422
        assert message in response.content.decode()
