"""The OpenRosa API as ODK Collect uses it: a real Digest handshake, the form list, download, submission.

Submissions are built the way a phone builds them (the form's instance, filled, as XML) and must land
exactly like the web form: same validation, consent, screening and duplicate checks, nothing half-written.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from ventanilla.accounts.models import LoginFailure
from ventanilla.core.models import AuditEntry
from ventanilla.questionnaires import engine
from ventanilla.questionnaires.models import Submission
from ventanilla.registration import services
from ventanilla.registration.models import DuplicateCandidate, Flag, Person, Registration
from ventanilla.registration.models_openrosa import DeviceCredential
from ventanilla.registration.openrosa import credentials, digest
from ventanilla.registration.tests.test_register import answers

LIST = "{http://openrosa.org/xforms/xformsList}"
RESPONSE = "{http://openrosa.org/http/response}"


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class Phone:
    """ODK Collect, reduced to its HTTP: asks without credentials, answers the Digest challenge."""

    def __init__(self, username: str, password: str):
        self.client = Client()
        self.username, self.password = username, password
        self.challenge: dict[str, str] = {}
        self.nc = 0
        self.responses: list[Any] = []

    def _send(self, method: str, path: str, data: dict[str, Any] | None, authorization: str | None) -> Any:
        extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        if method == "POST":
            response = self.client.post(path, data or {}, **extra)
        else:
            response = self.client.generic(method, path, **extra)
        self.responses.append(response)
        return response

    def handshake(self, path: str = "/openrosa/formList") -> Any:
        first = self._send("HEAD" if path.endswith("submission") else "GET", path, None, None)
        assert first.status_code == 401
        header = first["WWW-Authenticate"]
        assert header.startswith("Digest ")
        self.challenge = dict(re.findall(r'(\w+)="?([^",]*)"?', header))
        assert (self.challenge["qop"], self.challenge["algorithm"]) == ("auth", "MD5")
        return first

    def authorization(self, method: str, uri: str, *, password: str | None = None) -> str:
        self.nc += 1
        nc, cnonce, nonce, realm = (
            f"{self.nc:08x}",
            uuid.uuid4().hex,
            self.challenge["nonce"],
            self.challenge["realm"],
        )
        ha1 = md5(f"{self.username}:{realm}:{password or self.password}")
        answer = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'{method}:{uri}')}")
        return (
            f'Digest username="{self.username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}", response="{answer}"'
        )

    def request(self, method: str, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if not self.challenge:
            self.handshake(path)
        return self._send(method, path, data, self.authorization(method, path, **kwargs))

    def submit(self, xml: bytes) -> Any:
        upload = SimpleUploadedFile("submission.xml", xml, content_type="text/xml")
        return self.request("POST", "/openrosa/submission", {"xml_submission_file": upload})


@pytest.fixture
def form(db):
    return services.shipped_form()


@pytest.fixture
def caseworker(world):
    user = world.user("a", "caseworker")
    user.preferred_language = "es"
    user.save(update_fields=["preferred_language"])
    return user


@pytest.fixture
def phone(world, form, caseworker):
    issued = credentials.create_device_credential(site=world.a.sites[0], name="Teléfono 1", by=caseworker)
    return Phone(issued.credential.username, issued.password)


def instance(form, data: dict[str, Any], instance_id: str | None = None) -> bytes:
    filled = {**data, "instanceID": instance_id or f"uuid:{uuid.uuid4()}"}
    return ET.tostring(engine.build_instance(form.schema, filled), encoding="utf-8")


def message_of(response) -> str:
    root = fromstring(response.content)
    assert root.tag == f"{RESPONSE}OpenRosaResponse"
    return root.find(f"{RESPONSE}message").text


def stored() -> tuple[int, ...]:
    return (
        Person.objects.count(),
        Registration.objects.count(),
        Submission.objects.count(),
        Flag.objects.count(),
        AuditEntry.objects.count(),
    )


def assert_openrosa_headers(responses):
    for response in responses:
        assert response["X-OpenRosa-Version"] == "1.0", response.status_code
        assert response.has_header("Date"), response.status_code


def test_form_list_names_the_shipped_form_with_the_hash_of_what_is_downloaded(phone, form):
    # when the phone asks for its forms, then downloads the one listed
    listed = phone.request("GET", "/openrosa/formList")
    # then the list is the OpenRosa document with the shipped form
    assert listed.status_code == 200
    assert listed["Content-Type"] == "text/xml; charset=utf-8"
    root = fromstring(listed.content)
    assert root.tag == f"{LIST}xforms"
    entries = root.findall(f"{LIST}xform")
    assert len(entries) == 1
    entry = {child.tag.removeprefix(LIST): child.text for child in entries[0]}
    assert entry["formID"] == "ventanilla_registration"
    assert entry["version"] == form.schema.version
    assert entry["name"] == form.schema.title
    assert (
        entry["downloadUrl"]
        == f"http://testserver/openrosa/forms/ventanilla_registration/{form.version}/form.xml"
    )
    assert (
        entry["manifestUrl"]
        == f"http://testserver/openrosa/forms/ventanilla_registration/{form.version}/manifest.xml"
    )
    # ... and the download is the stored XForm, whose MD5 is the listed hash
    download = phone.request("GET", entry["downloadUrl"].removeprefix("http://testserver"))
    assert download.status_code == 200
    assert download.content == form.xform.encode()
    assert entry["hash"] == "md5:" + hashlib.md5(download.content, usedforsecurity=False).hexdigest()
    manifest = phone.request("GET", entry["manifestUrl"].removeprefix("http://testserver"))
    assert manifest.status_code == 200
    assert fromstring(manifest.content).tag == "{http://openrosa.org/xforms/xformsManifest}manifest"
    assert list(fromstring(manifest.content)) == []
    missing = phone.request("GET", "/openrosa/forms/ventanilla_registration/1999/form.xml")
    assert missing.status_code == 404
    assert_openrosa_headers(phone.responses)


def test_head_submission_says_how_much_the_server_accepts(phone, settings):
    settings.OPENROSA_MAX_SUBMISSION_BYTES = 5_000_000
    response = phone.request("HEAD", "/openrosa/submission")
    assert response.status_code == 204
    assert response["X-OpenRosa-Accept-Content-Length"] == "5000000"
    assert_openrosa_headers(phone.responses)


def test_a_submission_lands_like_the_web_form(phone, form, world, caseworker):
    # given a man registered on the web under a Latin spelling
    web = services.register(
        form,
        answers(
            given_name="Mohamed",
            family_name="Ahmed",
            sex="male",
            age_estimate="30",
            child_care=None,
            nationality="SD",
        ),
        organisation=world.a.organisation,
        site=world.a.sites[0],
        by=caseworker,
        language="es",
    )
    # when the phone sends a separated child, then the same man under an Arabic spelling
    child = phone.submit(instance(form, answers()))
    man = phone.submit(
        instance(
            form,
            answers(
                given_name="محمد",
                family_name="احمد",
                sex="male",
                age_estimate="31",
                child_care=None,
                nationality="SD",
            ),
        )
    )
    # then both are registered, by the phone's owner at the phone's site, flagged and checked for duplicates
    assert (child.status_code, man.status_code) == (201, 201)
    registrations = Registration.objects.exclude(pk=web.registration.pk).order_by("pk")
    assert [r.submission.source for r in registrations] == ["openrosa", "openrosa"]
    assert {(r.registered_by_id, r.site_id, r.organisation_id) for r in registrations} == {
        (caseworker.pk, world.a.sites[0].pk, world.a.organisation.pk)
    }
    ana = registrations[0].person
    assert ana.reference in message_of(child)
    assert set(Flag.objects.filter(person=ana).values_list("code", flat=True)) == {
        "separated_child",
        "international_protection",
    }
    assert (ana.given_name, registrations[0].language) == ("Ana", "es")
    candidates = list(
        DuplicateCandidate.objects.filter(person=registrations[1].person).values_list(
            "candidate_id", flat=True
        )
    )
    assert candidates == [web.person.pk]
    assert fromstring(child.content).find(f"{RESPONSE}message").get("nature") == "submit_success"
    assert_openrosa_headers(phone.responses)


def test_sending_the_same_form_again_is_accepted_and_stores_nothing_new(phone, form):
    xml = instance(form, answers())
    assert phone.submit(xml).status_code == 201
    before = stored()
    again = phone.submit(xml)
    assert again.status_code == 202
    assert stored() == before
    assert Person.objects.count() == 1


def test_answers_the_form_forbids_are_refused_per_question_in_the_form_language(phone, form):
    phone.handshake("/openrosa/submission")
    before = stored()
    response = phone.submit(instance(form, answers(age_estimate="130")))
    assert response.status_code == 400
    text = message_of(response)
    node = form.schema.node_named("age_estimate")
    assert f"- {node.labels['es']}: {node.constraint_messages['es']}" in text
    assert stored() == before


def test_malformed_xml_is_refused(phone, form):
    phone.handshake("/openrosa/submission")
    before = stored()
    response = phone.submit(b"<data id='ventanilla_registration'><given_name>Ana</data>")
    assert response.status_code == 400
    bomb = (
        b'<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<data id="ventanilla_registration">&b;</data>'
    )
    assert phone.submit(bomb).status_code == 400
    assert phone.submit(b"").status_code == 400
    assert stored() == before
    assert_openrosa_headers(phone.responses)


def test_an_unknown_form_or_version_is_not_found(phone, form):
    xml = instance(form, answers()).replace(f'version="{form.schema.version}"'.encode(), b'version="1"')
    response = phone.submit(xml)
    assert response.status_code == 404
    assert "ventanilla_registration" in message_of(response)
    assert Person.objects.count() == 0


def test_an_oversized_submission_is_refused_before_it_is_read(phone, form, settings):
    settings.OPENROSA_MAX_SUBMISSION_BYTES = 2048
    phone.handshake("/openrosa/submission")
    before = stored()
    response = phone.submit(instance(form, answers(other_names="x" * 4000)))
    assert response.status_code == 413
    assert response["X-OpenRosa-Accept-Content-Length"] == "2048"
    assert stored() == before


def test_a_wrong_password_gets_a_new_challenge_and_repeated_failures_are_throttled(phone, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    phone.handshake()
    for _attempt in range(3):
        refused = phone._send(
            "GET",
            "/openrosa/formList",
            None,
            phone.authorization("GET", "/openrosa/formList", password="guess"),
        )
        assert refused.status_code == 401
        assert refused["WWW-Authenticate"].startswith('Digest realm="Ventanilla"')
    assert LoginFailure.objects.count() == 3
    # then even the right password waits
    throttled = phone.request("GET", "/openrosa/formList")
    assert throttled.status_code == 429
    assert_openrosa_headers(phone.responses)


def test_a_replayed_request_and_a_forged_nonce_are_refused(phone):
    phone.handshake()
    header = phone.authorization("GET", "/openrosa/formList")
    assert phone._send("GET", "/openrosa/formList", None, header).status_code == 200
    assert phone._send("GET", "/openrosa/formList", None, header).status_code == 401
    phone.challenge["nonce"] = "made-up:1:signature"
    assert phone.request("GET", "/openrosa/formList").status_code == 401
    # and a request signed for another address does not open this one
    phone.challenge = {}
    phone.handshake()
    other = phone.authorization("GET", "/openrosa/submission")
    assert phone._send("GET", "/openrosa/formList", None, other).status_code == 401


def test_an_expired_nonce_is_stale_not_a_wrong_password(phone, monkeypatch):
    phone.handshake()
    monkeypatch.setattr(digest, "NONCE_SECONDS", -1)
    response = phone.request("GET", "/openrosa/formList")
    assert response.status_code == 401
    assert "stale=true" in response["WWW-Authenticate"]
    assert LoginFailure.objects.count() == 0


def test_a_revoked_phone_is_refused(phone, caseworker):
    credential = DeviceCredential.objects.get(username=phone.username)
    credentials.revoke_device_credential(credential, by=caseworker)
    phone.handshake()
    assert phone.request("GET", "/openrosa/formList").status_code == 401


def test_another_organisations_partner_is_forbidden_and_nothing_is_stored(world, form):
    # given a phone credential of B's partner focal point naming A's site (roles changed after issue)
    password = "partner-pass-1234"
    partner = world.user("b", "partner_focal_point")
    DeviceCredential.objects.create(
        user=partner,
        organisation=world.a.organisation,
        site=world.a.sites[0],
        name="Partner",
        username="b-partner-phone",
        ha1=md5(f"b-partner-phone:Ventanilla:{password}"),
    )
    phone = Phone("b-partner-phone", password)
    before = stored()
    assert phone.request("GET", "/openrosa/formList").status_code == 403
    assert phone.request("HEAD", "/openrosa/submission").status_code == 403
    assert phone.submit(instance(form, answers())).status_code == 403
    assert stored() == before
    assert_openrosa_headers(phone.responses)


def test_every_response_speaks_openrosa(db):
    client = Client()
    responses = [
        client.get("/openrosa/formList"),
        client.get("/openrosa/no-such-thing"),
        client.get("/openrosa/submission"),
        client.post("/openrosa/submission"),
    ]
    assert [r.status_code for r in responses] == [401, 404, 405, 401]
    assert_openrosa_headers(responses)
    assert all(r["Content-Type"] == "text/xml; charset=utf-8" for r in responses)


# --- The staff page -------------------------------------------------------------------------------


def test_a_caseworker_creates_a_phone_password_shown_once_and_stored_as_encrypted_ha1(
    world, client_for, form
):
    caseworker = world.user("a", "caseworker")
    client = client_for(caseworker)
    page = client.get("/en/staff/openrosa/")
    assert page.status_code == 200
    created = client.post("/en/staff/openrosa/", {"name": "Mobile team", "site": world.a.sites[0].pk})
    assert created.status_code == 200
    credential = DeviceCredential.objects.get(user=caseworker)
    password = created.context["issued"].password
    assert password in created.content.decode()
    assert "http://testserver/openrosa/" in created.content.decode()
    assert credential.ha1 == md5(f"{credential.username}:Ventanilla:{password}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT ha1 FROM registration_devicecredential WHERE id = %s", [credential.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("v1:")
    assert credential.ha1 not in raw
    assert password not in client.get("/en/staff/openrosa/").content.decode()
    entry = AuditEntry.objects.filter(object_type="registration.devicecredential").latest("id")
    assert (entry.action, entry.actor_id, entry.organisation_id) == (
        "create",
        caseworker.pk,
        world.a.organisation.pk,
    )
    # and the phone works with what the page showed, until it is revoked
    phone = Phone(credential.username, password)
    assert phone.request("GET", "/openrosa/formList").status_code == 200
    revoked = client.post(f"/en/staff/openrosa/{credential.pk}/revoke/")
    assert revoked.status_code == 302
    assert (
        AuditEntry.objects.filter(object_type="registration.devicecredential").latest("id").action == "update"
    )
    assert phone.request("GET", "/openrosa/formList").status_code == 401


def test_a_site_that_is_not_yours_cannot_be_chosen(world, client_for, form):
    caseworker = world.user("a", "caseworker")
    response = client_for(caseworker).post("/en/staff/openrosa/", {"name": "X", "site": world.a.sites[1].pk})
    assert response.status_code == 422
    assert not DeviceCredential.objects.exists()
    with pytest.raises(credentials.CredentialError):
        credentials.create_device_credential(site=world.b.sites[0], name="X", by=caseworker)


def test_someone_else_cannot_revoke_your_phone(world, client_for, form):
    issued = credentials.create_device_credential(
        site=world.a.sites[0], name="X", by=world.user("a", "caseworker")
    )
    response = client_for(world.user("a", "site_manager")).post(
        f"/en/staff/openrosa/{issued.credential.pk}/revoke/"
    )
    assert response.status_code == 404
    issued.credential.refresh_from_db()
    assert issued.credential.revoked_at is None
