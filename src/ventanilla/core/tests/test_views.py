"""Security headers, health checks, the dashboard shell and the audit log page."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from ventanilla.accounts import services
from ventanilla.core import audit
from ventanilla.core.middleware import content_security_policy
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.testing.factories import UserFactory

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def assert_security_headers(response) -> None:
    assert response["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=(self)"


# --- Headers ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [("/healthz", 200), ("/readyz", 200), ("/en/accounts/login/", 200), ("/en/no-such-page/", 404)],
)
def test_anonymous_responses_carry_the_security_headers(path, status):
    response = Client().get(path)
    assert response.status_code == status
    assert_security_headers(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"), [("/en/staff/", 200), ("/en/audit/", 200), ("/en/no-such-page/", 404)]
)
def test_authenticated_responses_carry_the_headers_and_are_not_stored(world, client_for, path, status):
    # given an auditor (who may open every page listed)
    client = client_for(world.user("a", "auditor"))
    # when
    response = client.get(path)
    # then
    assert response.status_code == status
    assert_security_headers(response)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_anonymous_pages_are_not_marked_no_store_by_the_middleware():
    response = Client().get("/en/no-such-page/")
    assert "Cache-Control" not in response


@pytest.mark.django_db
def test_health_checks_keep_their_own_cache_control_header():
    # never_cache already forbids storing; the middleware does not overwrite it
    response = Client().get("/healthz")
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.mark.django_db
def test_extra_image_sources_extend_only_img_src():
    with override_settings(CSP_EXTRA_IMG_SOURCES=["https://tiles.example.org"]):
        response = Client().get("/healthz")
        policy = content_security_policy()
    assert response["Content-Security-Policy"] == policy
    assert "img-src 'self' data: https://tiles.example.org;" in policy
    assert policy.replace(" https://tiles.example.org", "") == CSP


@pytest.mark.django_db
def test_health_checks_stay_reachable_over_plain_http_when_https_is_forced():
    # given a server that redirects everything to HTTPS (a load balancer probes over HTTP)
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        health = client.get("/healthz")
        ready = client.get("/readyz")
        page = client.get("/en/accounts/login/")
    # then
    assert (health.status_code, ready.status_code) == (200, 200)
    assert page.status_code == 301
    assert page["Location"] == "https://testserver/en/accounts/login/"


# --- Health checks ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_says_ok():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_without_a_broker_checks_the_database():
    with override_settings(CELERY_BROKER_URL=""):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_readyz_with_an_unreachable_broker_is_not_ready():
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content) == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unavailable"},
    }


@pytest.mark.django_db
def test_readyz_with_a_reachable_broker_is_ready():
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/15"):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


# --- Dashboard and page shell ----------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_shows_only_the_users_organisation(world, client_for):
    # when
    response = client_for(world.user("a", "caseworker")).get("/en/staff/")
    # then
    assert response.status_code == 200
    assert list(response.context["organisations"]) == [world.a.organisation]
    assert response.context["site_count"] == 2
    assert [m.organisation for m in response.context["memberships"]] == [world.a.organisation]


@pytest.mark.django_db
def test_dashboard_needs_a_sign_in():
    response = Client().get("/en/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/?next=/en/staff/"


@pytest.mark.django_db
def test_the_shell_offers_the_audit_log_only_to_those_who_may_read_it(world, client_for):
    auditor = client_for(world.user("a", "auditor")).get("/en/staff/")
    caseworker = client_for(world.user("a", "caseworker")).get("/en/staff/")
    assert auditor.context["can"]["view_audit_log"] is True
    assert caseworker.context["can"]["view_audit_log"] is False
    assert caseworker.context["can"]["view_personal_data"] is True
    assert 'href="/en/audit/"' in auditor.content.decode()
    assert 'href="/en/audit/"' not in caseworker.content.decode()


@pytest.mark.django_db
def test_arabic_pages_are_right_to_left_and_link_the_other_languages(world, client_for):
    # when
    response = client_for(world.user("a", "auditor")).get("/ar/audit/?action=export")
    html = response.content.decode()
    # then
    assert response.context["LANGUAGE_DIRECTION"] == "rtl"
    assert '<html lang="ar" dir="rtl">' in html
    assert '<a href="/es/audit/?action=export" lang="es" hreflang="es">español</a>' in html
    assert '<span aria-current="true" lang="ar">العربيّة</span>' in html


@pytest.mark.django_db
def test_english_pages_are_left_to_right(world, client_for):
    response = client_for(world.user("a", "auditor")).get("/en/staff/")
    assert response.context["LANGUAGE_DIRECTION"] == "ltr"


# --- Audit log page --------------------------------------------------------------------------------


def shown(response) -> set[int]:
    return {entry.pk for entry in response.context["page"].object_list}


def entries_of(organisation_id: int) -> set[int]:
    return set(AuditEntry.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True))


@pytest.mark.django_db
def test_audit_log_shows_the_auditor_only_their_organisations_entries(world, client_for):
    # given the entries written while building the world (organisation and memberships, A and B)
    a, b = world.a.organisation.pk, world.b.organisation.pk
    # when
    response = client_for(world.user("a", "auditor")).get("/en/audit/")
    # then
    assert response.status_code == 200
    assert len(entries_of(a)) == 9
    assert shown(response) == entries_of(a)
    assert not shown(response) & entries_of(b)


@pytest.mark.django_db
def test_audit_log_filters_by_actor_action_object_and_date(world, client_for):
    # given a few entries in organisation A
    a = world.a.organisation.pk
    caseworker, manager = world.user("a", "caseworker"), world.user("a", "site_manager")
    export = audit.record(
        AuditAction.EXPORT, by=caseworker, organisation_id=a, object_type="person", object_id="p7"
    )
    read = audit.record(
        AuditAction.READ, by=caseworker, organisation_id=a, object_type="person", object_id="p8"
    )
    other = audit.record(
        AuditAction.READ, by=manager, organisation_id=a, object_type="referral", object_id="p7"
    )
    client = client_for(world.user("a", "auditor"))
    today = timezone.localdate()
    tomorrow, yesterday = today + datetime.timedelta(days=1), today - datetime.timedelta(days=1)
    # when / then
    assert shown(client.get(f"/en/audit/?actor={caseworker.pk}")) == {export.pk, read.pk}
    assert shown(client.get("/en/audit/?action=export")) == {export.pk}
    assert shown(client.get("/en/audit/?object_type=person")) == {export.pk, read.pk}
    assert shown(client.get("/en/audit/?object_type=person&object_id=p8")) == {read.pk}
    assert shown(client.get("/en/audit/?object_id=p7")) == {export.pk, other.pk}
    assert shown(client.get(f"/en/audit/?action=read&actor={manager.pk}")) == {other.pk}
    assert shown(client.get(f"/en/audit/?from={today}&to={today}")) == entries_of(a)
    assert shown(client.get(f"/en/audit/?from={tomorrow}")) == set()
    assert shown(client.get(f"/en/audit/?to={yesterday}")) == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["actor=abc", "actor=²", "actor=-1", "action=peek", "from=2024-13-45", "to=yesterday", "page=zzz"],
)
def test_audit_log_ignores_filters_it_cannot_read(world, client_for, query):
    response = client_for(world.user("a", "auditor")).get(f"/en/audit/?{query}")
    assert response.status_code == 200
    assert shown(response) == entries_of(world.a.organisation.pk)


@pytest.mark.django_db
def test_audit_log_with_a_huge_actor_id_finds_nothing(world, client_for):
    response = client_for(world.user("a", "auditor")).get("/en/audit/?actor=" + "9" * 30)
    assert response.status_code == 200
    assert shown(response) == set()


@pytest.mark.django_db
def test_audit_log_pages_keep_the_filters(world, client_for):
    # given 60 exports in A
    a = world.a.organisation.pk
    for n in range(60):
        audit.record(AuditAction.EXPORT, organisation_id=a, object_type="person", object_id=str(n))
    client = client_for(world.user("a", "auditor"))
    # when
    first = client.get("/en/audit/?action=export")
    second = client.get("/en/audit/?action=export&page=2")
    # then
    assert len(shown(first)) == 50
    assert len(shown(second)) == 10
    assert second.context["query"] == "action=export"
    assert 'href="?action=export&amp;page=1"' in second.content.decode()


@pytest.mark.django_db
def test_audit_log_htmx_request_gets_only_the_results(world, client_for):
    response = client_for(world.user("a", "auditor")).get("/en/audit/?action=create", HTTP_HX_REQUEST="true")
    templates = [t.name for t in response.templates]
    assert "core/audit_log_results.html" in templates
    assert "core/audit_log.html" not in templates
    assert "<h1>" not in response.content.decode()


@pytest.mark.django_db
def test_the_administrator_reads_the_audit_log_too(world, client_for):
    response = client_for(world.user("a", "administrator")).get("/en/audit/")
    assert shown(response) == entries_of(world.a.organisation.pk)


@pytest.mark.django_db
def test_a_member_of_two_organisations_does_not_leak_the_other_ones_entries(world, client_for):
    # given someone working for both A and B, who acts in B and signs in (no organisation)
    both = world.outsider
    services.grant_membership(user=both, organisation=world.a.organisation, role="caseworker", by=None)
    services.grant_membership(user=both, organisation=world.b.organisation, role="administrator", by=None)
    in_b = audit.record(AuditAction.EXPORT, by=both, organisation_id=world.b.organisation.pk)
    sign_in = audit.record(AuditAction.LOGIN, by=both, obj=both)
    # when A's auditor reads the log
    response = client_for(world.user("a", "auditor")).get("/en/audit/")
    # then the sign-in of A's member is there, what they did in B is not
    assert sign_in.pk in shown(response)
    assert in_b.pk not in shown(response)
    assert shown(response) == entries_of(world.a.organisation.pk) | {sign_in.pk}


@pytest.mark.django_db
def test_a_superuser_reads_every_entry(world):
    # given
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(superuser)
    # when
    response = client.get("/en/audit/")
    # then
    assert shown(response) == set(AuditEntry.objects.values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["caseworker", "site_manager", "partner_focal_point", "data_analyst"])
def test_audit_log_is_forbidden_without_the_permission(world, client_for, role):
    response = client_for(world.user("a", role)).get("/en/audit/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_audit_log_is_forbidden_to_a_user_without_organisation(world, client_for):
    assert client_for(world.outsider).get("/en/audit/").status_code == 403


@pytest.mark.django_db
def test_audit_log_sends_anonymous_visitors_to_sign_in():
    response = Client().get("/en/audit/")
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/?next=/en/audit/"


# --- Audit log in the admin site -------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_shows_the_audit_log_read_only(world):
    # given
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    entry = AuditEntry.objects.order_by("id").first()
    client = Client()
    client.force_login(superuser)
    # when
    listing = client.get("/en/admin/core/auditentry/")
    detail = client.get(f"/en/admin/core/auditentry/{entry.pk}/change/")
    add = client.get("/en/admin/core/auditentry/add/")
    delete = client.post(f"/en/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"})
    change = client.post(f"/en/admin/core/auditentry/{entry.pk}/change/", {"object_id": "999"})
    # then
    assert (listing.status_code, detail.status_code) == (200, 200)
    assert (add.status_code, delete.status_code, change.status_code) == (403, 403, 403)
    assert 'name="_save"' not in detail.content.decode()
    assert AuditEntry.objects.get(pk=entry.pk).object_id == entry.object_id
    assert audit.verify_chain().ok


@pytest.mark.django_db
def test_the_admin_site_signs_in_through_ventanilla():
    # The admin's own login form would skip two-factor, throttling and the audit.
    response = Client().get("/en/admin/login/?next=/en/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/?next=/en/admin/login/%3Fnext%3D/en/admin/"
