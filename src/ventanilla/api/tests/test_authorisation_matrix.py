"""Who may open which page and call which endpoint: one row per URL and method, one column per principal.

Columns: anonymous, each of the eight roles of organisation A, the administrator of organisation B (the
most powerful user who is *not* in A) and the outsider (signed in, no membership). Objects in the rows
belong to organisation A, so organisation B must get 404 (never 403) for them.

Outcomes: an HTTP status, `LOGIN` (302 to the sign-in page with `next`), `ADMIN_LOGIN` (302 to the admin
sign-in page) or "302 <path>" for any other redirect. A path may name the row's objects ("{org_a}",
"{person_a}", see `PLACEHOLDERS`); a `Redirect` pattern stands for an address the write itself makes.

Write rows: every principal tries the write in turn on one world, refused principals first. A refused
write must leave the accounts tables, the users and the audit log exactly as they were; an allowed
write must do what it says and leave its audit entries, by the actor.

`test_every_url_pattern_is_in_the_matrix` fails when a URL pattern appears that no row covers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from ventanilla.accounts import services
from ventanilla.accounts.models import ApiToken, Membership, RolePolicy, Site, User
from ventanilla.api.tests import matrix_messaging, matrix_referrals
from ventanilla.api.tests.matrix import (
    ADMIN_LOGIN,
    LOGIN,
    NEW_PASSWORD,
    PRINCIPALS,
    ROLES,
    Redirect,
    Row,
    admin_only,
    everyone,
    expect,
    org_a_only,
    outcome,
    send,
    user_of,
)
from ventanilla.core import audit
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory.models import (
    ImportJob,
    OpeningException,
    OpeningHours,
    PublicationStatus,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory
from ventanilla.hub import services as hub_services
from ventanilla.hub.models import ContentItem, ContentRevision, ContentTranslation, Sensitivity
from ventanilla.questionnaires import renderer
from ventanilla.questionnaires.models import FormVersion, Questionnaire, Submission
from ventanilla.questionnaires.tests.factories import kept_form, tiny_xlsform
from ventanilla.registration import services as registration_services
from ventanilla.registration.models import (
    AnswerCorrection,
    Consent,
    DuplicateCandidate,
    DuplicateDecision,
    ExportJob,
    Flag,
    JourneyLeg,
    MatchKey,
    Person,
    PersonLink,
    Registration,
)
from ventanilla.registration.models_openrosa import DeviceCredential
from ventanilla.registration.openrosa import credentials as device_credentials
from ventanilla.registration.tests.test_register import TODAY, answers
from ventanilla.testing.factories import AreaFactory, UserFactory
from ventanilla.testing.world import World

# --- Objects the rows point at (all in organisation A) ----------------------------------------------


def org_a(world: World) -> int:
    return world.a.organisation.pk


def caseworker_membership(world: World) -> Membership:
    return Membership.objects.get(user=world.user("a", "caseworker"), organisation=world.a.organisation)


def public_point(world: World, *, status: str = PublicationStatus.PUBLISHED) -> ServicePoint:
    """A point kept by organisation A, in Tapachula (MX07089)."""
    provider = ProviderFactory(owner=world.a.organisation)
    area = AreaFactory(pcode="MX07089", level=2, name="Tapachula")
    return PointFactory(provider=provider, status=status, area=area, categories=["medical"])


def public_article(world: World, *, sensitivity: str = Sensitivity.PUBLIC) -> ContentItem:
    """An article of organisation A, written, reviewed and published in English."""
    by = world.user("a", "information_officer")
    item = hub_services.create_item(
        owner=world.a.organisation,
        key=f"article-{sensitivity}",
        kind="rights",
        by=by,
        sensitivity=sensitivity,
    )
    words = hub_services.save_translation(item, language="en", by=by, title="Your rights")
    hub_services.publish(hub_services.submit_for_review(words, by=by), by=by)
    return item


def a_provider(world: World, *, status: str = PublicationStatus.PUBLISHED) -> ServiceProvider:
    return ProviderFactory(owner=world.a.organisation, name=f"Proveedor Alfa ({status})", status=status)


def api_item(world: World, *, in_review: bool = False) -> ContentItem:
    """Organisation A's item "api-item" with English words in draft (or in review); made once per world."""
    item = ContentItem.objects.filter(key="api-item").first()
    if item is None:
        by = world.user("a", "information_officer")
        item = hub_services.create_item(owner=world.a.organisation, key="api-item", kind="rights", by=by)
        words = hub_services.save_translation(item, language="en", by=by, title="Words")
        if in_review:
            hub_services.submit_for_review(words, by=by)
    return item


def current_alert(world: World) -> ContentItem:
    by = world.user("a", "information_officer")
    item = hub_services.create_item(
        owner=world.a.organisation, key="api-alert", kind="alert", severity="warning", by=by
    )
    words = hub_services.save_translation(item, language="en", by=by, title="Bridge closed")
    hub_services.publish(hub_services.submit_for_review(words, by=by), by=by)
    return item


def admin_token(world: World) -> ApiToken:
    """A token of organisation A's administrator (issued once per world)."""
    token = ApiToken.objects.filter(user=world.user("a", "administrator")).first()
    return token or services.issue_token(world.user("a", "administrator"), name="matrix").token


# Content items (drafts, history) exist only for the content managers of the organisation keeping them.
CONTENT_MANAGERS_OF_A = expect(
    anonymous=401,
    a=404,
    administrator=200,
    site_manager=200,
    information_officer=200,
    other_organisation=404,
    outsider=404,
)

READS = [
    # --- pages ---------------------------------------------------------------------------------------
    Row("core:dashboard", "GET", lambda w: "/en/staff/", everyone(200)),
    Row("hub:home", "GET", lambda w: "/en/", everyone(200, anonymous=200)),
    # Find Help: public pages, the same for everyone; drafts and sensitive items exist for nobody there.
    Row("hub:results", "GET", lambda w: "/en/services/?category=medical", everyone(200, anonymous=200)),
    Row(
        "hub:print",
        "GET",
        lambda w: f"/en/services/print/?area={public_point(w).area.pcode}",
        everyone(200, anonymous=200),
    ),
    Row("hub:service", "GET", lambda w: f"/en/services/{public_point(w).pk}/", everyone(200, anonymous=200)),
    Row(
        "hub:service",
        "GET",
        lambda w: f"/en/services/{public_point(w, status=PublicationStatus.DRAFT).pk}/",
        everyone(404, anonymous=404),
        id="GET hub:service (draft)",
    ),
    Row("hub:info", "GET", lambda w: "/en/info/", everyone(200, anonymous=200)),
    Row("hub:article", "GET", lambda w: f"/en/info/{public_article(w).key}/", everyone(200, anonymous=200)),
    Row(
        "hub:article",
        "GET",
        lambda w: f"/en/info/{public_article(w, sensitivity=Sensitivity.SENSITIVE).key}/",
        everyone(404, anonymous=404),
        id="GET hub:article (sensitive)",
    ),
    Row("hub:alerts", "GET", lambda w: "/en/alerts/", everyone(200, anonymous=200)),
    Row("directory_dataset", "GET", lambda w: "/directory.json", everyone(200, anonymous=200)),
    Row(
        "core:audit_log",
        "GET",
        lambda w: "/en/audit/",
        # B's administrator reads B's own log here (which entries: see the audit-log tests).
        expect(anonymous=LOGIN, a=403, administrator=200, auditor=200, other_organisation=200, outsider=403),
    ),
    Row("areas:list", "GET", lambda w: "/en/areas/", everyone(200)),
    Row("accounts:login", "GET", lambda w: "/en/accounts/login/", everyone(200, anonymous=200)),
    Row("accounts:logout", "GET", lambda w: "/en/accounts/logout/", everyone(405, anonymous=405)),
    Row(
        "accounts:logout",
        "POST",
        lambda w: "/en/accounts/logout/",
        everyone("302 /en/accounts/login/", anonymous="302 /en/accounts/login/"),
    ),
    Row("accounts:two_factor_setup", "GET", lambda w: "/en/accounts/two-factor/", everyone(200)),
    Row(
        "accounts:two_factor_verify",
        "GET",
        lambda w: "/en/accounts/two-factor/verify/",
        # Only a half-finished sign-in (password accepted, code pending) may see this page.
        everyone("302 /en/accounts/login/", anonymous="302 /en/accounts/login/"),
    ),
    Row("accounts:profile", "GET", lambda w: "/en/accounts/profile/", everyone(200)),
    Row(
        "accounts:revoke_token",
        "GET",
        lambda w: f"/en/accounts/tokens/{admin_token(w).pk}/revoke/",
        everyone(405),
    ),
    Row("accounts:organisation_list", "GET", lambda w: "/en/organisations/", everyone(200)),
    Row(
        "accounts:organisation_detail",
        "GET",
        lambda w: f"/en/organisations/{org_a(w)}/",
        org_a_only(200),
    ),
    Row("accounts:site_create", "GET", lambda w: f"/en/organisations/{org_a(w)}/sites/new/", admin_only()),
    Row(
        "accounts:site_edit",
        "GET",
        lambda w: f"/en/organisations/{org_a(w)}/sites/{w.a.sites[0].pk}/edit/",
        admin_only(),
    ),
    Row(
        "accounts:site_edit",
        "GET",
        lambda w: f"/en/organisations/{org_a(w)}/sites/{w.a.sites[1].pk}/edit/",
        admin_only(),
        id="GET accounts:site_edit (second site)",
    ),
    Row(
        "accounts:membership_grant",
        "GET",
        lambda w: f"/en/organisations/{org_a(w)}/members/new/",
        admin_only(),
    ),
    Row(
        "accounts:staff_member_create",
        "GET",
        lambda w: f"/en/organisations/{org_a(w)}/staff/new/",
        admin_only(),
    ),
    Row("accounts:password_change", "GET", lambda w: "/en/accounts/password/", everyone(200)),
    Row("accounts:role_policies", "GET", lambda w: f"/en/organisations/{org_a(w)}/policies/", admin_only()),
    Row(
        "accounts:data_protection",
        "GET",
        lambda w: f"/en/organisations/{org_a(w)}/data-protection/",
        admin_only(),
    ),
    Row(
        "accounts:membership_edit",
        "GET",
        lambda w: f"/en/memberships/{caseworker_membership(w).pk}/edit/",
        # Other roles of A cannot see the caseworker's membership at all; the caseworker sees it
        # (it is their own) but may not change it.
        org_a_only(404, administrator=200, caseworker=403),
    ),
    Row("healthz", "GET", lambda w: "/healthz", everyone(200, anonymous=200)),
    Row("readyz", "GET", lambda w: "/readyz", everyone(200, anonymous=200)),
    # --- API -----------------------------------------------------------------------------------------
    Row("api-root", "GET", lambda w: "/api/v1/", everyone(200, anonymous=401)),
    Row("organisation-list", "GET", lambda w: "/api/v1/organisations/", everyone(200, anonymous=401)),
    Row(
        "organisation-detail",
        "GET",
        lambda w: f"/api/v1/organisations/{org_a(w)}/",
        expect(anonymous=401, a=200, other_organisation=404, outsider=404),
    ),
    Row("site-list", "GET", lambda w: "/api/v1/sites/", everyone(200, anonymous=401)),
    Row(
        "site-detail",
        "GET",
        lambda w: f"/api/v1/sites/{w.a.sites[0].pk}/",
        expect(anonymous=401, a=200, other_organisation=404, outsider=404),
    ),
    Row(
        "site-detail",
        "GET",
        lambda w: f"/api/v1/sites/{w.a.sites[1].pk}.json",
        # Sites (not what happens at them) are organisation-wide: site-scoped roles see the second too.
        expect(anonymous=401, a=200, other_organisation=404, outsider=404),
        id="GET site-detail (second site, .json suffix)",
    ),
    Row("membership-list", "GET", lambda w: "/api/v1/memberships/", everyone(200, anonymous=401)),
    Row(
        "membership-detail",
        "GET",
        lambda w: f"/api/v1/memberships/{caseworker_membership(w).pk}/",
        expect(anonymous=401, a=404, administrator=200, caseworker=200, other_organisation=404, outsider=404),
    ),
    Row("me-list", "GET", lambda w: "/api/v1/me/", everyone(200, anonymous=401)),
    Row("area-list", "GET", lambda w: "/api/v1/areas/", everyone(200, anonymous=401)),
    Row(
        "area-detail",
        "GET",
        lambda w: f"/api/v1/areas/{AreaFactory(pcode='GT').pcode}/",
        everyone(200, anonymous=401),
    ),
    # Find Help API: public reads for everyone (drafts and sensitive items exist for nobody there) ...
    Row("service-point-list", "GET", lambda w: "/api/v1/service-points/", everyone(200, anonymous=200)),
    Row(
        "service-point-detail",
        "GET",
        lambda w: f"/api/v1/service-points/{public_point(w).pk}/",
        everyone(200, anonymous=200),
    ),
    Row(
        "service-point-detail",
        "GET",
        lambda w: f"/api/v1/service-points/{public_point(w, status=PublicationStatus.DRAFT).pk}/",
        # ... except the staff who keep a draft.
        expect(
            anonymous=404,
            a=404,
            administrator=200,
            site_manager=200,
            information_officer=200,
            other_organisation=404,
            outsider=404,
        ),
        id="GET service-point-detail (draft)",
    ),
    Row(
        "service-point-dataset",
        "GET",
        lambda w: "/api/v1/service-points/dataset/",
        everyone(200, anonymous=200),
    ),
    Row("article-list", "GET", lambda w: "/api/v1/articles/", everyone(200, anonymous=200)),
    Row(
        "article-detail",
        "GET",
        lambda w: f"/api/v1/articles/{public_article(w).key}/",
        everyone(200, anonymous=200),
    ),
    Row(
        "article-detail",
        "GET",
        lambda w: f"/api/v1/articles/{public_article(w, sensitivity=Sensitivity.SENSITIVE).key}/",
        everyone(404, anonymous=404),
        id="GET article-detail (sensitive)",
    ),
    Row("alert-list", "GET", lambda w: "/api/v1/alerts/", everyone(200, anonymous=200)),
    Row(
        "alert-detail",
        "GET",
        lambda w: f"/api/v1/alerts/{current_alert(w).key}/",
        everyone(200, anonymous=200),
    ),
    # ... and staff endpoints: providers for every signed-in user, content items for their managers only.
    Row("service-provider-list", "GET", lambda w: "/api/v1/service-providers/", everyone(200, anonymous=401)),
    Row(
        "service-provider-detail",
        "GET",
        lambda w: f"/api/v1/service-providers/{a_provider(w).pk}/",
        everyone(200, anonymous=401),
    ),
    Row(
        "service-provider-detail",
        "GET",
        lambda w: f"/api/v1/service-providers/{a_provider(w, status=PublicationStatus.DRAFT).pk}/",
        expect(
            anonymous=401,
            a=404,
            administrator=200,
            site_manager=200,
            information_officer=200,
            other_organisation=404,
            outsider=404,
        ),
        id="GET service-provider-detail (draft)",
    ),
    Row("content-item-list", "GET", lambda w: "/api/v1/content-items/", everyone(200, anonymous=401)),
    Row(
        "content-item-detail",
        "GET",
        lambda w: f"/api/v1/content-items/{api_item(w).key}/",
        CONTENT_MANAGERS_OF_A,
    ),
    Row(
        "content-item-translation",
        "GET",
        lambda w: f"/api/v1/content-items/{api_item(w).key}/translations/en/",
        CONTENT_MANAGERS_OF_A,
    ),
    # The schema and its two documentation pages are public: they describe the API, not its data.
    Row("schema", "GET", lambda w: "/api/schema/", everyone(200, anonymous=200)),
    Row("api-docs", "GET", lambda w: "/api/docs/", everyone(200, anonymous=200)),
    Row("api-redoc", "GET", lambda w: "/api/redoc/", everyone(200, anonymous=200)),
]


# --- Find Help staff pages: the content managers of the organisation keeping the row ------------------

# A staff list or form: every content manager (each sees only their organisations' rows); others 403.
STAFF_PAGE = expect(
    anonymous=LOGIN,
    a=403,
    administrator=200,
    site_manager=200,
    information_officer=200,
    other_organisation=200,
    outsider=403,
)
# A staff page about a row of A: A's content managers; B's finds nothing there; others may not use it.
STAFF_A_OBJECT = expect(
    anonymous=LOGIN,
    a=403,
    administrator=200,
    site_manager=200,
    information_officer=200,
    other_organisation=404,
    outsider=403,
)


def staff_point(world: World) -> ServicePoint:
    """Organisation A's first service point, a draft shelter (made once per world)."""
    point = ServicePoint.objects.filter(owner=world.a.organisation).order_by("pk").first()
    if point is None:
        provider = ProviderFactory(owner=world.a.organisation, name="Proveedor Alfa (staff)")
        point = PointFactory(
            provider=provider, name="Albergue Alfa", status=PublicationStatus.DRAFT, categories=["shelter"]
        )
    return point


def staff_import_job(world: World) -> ImportJob:
    """A finished import job of organisation A (made once per world)."""
    job = ImportJob.objects.filter(organisation=world.a.organisation).first()
    if job is None:
        job = ImportJob.objects.create(
            organisation=world.a.organisation, file_name="points.csv", stored_name="gone.csv", status="done"
        )
    return job


def staff_item(world: World, *, in_review: bool = False) -> ContentItem:
    """Organisation A's item "staff-item" with English words in draft (or in review), made once per world."""
    item = ContentItem.objects.filter(key="staff-item").first()
    if item is None:
        by = world.user("a", "information_officer")
        item = hub_services.create_item(owner=world.a.organisation, key="staff-item", kind="procedure", by=by)
        words = hub_services.save_translation(item, language="en", by=by, title="Words")
        if in_review:
            hub_services.submit_for_review(words, by=by)
    return item


# --- Registration exports: a job is seen by the person who asked for it only -------------------------


def export_job(world: World, *, written: bool = False) -> ExportJob:
    """A de-identified export asked for by A's site manager (written: the file is ready to download)."""
    from ventanilla.registration import exports as registration_exports

    job = registration_exports.request_export(
        by=world.user("a", "site_manager"),
        kind="deidentified",
        file_format="csv",
        reason="",
        filters=registration_exports.Filters(),
    )
    if written:
        registration_exports.run_export(job)
    return job


# Those holding view_aggregates, view_personal_data or export_personal_data (B's administrator: B's data).
EXPORTERS = expect(
    anonymous=LOGIN,
    a=403,
    administrator=200,
    site_manager=200,
    caseworker=200,
    me_officer=200,
    data_analyst=200,
    other_organisation=200,
    outsider=403,
)
# Only the requester (A's site manager); everyone else, in A or not, finds nothing.
REQUESTER_ONLY = expect(anonymous=LOGIN, a=404, site_manager=200, other_organisation=404, outsider=404)

READS += [
    Row("registration_exports:list", "GET", lambda w: "/en/staff/people/exports/", EXPORTERS),
    Row(
        "registration_exports:status",
        "GET",
        lambda w: f"/en/staff/people/exports/{export_job(w).pk}/",
        REQUESTER_ONLY,
    ),
    Row(
        "registration_exports:download",
        "GET",
        lambda w: f"/en/staff/people/exports/{export_job(w, written=True).pk}/download/",
        REQUESTER_ONLY,
    ),
    Row(
        "registration_exports:download",
        "GET",
        lambda w: f"/en/staff/people/exports/{export_job(w).pk}/download/",
        expect(anonymous=LOGIN, a=404, other_organisation=404, outsider=404),
        id="GET registration_exports:download (not written yet)",
    ),
]


READS += [
    Row("directory:point_list", "GET", lambda w: "/en/staff/directory/", STAFF_PAGE),
    Row("directory:point_create", "GET", lambda w: "/en/staff/directory/points/new/", STAFF_PAGE),
    Row(
        "directory:point_edit",
        "GET",
        lambda w: f"/en/staff/directory/points/{staff_point(w).pk}/",
        STAFF_A_OBJECT,
    ),
    Row(
        "directory:point_status",
        "GET",
        lambda w: f"/en/staff/directory/points/{staff_point(w).pk}/status/",
        everyone(405),
    ),
    Row(
        "directory:point_verify",
        "GET",
        lambda w: f"/en/staff/directory/points/{staff_point(w).pk}/verify/",
        everyone(405),
    ),
    Row("directory:stale_list", "GET", lambda w: "/en/staff/directory/stale/", STAFF_PAGE),
    Row("directory:provider_list", "GET", lambda w: "/en/staff/directory/providers/", STAFF_PAGE),
    Row("directory:provider_create", "GET", lambda w: "/en/staff/directory/providers/new/", STAFF_PAGE),
    Row(
        "directory:provider_edit",
        "GET",
        lambda w: f"/en/staff/directory/providers/{staff_point(w).provider_id}/",
        STAFF_A_OBJECT,
    ),
    Row("directory:import", "GET", lambda w: "/en/staff/directory/import/", STAFF_PAGE),
    Row(
        "directory:import_job",
        "GET",
        lambda w: f"/en/staff/directory/import/{staff_import_job(w).pk}/",
        STAFF_A_OBJECT,
    ),
    # Each content manager exports the rows their own organisations keep.
    Row("directory:export", "GET", lambda w: "/en/staff/directory/export/", STAFF_PAGE),
    Row("content:item_list", "GET", lambda w: "/en/staff/content/", STAFF_PAGE),
    Row("content:item_create", "GET", lambda w: "/en/staff/content/new/", STAFF_PAGE),
    Row("content:review_queue", "GET", lambda w: "/en/staff/content/review/", STAFF_PAGE),
    Row("content:outdated_list", "GET", lambda w: "/en/staff/content/outdated/", STAFF_PAGE),
    Row("content:stale_list", "GET", lambda w: "/en/staff/content/stale/", STAFF_PAGE),
    Row("content:item_detail", "GET", lambda w: f"/en/staff/content/{staff_item(w).pk}/", STAFF_A_OBJECT),
    Row(
        "content:item_settings",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/settings/",
        STAFF_A_OBJECT,
    ),
    Row(
        "content:item_verify", "GET", lambda w: f"/en/staff/content/{staff_item(w).pk}/verify/", everyone(405)
    ),
    Row(
        "content:translation_edit",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/",
        STAFF_A_OBJECT,
    ),
    Row(
        "content:translation_edit",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/ar/",
        STAFF_A_OBJECT,
        id="GET content:translation_edit (a language not written yet)",
    ),
    Row(
        "content:translation_review",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w, in_review=True).pk}/en/review/",
        STAFF_A_OBJECT,
    ),
    Row(
        "content:translation_history",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/history/",
        STAFF_A_OBJECT,
    ),
    Row(
        "content:translation_submit",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/submit/",
        everyone(405),
    ),
    Row(
        "content:translation_publish",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/publish/",
        everyone(405),
    ),
    Row(
        "content:translation_send_back",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/send-back/",
        everyone(405),
    ),
    Row(
        "content:translation_archive",
        "GET",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/archive/",
        everyone(405),
    ),
]


# --- OpenRosa (ODK Collect): phones authenticate with Digest only, so every session gets 401 there ----

# The Phones page: people who register at a site (caseworkers, site managers), each with their own phones.
REGISTERS_IN_A = expect(
    anonymous=LOGIN, a=403, caseworker=200, site_manager=200, other_organisation=403, outsider=403
)


def a_device(world: World) -> DeviceCredential:
    """A phone credential of A's caseworker (made once per world)."""
    device = DeviceCredential.objects.filter(user=world.user("a", "caseworker")).first()
    if device is None:
        by = world.user("a", "caseworker")
        device = device_credentials.create_device_credential(
            site=world.a.sites[0], name="Phone", by=by
        ).credential
    return device


OPENROSA_FORM = "/openrosa/forms/ventanilla_registration/1"
READS += [
    Row("openrosa:form_list", "GET", lambda w: "/openrosa/formList", everyone(401, anonymous=401)),
    Row("openrosa:form_download", "GET", lambda w: f"{OPENROSA_FORM}/form.xml", everyone(401, anonymous=401)),
    Row("openrosa:manifest", "GET", lambda w: f"{OPENROSA_FORM}/manifest.xml", everyone(401, anonymous=401)),
    Row("openrosa:submission", "GET", lambda w: "/openrosa/submission", everyone(405, anonymous=405)),
    Row("openrosa:not_found", "GET", lambda w: "/openrosa/elsewhere", everyone(404, anonymous=404)),
    Row("openrosa_staff:devices", "GET", lambda w: "/en/staff/openrosa/", REGISTERS_IN_A),
    Row(
        "openrosa_staff:device_revoke",
        "GET",
        lambda w: f"/en/staff/openrosa/{a_device(w).pk}/revoke/",
        everyone(405, anonymous=405),
    ),
]


@pytest.mark.parametrize("row", READS, ids=Row.label)
def test_read_matrix(world, client_for, row):
    # given one client per principal and the row's URL
    url = row.url(world)
    # when each principal asks for it
    actual = {
        principal: outcome(send(client_for(user_of(world, principal)), row.method, url))
        for principal in PRINCIPALS
    }
    # then each gets exactly the expected answer
    assert actual == row.expected


# --- Writes -----------------------------------------------------------------------------------------


def state() -> dict[str, Any]:
    """Everything a write on these URLs could change."""
    return {
        "audit": AuditEntry.objects.count(),
        "sites": list(Site.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "membership_sites": sorted(Membership.sites.through.objects.values_list("membership_id", "site_id")),
        "policies": list(RolePolicy.objects.order_by("pk").values()),
        "tokens": list(ApiToken.objects.order_by("pk").values()),
        "service_points": list(ServicePoint.objects.order_by("pk").values()),
        "point_categories": sorted(
            ServicePoint.categories.through.objects.values_list("servicepoint_id", "servicecategory_id")
        ),
        "service_providers": list(ServiceProvider.objects.order_by("pk").values()),
        "point_texts": list(ServicePointText.objects.order_by("pk").values()),
        "point_hours": list(OpeningHours.objects.order_by("pk").values()),
        "point_exceptions": list(OpeningException.objects.order_by("pk").values()),
        "content_items": list(ContentItem.objects.order_by("pk").values()),
        "translations": list(ContentTranslation.objects.order_by("pk").values()),
        "revisions": ContentRevision.objects.count(),
        "questionnaires": list(
            Questionnaire.objects.order_by("pk").values(
                "pk", "owner", "form_id", "title", "current", "archived"
            )
        ),
        "form_versions": list(
            FormVersion.objects.order_by("pk").values_list("pk", "questionnaire", "version", "sha256")
        ),
        "submissions": list(Submission.objects.order_by("pk").values_list("pk", "uuid", "answers_json")),
        "people": list(Person.objects.order_by("pk").values()),
        "match_keys": MatchKey.objects.count(),
        "registrations": list(Registration.objects.order_by("pk").values()),
        "journey_legs": JourneyLeg.objects.count(),
        "consents": list(Consent.objects.order_by("pk").values()),
        "flags": list(Flag.objects.order_by("pk").values()),
        "duplicates": list(DuplicateCandidate.objects.order_by("pk").values()),
        "person_links": PersonLink.objects.count(),
        "corrections": AnswerCorrection.objects.count(),
        "referrals_and_cases": matrix_referrals.state(),
        "messaging": matrix_messaging.state(),
        "users": list(
            User.objects.order_by("pk").values_list(
                "pk", "username", "password", "is_active", "must_change_password"
            )
        ),
    }


def site_created(world: World, principal: str) -> None:
    site = Site.objects.get(organisation=world.a.organisation, name="Casa Alfa site 3")
    assert (site.kind, site.time_zone, str(site.latitude)) == ("clinic", "America/Guatemala", "14.50000")


def site_renamed(world: World, principal: str) -> None:
    assert Site.objects.get(pk=world.a.sites[0].pk).name == "Casa Alfa renamed"


def auditor_granted_caseworker(world: World, principal: str) -> None:
    auditor = world.user("a", "auditor")
    membership = Membership.objects.get(user=auditor, organisation=world.a.organisation, role="caseworker")
    assert membership.is_active is True
    assert list(membership.sites.all()) == [world.a.sites[0]]


def colleague_created(world: World, principal: str) -> None:
    colleague = User.objects.get(username="new_colleague")
    assert colleague.must_change_password is True
    assert list(colleague.memberships.values_list("organisation", "role")) == [
        (world.a.organisation.pk, "caseworker")
    ]


def own_password_changed(world: World, principal: str) -> None:
    assert User.objects.get(pk=user_of(world, principal).pk).check_password(NEW_PASSWORD)


def caseworker_changed(world: World, principal: str) -> None:
    assert caseworker_membership(world).role == "data_analyst"


def caseworker_two_factor_required(world: World, principal: str) -> None:
    policies = RolePolicy.objects.filter(organisation=world.a.organisation, requires_two_factor=True)
    assert list(policies.values_list("role", flat=True)) == ["caseworker"]


def retention_shortened(world: World, principal: str) -> None:
    world.a.organisation.refresh_from_db()
    assert world.a.organisation.retention_days == 365


def token_revoked(world: World, principal: str) -> None:
    assert ApiToken.objects.get(user=world.user("a", "administrator")).revoked_at is not None


def new_site_data(world: World) -> dict[str, Any]:
    return {
        "name": "Casa Alfa site 3",
        "kind": "clinic",
        "time_zone": "America/Guatemala",
        "latitude": "14.5",
        "longitude": "-90.5",
        "is_active": "on",
    }


def renamed_site_data(world: World) -> dict[str, Any]:
    return {"name": "Casa Alfa renamed", "kind": "resource_centre", "time_zone": "UTC", "is_active": "on"}


ORG_A_DETAIL = "302 /en/organisations/{org_a}/"

# --- Find Help API writes: what an allowed write must have done ---------------------------------------
# Some writes can be done once only (a unique key, a workflow step): the check then puts things back, so
# that the next content manager of A can do the same write.

CONTENT_MANAGER_WRITE = expect(
    anonymous=401,
    a=403,
    administrator=200,
    site_manager=200,
    information_officer=200,
    other_organisation=403,
    outsider=403,
)
# On a draft of A: for everyone but A's content managers, it does not exist.
CONTENT_MANAGER_DRAFT_WRITE = expect(
    anonymous=401,
    a=404,
    administrator=200,
    site_manager=200,
    information_officer=200,
    other_organisation=404,
    outsider=404,
)
# Creating: A's other roles may not create anything, B's administrator may but not for A (field error).
CONTENT_MANAGER_CREATE = expect(
    anonymous=401,
    a=403,
    administrator=201,
    site_manager=201,
    information_officer=201,
    other_organisation=400,
    outsider=403,
)


def new_point_data(world: World) -> dict[str, Any]:
    return {
        "owner": org_a(world),
        "provider": a_provider(world).pk,
        "name": "Clínica Alfa API",
        "categories": ["medical"],
        "time_zone": "America/Mexico_City",
        "hours": [{"weekday": 0, "opens": "09:00", "closes": "13:00"}],
        "texts": {"en": {"description": "A clinic."}},
    }


def point_created(world: World, principal: str) -> None:
    point = ServicePoint.objects.filter(name="Clínica Alfa API").latest("pk")
    assert (point.owner_id, point.status, point.time_zone) == (org_a(world), "draft", "America/Mexico_City")
    assert list(point.categories.values_list("code", flat=True)) == ["medical"]
    assert list(point.texts.values_list("language", "description")) == [("en", "A clinic.")]


def point_renamed(world: World, principal: str) -> None:
    assert ServicePoint.objects.filter(owner=world.a.organisation, name="Clínica Alfa renamed").count() == 1


def point_published(world: World, principal: str) -> None:
    assert ServicePoint.objects.get(owner=world.a.organisation).status == PublicationStatus.PUBLISHED


def point_archived(world: World, principal: str) -> None:
    assert ServicePoint.objects.get(owner=world.a.organisation).status == PublicationStatus.ARCHIVED


def point_verified(world: World, principal: str) -> None:
    assert ServicePoint.objects.get(owner=world.a.organisation).verified_by_id == user_of(world, principal).pk


def provider_created_then_removed(world: World, principal: str) -> None:
    provider = ServiceProvider.objects.get(owner=world.a.organisation, name="Proveedor API")
    assert (provider.status, provider.phone) == (PublicationStatus.DRAFT, "+50277760000")
    provider.delete()


def provider_changed(world: World, principal: str) -> None:
    provider = ServiceProvider.objects.get(owner=world.a.organisation)
    assert provider.website == "https://alfa.example.org"


def content_item_created_then_removed(world: World, principal: str) -> None:
    item = ContentItem.objects.get(key="recruiters")
    assert (item.owner_id, item.kind, item.sensitivity) == (org_a(world), "procedure", "public")
    item.delete()


def _api_translation(language: str = "en") -> ContentTranslation:
    return ContentTranslation.objects.get(item__key="api-item", language=language)


def translation_written_then_removed(world: World, principal: str) -> None:
    translation = _api_translation("es")
    assert (translation.title, translation.status, translation.updated_by_id) == (
        "Palabras",
        "draft",
        user_of(world, principal).pk,
    )
    translation.delete()


def translation_submitted_then_reset(world: World, principal: str) -> None:
    translation = _api_translation()
    assert (translation.status, translation.submitted_by_id) == ("in_review", user_of(world, principal).pk)
    ContentTranslation.objects.filter(pk=translation.pk).update(status="draft")


def translation_published_then_reset(world: World, principal: str) -> None:
    translation = _api_translation()
    assert (translation.status, translation.reviewed_by_id) == ("published", user_of(world, principal).pk)
    assert translation.published_content["title"] == "Words"
    ContentTranslation.objects.filter(pk=translation.pk).update(status="in_review")


def translation_sent_back_then_reset(world: World, principal: str) -> None:
    translation = _api_translation()
    note = translation.history.filter(action="sent_back").latest("pk").note
    assert (translation.status, note) == ("draft", "Add the fee.")
    ContentTranslation.objects.filter(pk=translation.pk).update(status="in_review")


def content_item_verified(world: World, principal: str) -> None:
    assert ContentItem.objects.get(key="api-item").verified_by_id == user_of(world, principal).pk


def content_item_class_changed_then_reset(world: World, principal: str) -> None:
    item = ContentItem.objects.get(key="api-item")
    assert (item.sensitivity, list(item.categories.values_list("code", flat=True))) == (
        "protection_critical",
        ["legal"],
    )
    ContentItem.objects.filter(pk=item.pk).update(sensitivity="public")
    item.categories.clear()


WRITES = [
    Row(
        "accounts:site_create",
        "POST",
        lambda w: f"/en/organisations/{org_a(w)}/sites/new/",
        org_a_only(403, administrator=ORG_A_DETAIL),
        data=new_site_data,
        effect=site_created,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "accounts:site_edit",
        "POST",
        lambda w: f"/en/organisations/{org_a(w)}/sites/{w.a.sites[0].pk}/edit/",
        org_a_only(403, administrator=ORG_A_DETAIL),
        data=renamed_site_data,
        effect=site_renamed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "accounts:membership_grant",
        "POST",
        lambda w: f"/en/organisations/{org_a(w)}/members/new/",
        org_a_only(403, administrator=ORG_A_DETAIL),
        # An administrator gives roles only to people who already hold one in the organisation.
        data=lambda w: {"user": w.user("a", "auditor").pk, "role": "caseworker", "sites": [w.a.sites[0].pk]},
        effect=auditor_granted_caseworker,
        audit_actions=(AuditAction.ROLE_CHANGE,),
    ),
    Row(
        "accounts:membership_edit",
        "POST",
        lambda w: f"/en/memberships/{caseworker_membership(w).pk}/edit/",
        org_a_only(404, administrator=ORG_A_DETAIL, caseworker=403),
        data=lambda w: {"role": "data_analyst", "is_active": "on"},
        effect=caseworker_changed,
        audit_actions=(AuditAction.ROLE_CHANGE,),
    ),
    Row(
        "accounts:role_policies",
        "POST",
        lambda w: f"/en/organisations/{org_a(w)}/policies/",
        org_a_only(403, administrator=ORG_A_DETAIL),
        data=lambda w: {"caseworker": "on"},
        effect=caseworker_two_factor_required,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "accounts:data_protection",
        "POST",
        lambda w: f"/en/organisations/{org_a(w)}/data-protection/",
        org_a_only(403, administrator=ORG_A_DETAIL),
        data=lambda w: {"retention_days": "365"},
        effect=retention_shortened,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "accounts:staff_member_create",
        "POST",
        lambda w: f"/en/organisations/{org_a(w)}/staff/new/",
        # The page that shows the one-time password answers 200.
        org_a_only(403, administrator=200),
        data=lambda w: {
            "username": "new_colleague",
            "full_name": "Nueva Colega",
            "email": "new_colleague@example.org",
            "preferred_language": "es",
            "role": "caseworker",
            "sites": [w.a.sites[0].pk],
        },
        effect=colleague_created,
        audit_actions=(AuditAction.CREATE, AuditAction.ROLE_CHANGE),
    ),
    Row(
        "accounts:password_change",
        "POST",
        lambda w: "/en/accounts/password/",
        # Everyone changes their own password, and only their own.
        everyone("302 /en/accounts/profile/"),
        data=lambda w: {
            "old_password": w.password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        effect=own_password_changed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "accounts:revoke_token",
        "POST",
        lambda w: f"/en/accounts/tokens/{admin_token(w).pk}/revoke/",
        # Only the owner; for everyone else the token does not exist.
        expect(
            anonymous=LOGIN,
            a=404,
            administrator="302 /en/accounts/profile/",
            other_organisation=404,
            outsider=404,
        ),
        effect=token_revoked,
        audit_actions=(AuditAction.TOKEN,),
    ),
    # --- API -----------------------------------------------------------------------------------------
    Row(
        "site-list",
        "POST",
        lambda w: "/api/v1/sites/",
        # B's administrator may create sites, but not in A: a field error on `organisation`.
        expect(anonymous=401, a=403, administrator=201, other_organisation=400, outsider=403),
        data=lambda w: {
            "organisation": org_a(w),
            "name": "Casa Alfa site 3",
            "kind": "clinic",
            "time_zone": "America/Guatemala",
            "latitude": "14.5",
        },
        effect=site_created,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "site-detail",
        "PATCH",
        lambda w: f"/api/v1/sites/{w.a.sites[0].pk}/",
        expect(anonymous=401, a=403, administrator=200, other_organisation=404, outsider=404),
        data=lambda w: {"name": "Casa Alfa renamed"},
        effect=site_renamed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "site-detail",
        "PUT",
        lambda w: f"/api/v1/sites/{w.a.sites[0].pk}/",
        expect(anonymous=401, a=403, administrator=200, other_organisation=404, outsider=404),
        data=lambda w: {
            "organisation": org_a(w),
            "name": "Casa Alfa renamed",
            "kind": "resource_centre",
            "time_zone": "UTC",
        },
        effect=site_renamed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "site-detail",
        "DELETE",
        lambda w: f"/api/v1/sites/{w.a.sites[0].pk}/",
        everyone(405, anonymous=401),
    ),
    Row("organisation-list", "POST", lambda w: "/api/v1/organisations/", everyone(405, anonymous=401)),
    Row(
        "organisation-detail",
        "PATCH",
        lambda w: f"/api/v1/organisations/{org_a(w)}/",
        everyone(405, anonymous=401),
        data=lambda w: {"name": "Taken over"},
    ),
    Row(
        "membership-list",
        "POST",
        lambda w: "/api/v1/memberships/",
        expect(anonymous=401, a=403, administrator=201, other_organisation=400, outsider=403),
        data=lambda w: {
            "user": "a_auditor",
            "organisation": org_a(w),
            "role": "caseworker",
            "sites": [w.a.sites[0].pk],
        },
        effect=auditor_granted_caseworker,
        audit_actions=(AuditAction.ROLE_CHANGE,),
    ),
    Row(
        "membership-detail",
        "PATCH",
        lambda w: f"/api/v1/memberships/{caseworker_membership(w).pk}/",
        expect(anonymous=401, a=404, administrator=200, caseworker=403, other_organisation=404, outsider=404),
        data=lambda w: {"role": "data_analyst"},
        effect=caseworker_changed,
        audit_actions=(AuditAction.ROLE_CHANGE,),
    ),
    Row(
        "membership-detail",
        "PUT",
        lambda w: f"/api/v1/memberships/{caseworker_membership(w).pk}/",
        expect(anonymous=401, a=404, administrator=200, caseworker=403, other_organisation=404, outsider=404),
        data=lambda w: {
            "user": "a_caseworker",
            "organisation": org_a(w),
            "role": "data_analyst",
            "sites": [],
            "is_active": True,
        },
        effect=caseworker_changed,
        audit_actions=(AuditAction.ROLE_CHANGE,),
    ),
    # No endpoint deletes: 405 for any id, so the answer says nothing about whether it exists.
    Row(
        "membership-detail",
        "DELETE",
        lambda w: f"/api/v1/memberships/{caseworker_membership(w).pk}/",
        everyone(405, anonymous=401),
    ),
    Row("me-list", "POST", lambda w: "/api/v1/me/", everyone(405, anonymous=401)),
    Row("area-list", "POST", lambda w: "/api/v1/areas/", everyone(405, anonymous=401), data=lambda w: {}),
    # --- Find Help API: content managers of the organisation keeping the row -----------------------
    Row(
        "service-point-list",
        "POST",
        lambda w: "/api/v1/service-points/",
        CONTENT_MANAGER_CREATE,
        data=new_point_data,
        effect=point_created,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "service-point-detail",
        "PATCH",
        lambda w: f"/api/v1/service-points/{public_point(w).pk}/",
        # A published point is public: who may not change it is told so.
        CONTENT_MANAGER_WRITE,
        data=lambda w: {"name": "Clínica Alfa renamed"},
        effect=point_renamed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "service-point-detail",
        "PATCH",
        lambda w: f"/api/v1/service-points/{public_point(w, status=PublicationStatus.DRAFT).pk}/",
        CONTENT_MANAGER_DRAFT_WRITE,
        data=lambda w: {"name": "Clínica Alfa renamed"},
        effect=point_renamed,
        audit_actions=(AuditAction.UPDATE,),
        id="PATCH service-point-detail (draft)",
    ),
    Row(
        "service-point-detail",
        "PUT",
        lambda w: f"/api/v1/service-points/{public_point(w).pk}/",
        everyone(405, anonymous=401),
        data=lambda w: {"name": "Taken over"},
    ),
    Row(
        "service-point-detail",
        "DELETE",
        lambda w: f"/api/v1/service-points/{public_point(w).pk}/",
        everyone(405, anonymous=401),
    ),
    Row(
        "service-point-publish",
        "POST",
        lambda w: f"/api/v1/service-points/{public_point(w, status=PublicationStatus.DRAFT).pk}/publish/",
        CONTENT_MANAGER_DRAFT_WRITE,
        effect=point_published,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "service-point-archive",
        "POST",
        lambda w: f"/api/v1/service-points/{public_point(w).pk}/archive/",
        CONTENT_MANAGER_WRITE,
        effect=point_archived,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "service-point-verify",
        "POST",
        lambda w: f"/api/v1/service-points/{public_point(w, status=PublicationStatus.DRAFT).pk}/verify/",
        CONTENT_MANAGER_DRAFT_WRITE,
        effect=point_verified,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "service-point-dataset",
        "POST",
        lambda w: "/api/v1/service-points/dataset/",
        everyone(405, anonymous=401),
        data=lambda w: {},
    ),
    Row(
        "service-provider-list",
        "POST",
        lambda w: "/api/v1/service-providers/",
        CONTENT_MANAGER_CREATE,
        data=lambda w: {"owner": org_a(w), "name": "Proveedor API", "phone": "+502 7776 0000"},
        effect=provider_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "service-provider-detail",
        "PATCH",
        lambda w: f"/api/v1/service-providers/{a_provider(w).pk}/",
        CONTENT_MANAGER_WRITE,
        data=lambda w: {"website": "https://alfa.example.org"},
        effect=provider_changed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content-item-list",
        "POST",
        lambda w: "/api/v1/content-items/",
        CONTENT_MANAGER_CREATE,
        data=lambda w: {"owner": org_a(w), "key": "recruiters", "kind": "procedure"},
        effect=content_item_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "content-item-translation",
        "PUT",
        lambda w: f"/api/v1/content-items/{api_item(w).key}/translations/es/",
        expect(
            anonymous=401,
            a=404,
            administrator=201,
            site_manager=201,
            information_officer=201,
            other_organisation=404,
            outsider=404,
        ),
        data=lambda w: {"title": "Palabras"},
        effect=translation_written_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "content-item-translation-submit",
        "POST",
        lambda w: f"/api/v1/content-items/{api_item(w).key}/translations/en/submit/",
        CONTENT_MANAGER_DRAFT_WRITE,
        effect=translation_submitted_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content-item-translation-publish",
        "POST",
        lambda w: f"/api/v1/content-items/{api_item(w, in_review=True).key}/translations/en/publish/",
        CONTENT_MANAGER_DRAFT_WRITE,
        effect=translation_published_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content-item-translation-send-back",
        "POST",
        lambda w: f"/api/v1/content-items/{api_item(w, in_review=True).key}/translations/en/send-back/",
        CONTENT_MANAGER_DRAFT_WRITE,
        data=lambda w: {"note": "Add the fee."},
        effect=translation_sent_back_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content-item-detail",
        "PATCH",
        lambda w: f"/api/v1/content-items/{api_item(w).key}/",
        CONTENT_MANAGER_DRAFT_WRITE,
        data=lambda w: {"sensitivity": "protection_critical", "categories": ["legal"]},
        effect=content_item_class_changed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content-item-detail",
        "PUT",
        lambda w: f"/api/v1/content-items/{api_item(w).key}/",
        everyone(405, anonymous=401),
        data=lambda w: {"sensitivity": "public"},
    ),
    Row(
        "content-item-verify",
        "POST",
        lambda w: f"/api/v1/content-items/{api_item(w).key}/verify/",
        CONTENT_MANAGER_DRAFT_WRITE,
        effect=content_item_verified,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "article-list", "POST", lambda w: "/api/v1/articles/", everyone(405, anonymous=405), data=lambda w: {}
    ),
    Row("alert-list", "POST", lambda w: "/api/v1/alerts/", everyone(405, anonymous=405), data=lambda w: {}),
]

# --- OpenRosa staff page: writes ------------------------------------------------------------------


def device_created(world: World, principal: str) -> None:
    device = DeviceCredential.objects.get(user=user_of(world, principal), name="Mobile team")
    assert (device.organisation_id, device.site_id, device.revoked_at) == (
        org_a(world),
        world.a.sites[0].pk,
        None,
    )


def device_revoked(world: World, principal: str) -> None:
    assert a_device(world).revoked_at is not None


WRITES += [
    Row(
        "openrosa_staff:devices",
        "POST",
        lambda w: "/en/staff/openrosa/",
        # The page that shows the password once answers 200.
        REGISTERS_IN_A,
        data=lambda w: {"name": "Mobile team", "site": w.a.sites[0].pk},
        effect=device_created,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "openrosa_staff:device_revoke",
        "POST",
        lambda w: f"/en/staff/openrosa/{a_device(w).pk}/revoke/",
        # Only the owner; for everyone else the phone does not exist.
        expect(
            anonymous=LOGIN, a=404, caseworker="302 /en/staff/openrosa/", other_organisation=404, outsider=404
        ),
        effect=device_revoked,
        audit_actions=(AuditAction.UPDATE,),
    ),
    # Phones only: a session is no credential here.
    Row("openrosa:submission", "POST", lambda w: "/openrosa/submission", everyone(401, anonymous=401)),
]

# --- Find Help staff pages: writes ------------------------------------------------------------------


def staff_point_form(world: World, *, name: str) -> dict[str, Any]:
    """The staff form of a service point (the point, the hours grid, no exceptional days, a text)."""
    return {
        "provider": staff_point(world).provider_id,
        "name": name,
        "categories": ["shelter", "food"],
        "time_zone": "America/Guatemala",
        "sexes": "any",
        "cost": "free",
        "access": "walk_in",
        "hours-d0_0_opens": "09:00",
        "hours-d0_0_closes": "17:00",
        "exceptions-TOTAL_FORMS": "0",
        "exceptions-INITIAL_FORMS": "0",
        "text-en-description": "Beds and meals.",
    }


def staff_point_created_then_removed(world: World, principal: str) -> None:
    point = ServicePoint.objects.get(name="Albergue Alfa nuevo")
    assert (point.owner_id, point.status, point.time_zone) == (org_a(world), "draft", "America/Guatemala")
    assert sorted(point.categories.values_list("code", flat=True)) == ["food", "shelter"]
    assert [str(period) for period in point.hours.all()] == ["0 09:00-17:00"]
    point.delete()


def staff_point_renamed(world: World, principal: str) -> None:
    point = staff_point(world)
    assert (point.name, list(point.texts.values_list("language", "description"))) == (
        "Albergue Alfa renamed",
        [("en", "Beds and meals.")],
    )


def staff_point_archived(world: World, principal: str) -> None:
    assert staff_point(world).status == PublicationStatus.ARCHIVED


def staff_point_verified(world: World, principal: str) -> None:
    assert staff_point(world).verified_by_id == user_of(world, principal).pk


def staff_provider_created_then_removed(world: World, principal: str) -> None:
    provider = ServiceProvider.objects.get(name="Proveedor Web")
    organisation = world.b.organisation if principal == "other_organisation" else world.a.organisation
    assert (provider.owner, provider.phone) == (organisation, "+50277760000")
    provider.delete()


def staff_provider_renamed(world: World, principal: str) -> None:
    assert ServiceProvider.objects.get(pk=staff_point(world).provider_id).name == "Proveedor Alfa renamed"


def staff_translation(language: str = "en") -> ContentTranslation:
    return ContentTranslation.objects.get(item__key="staff-item", language=language)


def staff_submitted_then_reset(world: World, principal: str) -> None:
    translation = staff_translation()
    assert (translation.status, translation.submitted_by_id) == ("in_review", user_of(world, principal).pk)
    ContentTranslation.objects.filter(pk=translation.pk).update(status="draft")


def staff_published_then_reset(world: World, principal: str) -> None:
    translation = staff_translation()
    assert (translation.status, translation.reviewed_by_id) == ("published", user_of(world, principal).pk)
    ContentTranslation.objects.filter(pk=translation.pk).update(status="in_review")


def staff_sent_back_then_reset(world: World, principal: str) -> None:
    translation = staff_translation()
    note = translation.history.filter(action="sent_back").latest("pk").note
    assert (translation.status, note) == ("draft", "Add the fees.")
    ContentTranslation.objects.filter(pk=translation.pk).update(status="in_review")


def staff_archived_then_reset(world: World, principal: str) -> None:
    translation = staff_translation()
    assert (translation.status, translation.history.latest("pk").by_id) == (
        "archived",
        user_of(world, principal).pk,
    )
    ContentTranslation.objects.filter(pk=translation.pk).update(status="draft")


def staff_item_class_changed_then_reset(world: World, principal: str) -> None:
    item = ContentItem.objects.get(key="staff-item")
    assert item.sensitivity == "protection_critical"
    ContentItem.objects.filter(pk=item.pk).update(sensitivity="public")


def staff_item_verified(world: World, principal: str) -> None:
    assert ContentItem.objects.get(key="staff-item").verified_by_id == user_of(world, principal).pk


# A write on a row of A: A's content managers are sent on (`outcome`); B's finds nothing; others 403.
def staff_a_write(outcome: object) -> dict[str, object]:
    return expect(
        anonymous=LOGIN,
        a=403,
        administrator=outcome,
        site_manager=outcome,
        information_officer=outcome,
        other_organisation=404,
        outsider=403,
    )


# A form sent with a missing field: refused as invalid (400) for whoever may use it; nothing written.
STAFF_INVALID_FORM = expect(
    anonymous=LOGIN,
    a=403,
    administrator=400,
    site_manager=400,
    information_officer=400,
    other_organisation=400,
    outsider=403,
)

WRITES += [
    Row(
        "directory:point_create",
        "POST",
        lambda w: "/en/staff/directory/points/new/",
        # B's administrator may create points, but not under A's provider: a field error on `provider`.
        expect(
            anonymous=LOGIN,
            a=403,
            administrator="302 /en/staff/directory/",
            site_manager="302 /en/staff/directory/",
            information_officer="302 /en/staff/directory/",
            other_organisation=400,
            outsider=403,
        ),
        data=lambda w: staff_point_form(w, name="Albergue Alfa nuevo"),
        effect=staff_point_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "directory:point_edit",
        "POST",
        lambda w: f"/en/staff/directory/points/{staff_point(w).pk}/",
        staff_a_write("302 /en/staff/directory/"),
        data=lambda w: staff_point_form(w, name="Albergue Alfa renamed"),
        effect=staff_point_renamed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "directory:point_status",
        "POST",
        lambda w: f"/en/staff/directory/points/{staff_point(w).pk}/status/",
        staff_a_write("302 /en/staff/directory/"),
        data=lambda w: {"status": "archived", "next": "/en/staff/directory/"},
        effect=staff_point_archived,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "directory:point_verify",
        "POST",
        lambda w: f"/en/staff/directory/points/{staff_point(w).pk}/verify/",
        staff_a_write("302 /en/staff/directory/stale/"),
        data=lambda w: {"next": "/en/staff/directory/stale/"},
        effect=staff_point_verified,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "directory:provider_create",
        "POST",
        lambda w: "/en/staff/directory/providers/new/",
        # Every content manager may add a provider, kept by their own organisation.
        expect(
            anonymous=LOGIN,
            a=403,
            administrator="302 /en/staff/directory/providers/",
            site_manager="302 /en/staff/directory/providers/",
            information_officer="302 /en/staff/directory/providers/",
            other_organisation="302 /en/staff/directory/providers/",
            outsider=403,
        ),
        data=lambda w: {"name": "Proveedor Web", "kind": "ngo", "phone": "+502 7776 0000", "status": "draft"},
        effect=staff_provider_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "directory:provider_edit",
        "POST",
        lambda w: f"/en/staff/directory/providers/{staff_point(w).provider_id}/",
        staff_a_write("302 /en/staff/directory/providers/"),
        data=lambda w: {"name": "Proveedor Alfa renamed", "kind": "ngo", "status": "published"},
        effect=staff_provider_renamed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    # Without a file: the form refuses it (the import itself: directory/tests/test_views.py).
    Row(
        "directory:import",
        "POST",
        lambda w: "/en/staff/directory/import/",
        STAFF_INVALID_FORM,
        data=lambda w: {},
    ),
    Row(
        "content:item_create",
        "POST",
        lambda w: "/en/staff/content/new/",
        STAFF_INVALID_FORM,
        data=lambda w: {"kind": "rights", "sensitivity": "public", "source_language": "en"},
    ),
    Row(
        "content:translation_edit",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/",
        staff_a_write(400),
        data=lambda w: {"title": "", "summary": "A title is missing."},
    ),
    Row(
        "content:translation_submit",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/submit/",
        staff_a_write("302 /en/staff/content/"),
        data=lambda w: {"next": "/en/staff/content/"},
        effect=staff_submitted_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content:translation_publish",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w, in_review=True).pk}/en/publish/",
        staff_a_write("302 /en/staff/content/review/"),
        effect=staff_published_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content:translation_send_back",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w, in_review=True).pk}/en/send-back/",
        staff_a_write("302 /en/staff/content/review/"),
        data=lambda w: {"note": "Add the fees."},
        effect=staff_sent_back_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content:translation_archive",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/en/archive/",
        staff_a_write("302 /en/staff/content/"),
        data=lambda w: {"next": "/en/staff/content/"},
        effect=staff_archived_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content:item_settings",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/settings/",
        staff_a_write("302 /en/staff/content/"),
        data=lambda w: {"sensitivity": "protection_critical", "next": "/en/staff/content/"},
        effect=staff_item_class_changed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "content:item_settings",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/settings/",
        staff_a_write(400),
        data=lambda w: {"sensitivity": "secret"},
        id="POST content:item_settings (unknown sensitivity)",
    ),
    Row(
        "content:item_verify",
        "POST",
        lambda w: f"/en/staff/content/{staff_item(w).pk}/verify/",
        staff_a_write("302 /en/staff/content/stale/"),
        data=lambda w: {"next": "/en/staff/content/stale/"},
        effect=staff_item_verified,
        audit_actions=(AuditAction.UPDATE,),
    ),
]


# --- Questionnaires and registration API ---------------------------------------------------------------
# Forms: every signed-in user reads the shipped one. People, registrations and flags: the case staff of A's
# first site (the site manager and the caseworker); the collections are 403 for roles without personal
# data, and a person of A is a 404 for everyone else.

# Forms are for people who work for an organisation: signed in without a membership sees none.
EVERYONE_SIGNED_IN = expect(anonymous=401, a=200, other_organisation=200, outsider=404)
CASE_STAFF_LIST = expect(
    anonymous=401, a=403, site_manager=200, caseworker=200, other_organisation=403, outsider=403
)
CASE_STAFF_OBJECT = expect(
    anonymous=401, a=404, site_manager=200, caseworker=200, other_organisation=404, outsider=404
)
CASE_STAFF_POST_ONLY = everyone(405, anonymous=401)


def shipped_form_urls(world: World) -> str:
    from ventanilla.registration import services as registration_services

    version = registration_services.shipped_form()
    return f"/api/v1/forms/{version.questionnaire_id}/versions/{version.pk}"


def api_a_person(world: World, key: str = "ana", **changes: Any) -> Any:
    """A person registered at A's first site by A's caseworker (once per world and key)."""
    from ventanilla.registration import services as registration_services
    from ventanilla.registration.models import Person
    from ventanilla.registration.tests.test_register import answers

    cached = getattr(world, f"_person_{key}", None)
    if cached is not None:
        return Person.objects.get(pk=cached)
    outcome = registration_services.register(
        registration_services.shipped_form(),
        answers(**changes),
        organisation=world.a.organisation,
        site=world.a.sites[0],
        by=world.user("a", "caseworker"),
        language="es",
    )
    setattr(world, f"_person_{key}", outcome.person.pk)
    return outcome.person


def a_duplicate(world: World) -> Any:
    """Fatima Hassan, then فاطمة حسن: the second's duplicate candidate (a pending pair of A)."""
    from ventanilla.registration.models import DuplicateCandidate

    adult = {"age_estimate": "25", "child_care": None}
    api_a_person(world, "fatima", given_name="Fatima", family_name="Hassan", **adult)
    second = api_a_person(world, "fatima_ar", given_name="فاطمة", family_name="حسن", **adult)
    return DuplicateCandidate.objects.get(person=second)


def api_a_consent(world: World) -> Any:
    from ventanilla.registration.models import Consent

    return Consent.objects.get(person=api_a_person(world), purpose="referral")


def person_url(world: World, rest: str = "") -> str:
    return f"/api/v1/persons/{api_a_person(world).reference}/{rest}"


def duplicate_url(world: World, decision: str) -> str:
    candidate = a_duplicate(world)
    return f"/api/v1/persons/{candidate.person.reference}/duplicates/{candidate.pk}/{decision}/"


READS += [
    Row(
        "form-list", "GET", lambda w: "/api/v1/forms/", everyone(200, anonymous=401)
    ),  # empty without a membership
    Row(
        "form-detail",
        "GET",
        lambda w: shipped_form_urls(w).split("/versions/")[0] + "/",
        EVERYONE_SIGNED_IN,
    ),
    Row(
        "form-versions",
        "GET",
        lambda w: shipped_form_urls(w).split("/versions/")[0] + "/versions/",
        EVERYONE_SIGNED_IN,
    ),
    Row("form-version-xlsx", "GET", lambda w: f"{shipped_form_urls(w)}/xlsx/", EVERYONE_SIGNED_IN),
    Row("form-version-xform", "GET", lambda w: f"{shipped_form_urls(w)}/xform/", EVERYONE_SIGNED_IN),
    Row("form-version-schema", "GET", lambda w: f"{shipped_form_urls(w)}/schema/", EVERYONE_SIGNED_IN),
    Row("registration-list", "GET", lambda w: "/api/v1/registrations/", CASE_STAFF_LIST),
    Row(
        "registration-detail",
        "GET",
        lambda w: f"/api/v1/registrations/{api_a_person(w).registrations.get().pk}/",
        CASE_STAFF_OBJECT,
    ),
    Row("person-list", "GET", lambda w: "/api/v1/persons/", CASE_STAFF_LIST),
    Row("person-detail", "GET", lambda w: person_url(w), CASE_STAFF_OBJECT),
    Row("person-consents", "GET", lambda w: person_url(w, "consents/"), CASE_STAFF_OBJECT),
    Row("person-flags", "GET", lambda w: person_url(w, "flags/"), CASE_STAFF_OBJECT),
    Row("person-duplicates", "GET", lambda w: person_url(w, "duplicates/"), CASE_STAFF_OBJECT),
    Row("person-erase", "GET", lambda w: person_url(w, "erase/"), CASE_STAFF_POST_ONLY),
    Row(
        "person-withdraw-consent",
        "GET",
        lambda w: person_url(w, f"consents/{api_a_consent(w).pk}/withdraw/"),
        CASE_STAFF_POST_ONLY,
    ),
    Row("person-duplicate-merge", "GET", lambda w: duplicate_url(w, "merge"), CASE_STAFF_POST_ONLY),
    Row("person-duplicate-not-same", "GET", lambda w: duplicate_url(w, "not-same"), CASE_STAFF_POST_ONLY),
    Row("person-duplicate-undo", "GET", lambda w: duplicate_url(w, "undo"), CASE_STAFF_POST_ONLY),
    Row("flag-list", "GET", lambda w: "/api/v1/flags/", CASE_STAFF_LIST),
]


def upload_data(world: World) -> dict[str, Any]:
    from ventanilla.questionnaires.tests.test_api import GOOD, xlsform

    return {"file": ("matrix.xlsx", xlsform(GOOD, form_id="matrix")), "owner": org_a(world)}


def form_uploaded_then_removed(world: World, principal: str) -> None:
    from ventanilla.questionnaires.models import Questionnaire

    form = Questionnaire.objects.get(form_id="matrix", owner=world.a.organisation)
    assert form.current.uploaded_by == user_of(world, principal)
    form.versions.all().delete()
    form.delete()


def registration_data(world: World) -> dict[str, Any]:
    from ventanilla.registration import services as registration_services
    from ventanilla.registration.tests.test_register import answers

    version = registration_services.shipped_form()
    return {"form_version": version.pk, "site": w_site(world), "answers": answers(), "language": "es"}


def w_site(world: World) -> int:
    return world.a.sites[0].pk


def api_person_registered(world: World, principal: str) -> None:
    from ventanilla.registration.models import Registration

    latest = Registration.objects.latest("pk")
    assert (latest.registered_by, latest.person.given_name) == (user_of(world, principal), "Ana")


def api_person_erased_then_reset(world: World, principal: str) -> None:
    from ventanilla.registration.models import Person

    person = api_a_person(world)
    assert person.erased_at is not None
    assert person.given_name == ""
    Person.objects.filter(pk=person.pk).update(erased_at=None)


def api_a_flag(world: World) -> Any:
    from ventanilla.registration.models import Flag

    return Flag.objects.filter(person=api_a_person(world)).order_by("pk").first()


def api_flag_dismissed_then_reset(world: World, principal: str) -> None:
    from ventanilla.registration.models import Flag

    flag = api_a_flag(world)
    assert (flag.dismissed_by, flag.dismissed_reason) == (user_of(world, principal), "Assessed again.")
    Flag.objects.filter(pk=flag.pk).update(dismissed_at=None, dismissed_by=None, dismissed_reason="")


def api_consent_withdrawn_then_reset(world: World, principal: str) -> None:
    from ventanilla.registration.models import Consent

    consent = api_a_consent(world)
    assert consent.withdrawn_by == user_of(world, principal)
    Consent.objects.filter(pk=consent.pk).update(withdrawn_at=None, withdrawn_by=None)


def merged_then_reset(world: World, principal: str) -> None:
    """Put the pair back as it was, without the service (which would audit)."""
    from django.apps import apps

    from ventanilla.registration.models import DuplicateCandidate, Person

    candidate = a_duplicate(world)
    assert (candidate.decision, candidate.decided_by) == ("merged", user_of(world, principal))
    newer = candidate.person
    for label, ids in candidate.merge_record.items():
        if label != "links":
            apps.get_model(label).objects.filter(pk__in=ids).update(person=newer)
    Person.objects.filter(pk=newer.pk).update(merged_into=None)
    DuplicateCandidate.objects.filter(pk=candidate.pk).update(
        decision="pending", decided_by=None, merge_record={}
    )


def not_same_then_reset(world: World, principal: str) -> None:
    from ventanilla.registration.models import DuplicateCandidate

    candidate = a_duplicate(world)
    assert (candidate.decision, candidate.decided_by) == ("not_same", user_of(world, principal))
    DuplicateCandidate.objects.filter(pk=candidate.pk).update(decision="pending", decided_by=None)


CASE_STAFF_WRITE = expect(
    anonymous=401, a=404, site_manager=200, caseworker=200, other_organisation=404, outsider=404
)

WRITES += [
    Row(
        "form-list",
        "POST",
        lambda w: "/api/v1/forms/",
        # manage_forms in A; B's administrator manages B's forms only: a field error on the owner.
        expect(
            anonymous=401,
            a=403,
            administrator=201,
            site_manager=201,
            me_officer=201,
            other_organisation=400,
            outsider=403,
        ),
        data=upload_data,
        effect=form_uploaded_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "registration-list",
        "POST",
        lambda w: "/api/v1/registrations/",
        expect(anonymous=401, a=403, site_manager=201, caseworker=201, other_organisation=403, outsider=403),
        data=registration_data,
        effect=api_person_registered,
        audit_actions=(AuditAction.CREATE, AuditAction.CREATE),
    ),
    Row(
        "person-erase",
        "POST",
        lambda w: person_url(w, "erase/"),
        CASE_STAFF_WRITE,
        data=lambda w: {"reason": "person_request"},
        effect=api_person_erased_then_reset,
        audit_actions=(AuditAction.ERASE,),
    ),
    Row(
        "flag-dismiss",
        "POST",
        lambda w: f"/api/v1/flags/{api_a_flag(w).pk}/dismiss/",
        CASE_STAFF_WRITE,
        data=lambda w: {"reason": "Assessed again."},
        effect=api_flag_dismissed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "person-withdraw-consent",
        "POST",
        lambda w: person_url(w, f"consents/{api_a_consent(w).pk}/withdraw/"),
        CASE_STAFF_WRITE,
        effect=api_consent_withdrawn_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "person-duplicate-merge",
        "POST",
        lambda w: duplicate_url(w, "merge"),
        CASE_STAFF_WRITE,
        effect=merged_then_reset,
        audit_actions=(AuditAction.UPDATE, AuditAction.UPDATE),
    ),
    Row(
        "person-duplicate-not-same",
        "POST",
        lambda w: duplicate_url(w, "not-same"),
        CASE_STAFF_WRITE,
        effect=not_same_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "person-duplicate-undo",
        "POST",
        lambda w: duplicate_url(w, "undo"),
        # Nothing is merged here: the case staff get a conflict, everyone else finds nothing.
        expect(anonymous=401, a=404, site_manager=409, caseworker=409, other_organisation=404, outsider=404),
    ),
]


# --- Forms and people -------------------------------------------------------------------------------
# Forms: everyone signed in reads the shipped forms and their organisations' own; uploading and choosing
# the version in use need manage_forms in the organisation keeping the form (nobody may change a shipped
# one). People: reading needs view_personal_data and writing edit_personal_data, each only for the sites
# the role covers (the world gives site-scoped roles A's first site); the receipt is a personal page too.

FORM_MANAGERS = ("administrator", "site_manager", "me_officer")


def _once(world: World, key: str, make: Callable[[], int]) -> int:
    """The primary key of an object a row needs, made the first time it is asked for in this world."""
    made: dict[str, int] = world.__dict__.setdefault("matrix_objects", {})
    if key not in made:
        made[key] = make()
    return made[key]


def a_form(world: World) -> Questionnaire:
    """Organisation A's own small form in versions 1 and 2, version 2 in use."""
    pk = _once(
        world, "form", lambda: kept_form(world.a.organisation, versions=("1", "2"))[-1].questionnaire_id
    )
    return Questionnaire.objects.get(pk=pk)


def a_form_version(world: World, version: str) -> FormVersion:
    return a_form(world).versions.get(version=version)


def shipped_questionnaire(world: World) -> Questionnaire:
    return registration_services.shipped_form().questionnaire


def register_in_a(world: World, *, by: User, site: Site, **changes: object) -> registration_services.Outcome:
    return registration_services.register(
        registration_services.shipped_form(),
        answers(**changes),
        organisation=world.a.organisation,
        site=site,
        by=by,
        language="en",
        today=TODAY,
    )


def a_person(world: World) -> Person:
    """Ana, a separated child registered by A's caseworker at A's first site (two flags, referral consent)."""

    def make() -> int:
        person = register_in_a(world, by=world.user("a", "caseworker"), site=world.a.sites[0]).person
        assert person is not None
        return person.pk

    return Person.objects.get(pk=_once(world, "person", make))


def second_site_person(world: World) -> Person:
    """Rosa, registered at A's second site by a caseworker of that site (no world user covers it)."""

    def make() -> int:
        caseworker = UserFactory(username="a_caseworker_site_2")
        services.grant_membership(
            user=caseworker,
            organisation=world.a.organisation,
            role="caseworker",
            sites=[world.a.sites[1]],
            by=None,
        )
        person = register_in_a(
            world, by=caseworker, site=world.a.sites[1], given_name="Rosa", family_name="Pérez"
        ).person
        assert person is not None
        return person.pk

    return Person.objects.get(pk=_once(world, "second_site_person", make))


def duplicate_pair(world: World) -> DuplicateCandidate:
    """Fatima Hassan registered twice at A's first site, in Latin then Arabic letters: one pending pair."""

    def make() -> int:
        by, site = world.user("a", "caseworker"), world.a.sites[0]
        adult = {"age_estimate": "25", "child_care": None}
        register_in_a(world, by=by, site=site, given_name="Fatima", family_name="Hassan", **adult)
        second = register_in_a(world, by=by, site=site, given_name="فاطمة", family_name="حسن", **adult)
        assert len(second.duplicates) == 1
        return second.duplicates[0].pk

    return DuplicateCandidate.objects.select_related("person", "candidate").get(pk=_once(world, "pair", make))


def merged_pair(world: World) -> DuplicateCandidate:
    """The pair above, merged by A's caseworker; what the merge moved is kept to merge again."""

    def make() -> int:
        pair = duplicate_pair(world)
        registration_services.merge(pair, by=world.user("a", "caseworker"))
        pair.refresh_from_db()
        world.__dict__["matrix_merge_record"] = pair.merge_record
        return pair.pk

    return DuplicateCandidate.objects.select_related("person", "candidate").get(
        pk=_once(world, "merged", make)
    )


def a_flag(world: World) -> Flag:
    return Flag.objects.get(person=a_person(world), code="separated_child")


def a_consent(world: World, purpose: str = "referral") -> Consent:
    return Consent.objects.get(person=a_person(world), purpose=purpose)


def last_page(version: FormVersion) -> str:
    return str(len(renderer.pages(version.schema)) - 1)


def finish_form(version: FormVersion, data: dict[str, Any], **extra: str) -> dict[str, Any]:
    """What the browser posts from the form's last page: every answer so far, and "finish"."""
    return {
        "_answers": json.dumps(data),
        "_page": last_page(version),
        "_action": "finish",
        "_language": "en",
        **extra,
    }


class Upload:
    """A file for the test client that can be sent again (a real file is read to its end once)."""

    def __init__(self, name: str, content: bytes):
        self.name = name
        self.content = content

    def read(self) -> bytes:
        return self.content


PLACEHOLDERS: dict[str, Callable[[World], object]] = {
    "org_a": org_a,
    "form_a": lambda w: a_form(w).pk,
    "person_a": lambda w: a_person(w).reference,
    "newer": lambda w: duplicate_pair(w).person.reference,
    "survivor": lambda w: duplicate_pair(w).candidate.reference,
}


class Placeholders(dict[str, object]):
    """Values for "{name}" in expected redirects, looked up (and their objects made) only when used."""

    def __init__(self, world: World):
        super().__init__()
        self.world = world

    def __missing__(self, key: str) -> object:
        return PLACEHOLDERS[key](self.world)


# Reading personal data: the site manager and the caseworker of A's first site; nobody else.
PERSONAL = expect(
    anonymous=LOGIN,
    a=403,
    site_manager=200,
    caseworker=200,
    other_organisation=403,
    outsider=403,
)


def personal_write(outcome: object) -> dict[str, object]:
    """Writing personal data: the same two people (sent on to `outcome`); everyone else refused."""
    return expect(
        anonymous=LOGIN,
        a=403,
        site_manager=outcome,
        caseworker=outcome,
        other_organisation=403,
        outsider=403,
    )


def form_write(
    outcome: object, *, other_organisation: object = 404, outsider: object = 404
) -> dict[str, object]:
    """A change to A's own form: A's form managers (sent on to `outcome`); A's other roles refused."""
    return expect(
        anonymous=LOGIN,
        a=403,
        **dict.fromkeys(FORM_MANAGERS, outcome),
        other_organisation=other_organisation,
        outsider=outsider,
    )


READS += [
    # The forms list opens for whoever is signed in; without a membership it lists nothing.
    Row("questionnaires:list", "GET", lambda w: "/en/staff/forms/", everyone(200)),
    Row("questionnaires:detail", "GET", lambda w: f"/en/staff/forms/{a_form(w).pk}/", org_a_only(200)),
    Row(
        "questionnaires:detail",
        "GET",
        lambda w: f"/en/staff/forms/{shipped_questionnaire(w).pk}/",
        expect(anonymous=LOGIN, a=200, other_organisation=200, outsider=404),
        id="GET questionnaires:detail (shipped form)",
    ),
    Row("questionnaires:try", "GET", lambda w: f"/en/staff/forms/{a_form(w).pk}/try/", org_a_only(200)),
    Row(
        "questionnaires:xlsx",
        "GET",
        lambda w: f"/en/staff/forms/{a_form(w).pk}/versions/{a_form_version(w, '1').pk}/xlsx/",
        org_a_only(200),
    ),
    Row(
        "questionnaires:xform",
        "GET",
        lambda w: f"/en/staff/forms/{a_form(w).pk}/versions/{a_form_version(w, '1').pk}/xform/",
        org_a_only(200),
    ),
    Row(
        "questionnaires:make_current",
        "GET",
        lambda w: f"/en/staff/forms/{a_form(w).pk}/versions/{a_form_version(w, '1').pk}/use/",
        everyone(405),
    ),
    Row("registration:person_list", "GET", lambda w: "/en/staff/people/", PERSONAL),
    Row("registration:register", "GET", lambda w: "/en/staff/people/register/", PERSONAL),
    Row(
        "registration:person_detail",
        "GET",
        lambda w: f"/en/staff/people/{a_person(w).reference}/",
        PERSONAL,
    ),
    Row(
        "registration:person_detail",
        "GET",
        lambda w: f"/en/staff/people/{second_site_person(w).reference}/",
        # A's first site's staff do not see the second site's people: for them the record is not there.
        expect(
            anonymous=LOGIN,
            a=403,
            site_manager=404,
            caseworker=404,
            other_organisation=403,
            outsider=403,
        ),
        id="GET registration:person_detail (second site)",
    ),
    Row(
        "registration:receipt",
        "GET",
        lambda w: f"/en/staff/people/{a_person(w).reference}/receipt/",
        PERSONAL,
    ),
    Row(
        "registration:erase",
        "GET",
        lambda w: f"/en/staff/people/{a_person(w).reference}/erase/",
        PERSONAL,
    ),
    Row(
        "registration:correct",
        "GET",
        lambda w: (
            f"/en/staff/people/{a_person(w).reference}/registrations/"
            f"{a_person(w).registrations.get().pk}/correct/"
        ),
        PERSONAL,
    ),
    Row(
        "registration:withdraw_consent",
        "GET",
        lambda w: f"/en/staff/people/{a_person(w).reference}/consents/{a_consent(w).pk}/withdraw/",
        everyone(405),
    ),
    Row(
        "registration:dismiss_flag",
        "GET",
        lambda w: f"/en/staff/people/{a_person(w).reference}/flags/{a_flag(w).pk}/dismiss/",
        everyone(405),
    ),
    Row(
        "registration:decide_duplicate",
        "GET",
        lambda w: (
            f"/en/staff/people/{duplicate_pair(w).person.reference}/duplicates/{duplicate_pair(w).pk}/merge/"
        ),
        everyone(405),
    ),
]


# What the allowed writes on forms and people must have done. Writes that can be done once only (a
# version name, a merge) are put back without the services, so that the reset leaves no audit entries.


def version_3_uploaded_then_removed(world: World, principal: str) -> None:
    questionnaire = a_form(world)
    version = questionnaire.versions.get(version="3")
    assert (questionnaire.current_id, version.uploaded_by_id) == (version.pk, user_of(world, principal).pk)
    assert version.xform.count("<visitor_name") == 1
    Questionnaire.objects.filter(pk=questionnaire.pk).update(current=a_form_version(world, "2"))
    version.delete()


def version_1_in_use_then_reset(world: World, principal: str) -> None:
    assert a_form(world).current == a_form_version(world, "1")
    Questionnaire.objects.filter(pk=a_form(world).pk).update(current=a_form_version(world, "2"))


def person_registered(world: World, principal: str) -> None:
    registration = Registration.objects.filter(registered_by=user_of(world, principal)).get()
    assert registration.person is not None
    assert registration.submission is not None
    assert (registration.site, registration.person.given_name, registration.submission.answers["sex"]) == (
        world.a.sites[0],
        "Ana",
        "female",
    )
    assert set(registration.flags.values_list("code", flat=True)) == {
        "separated_child",
        "international_protection",
    }


def person_erased_then_reset(world: World, principal: str) -> None:
    person = a_person(world)
    assert (person.erased_at is not None, person.given_name, person.family_name) == (True, "", "")
    assert not Submission.objects.filter(registration__person=person).exists()
    Person.objects.filter(pk=person.pk).update(erased_at=None)


def consent_withdrawn_then_reset(world: World, principal: str) -> None:
    consent = a_consent(world)
    assert (consent.withdrawn_at is not None, consent.withdrawn_by_id) == (True, user_of(world, principal).pk)
    assert a_person(world).erased_at is None
    Consent.objects.filter(pk=consent.pk).update(withdrawn_at=None, withdrawn_by=None)


def flag_dismissed_then_reset(world: World, principal: str) -> None:
    flag = a_flag(world)
    assert (flag.dismissed_by_id, flag.dismissed_reason) == (
        user_of(world, principal).pk,
        "Found her mother.",
    )
    Flag.objects.filter(pk=flag.pk).update(dismissed_at=None, dismissed_by=None, dismissed_reason="")


def pair_merged_then_reset(world: World, principal: str) -> None:
    pair = duplicate_pair(world)
    newer, survivor = pair.person, pair.candidate
    assert (pair.decision, pair.decided_by_id, newer.merged_into_id) == (
        DuplicateDecision.MERGED,
        user_of(world, principal).pk,
        survivor.pk,
    )
    assert list(Registration.objects.filter(person=newer)) == []
    assert Registration.objects.filter(person=survivor).count() == 2
    _move(pair.merge_record, to=newer)
    Person.objects.filter(pk=newer.pk).update(merged_into=None)
    DuplicateCandidate.objects.filter(pk=pair.pk).update(
        decision=DuplicateDecision.PENDING, decided_by=None, decided_at=None, merge_record={}
    )


def pair_not_same_then_reset(world: World, principal: str) -> None:
    pair = duplicate_pair(world)
    assert (pair.decision, pair.decided_by_id) == (DuplicateDecision.NOT_SAME, user_of(world, principal).pk)
    DuplicateCandidate.objects.filter(pk=pair.pk).update(
        decision=DuplicateDecision.PENDING, decided_by=None, decided_at=None
    )


def merge_undone_then_reset(world: World, principal: str) -> None:
    pair = merged_pair(world)
    newer, survivor = pair.person, pair.candidate
    assert (pair.decision, pair.decided_by_id, newer.merged_into_id) == (
        DuplicateDecision.PENDING,
        user_of(world, principal).pk,
        None,
    )
    assert Registration.objects.filter(person=newer).count() == 1
    record = world.__dict__["matrix_merge_record"]
    _move(record, to=survivor)
    Person.objects.filter(pk=newer.pk).update(merged_into=survivor)
    DuplicateCandidate.objects.filter(pk=pair.pk).update(
        decision=DuplicateDecision.MERGED, merge_record=record
    )


def _move(record: dict[str, list[int]], *, to: Person) -> None:
    for model, field_name in registration_services._moved():
        model.objects.filter(pk__in=record.get(model._meta.label_lower, [])).update(**{field_name: to})


def answers_corrected(world: World, principal: str) -> None:
    person = a_person(world)
    correction = AnswerCorrection.objects.filter(registration__person=person).get()
    assert (person.given_name, correction.by_id, correction.reason) == (
        "Ana María",
        user_of(world, principal).pk,
        "Misspelt.",
    )
    AnswerCorrection.objects.filter(pk=correction.pk).delete()


WRITES += [
    Row(
        "questionnaires:list",
        "POST",
        lambda w: "/en/staff/forms/",
        # B's administrator manages B's forms, but may not name A as the owner: a field error.
        form_write("302 /en/staff/forms/{form_a}/", other_organisation=422, outsider=403),
        data=lambda w: {
            "file": Upload("tiny_form.xlsx", tiny_xlsform(version="3")),
            "owner": a_form(w).owner_id,
            "purpose": "survey",
        },
        effect=version_3_uploaded_then_removed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "questionnaires:list",
        "POST",
        lambda w: "/en/staff/forms/",
        form_write(422, other_organisation=422, outsider=403),
        data=lambda w: {
            "file": Upload("tiny_form.xlsx", b"not a workbook"),
            "owner": org_a(w),
            "purpose": "survey",
        },
        id="POST questionnaires:list (not a workbook)",
    ),
    Row(
        "questionnaires:make_current",
        "POST",
        lambda w: f"/en/staff/forms/{a_form(w).pk}/versions/{a_form_version(w, '1').pk}/use/",
        form_write("302 /en/staff/forms/{form_a}/"),
        effect=version_1_in_use_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "questionnaires:make_current",
        "POST",
        lambda w: (
            f"/en/staff/forms/{shipped_questionnaire(w).pk}/versions/"
            f"{shipped_questionnaire(w).current_id}/use/"
        ),
        # A shipped form changes with Ventanilla, not from a page.
        expect(anonymous=LOGIN, a=403, other_organisation=403, outsider=404),
        id="POST questionnaires:make_current (shipped form)",
    ),
    Row(
        "questionnaires:try",
        "POST",
        lambda w: f"/en/staff/forms/{a_form(w).pk}/try/",
        # Trying a form stores nothing: an allowed try is checked by the state staying the same.
        org_a_only(200),
        data=lambda w: finish_form(a_form(w).current, {}, visitor_name="Ana", visitor_age="30"),
    ),
    Row(
        "registration:register",
        "POST",
        lambda w: "/en/staff/people/register/",
        personal_write(Redirect(r"/en/staff/people/VT-[A-Z0-9]{4}-[A-Z0-9]{4}/")),
        data=lambda w: finish_form(
            registration_services.shipped_form(),
            answers(),
            _site=str(w.a.sites[0].pk),
            _form=str(shipped_questionnaire(w).pk),
        ),
        effect=person_registered,
        audit_actions=(AuditAction.CREATE, AuditAction.CREATE),
    ),
    Row(
        "registration:erase",
        "POST",
        lambda w: f"/en/staff/people/{a_person(w).reference}/erase/",
        personal_write("302 /en/staff/people/"),
        data=lambda w: {"confirm": a_person(w).reference},
        effect=person_erased_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.ERASE),
    ),
    Row(
        "registration:withdraw_consent",
        "POST",
        lambda w: f"/en/staff/people/{a_person(w).reference}/consents/{a_consent(w).pk}/withdraw/",
        personal_write("302 /en/staff/people/{person_a}/"),
        effect=consent_withdrawn_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
    ),
    Row(
        "registration:dismiss_flag",
        "POST",
        lambda w: f"/en/staff/people/{a_person(w).reference}/flags/{a_flag(w).pk}/dismiss/",
        personal_write("302 /en/staff/people/{person_a}/"),
        data=lambda w: {"reason": "Found her mother."},
        effect=flag_dismissed_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
    ),
    Row(
        "registration:decide_duplicate",
        "POST",
        lambda w: (
            f"/en/staff/people/{duplicate_pair(w).person.reference}/duplicates/{duplicate_pair(w).pk}/merge/"
        ),
        personal_write("302 /en/staff/people/{survivor}/"),
        effect=pair_merged_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE, AuditAction.UPDATE),
    ),
    Row(
        "registration:decide_duplicate",
        "POST",
        lambda w: (
            f"/en/staff/people/{duplicate_pair(w).person.reference}/duplicates/"
            f"{duplicate_pair(w).pk}/not-same/"
        ),
        personal_write("302 /en/staff/people/{newer}/"),
        effect=pair_not_same_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
        id="POST registration:decide_duplicate (not the same person)",
    ),
    Row(
        "registration:decide_duplicate",
        "POST",
        lambda w: (
            f"/en/staff/people/{merged_pair(w).candidate.reference}/duplicates/{merged_pair(w).pk}/undo/"
        ),
        personal_write("302 /en/staff/people/{survivor}/"),
        effect=merge_undone_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
        id="POST registration:decide_duplicate (undo a merge)",
    ),
    Row(
        "registration:correct",
        "POST",
        lambda w: (
            f"/en/staff/people/{a_person(w).reference}/registrations/"
            f"{a_person(w).registrations.get().pk}/correct/"
        ),
        personal_write("302 /en/staff/people/{person_a}/"),
        data=lambda w: finish_form(
            registration_services.shipped_form(),
            answers(given_name="Ana María"),
            _reason="Misspelt.",
        ),
        effect=answers_corrected,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
    ),
]


SUCCESS = {200, 201, 204}


def _expected(row: Row, principal: str, world: World) -> object:
    value = row.expected[principal]
    return value.format_map(Placeholders(world)) if isinstance(value, str) else value


def _allowed(expected: object) -> bool:
    return (
        expected in SUCCESS
        or isinstance(expected, Redirect)
        or (isinstance(expected, str) and expected.startswith("302 "))
    )


# Referrals, partner inboxes and links, pathways, metrics and cases keep their rows in their own module.
READS += matrix_referrals.READS
WRITES += matrix_referrals.WRITES
READS += matrix_messaging.READS
WRITES += matrix_messaging.WRITES


@pytest.mark.parametrize("row", WRITES, ids=Row.label)
def test_write_matrix(world, client_for, row):
    # given the row's URL and body, and each principal's client (refused principals first)
    url = row.url(world)
    data = row.data(world) if row.data else None
    expected = {p: _expected(row, p, world) for p in PRINCIPALS}
    order = sorted(PRINCIPALS, key=lambda p: _allowed(expected[p]))
    actual: dict[str, object] = {}
    changed_by_refused: list[str] = []
    for principal in order:
        client = client_for(user_of(world, principal))
        before = state()
        # when the principal tries the write
        response = send(client, row.method, url, data)
        actual[principal] = outcome(response)
        if url.startswith("/api/") and response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "fields"}, principal
        if _allowed(expected[principal]) and actual[principal] == expected[principal] and row.effect:
            # then an allowed write did what it says and left its audit entries, by the actor
            row.effect(world, principal)
            entries = list(AuditEntry.objects.order_by("id")[before["audit"] :])
            actor = user_of(world, principal).pk if row.audit_actor_is_principal else None
            assert [(e.action, e.actor_id) for e in entries] == [(a, actor) for a in row.audit_actions], (
                principal
            )
        elif state() != before:
            changed_by_refused.append(principal)
    # then each principal got exactly the expected answer, and no refused write changed anything
    assert {p: actual[p] for p in PRINCIPALS} == expected
    assert changed_by_refused == []


# --- Organisation B's roles against organisation A's objects ----------------------------------------

OBJECT_URLS = [
    ("GET", lambda w: f"/en/organisations/{org_a(w)}/"),
    ("GET", lambda w: f"/en/organisations/{org_a(w)}/sites/new/"),
    ("GET", lambda w: f"/en/organisations/{org_a(w)}/sites/{w.a.sites[0].pk}/edit/"),
    ("GET", lambda w: f"/en/organisations/{org_a(w)}/members/new/"),
    ("GET", lambda w: f"/en/organisations/{org_a(w)}/staff/new/"),
    ("POST", lambda w: f"/en/organisations/{org_a(w)}/staff/new/"),
    ("GET", lambda w: f"/en/organisations/{org_a(w)}/policies/"),
    ("GET", lambda w: f"/en/memberships/{caseworker_membership(w).pk}/edit/"),
    ("POST", lambda w: f"/en/organisations/{org_a(w)}/sites/{w.a.sites[0].pk}/edit/"),
    ("POST", lambda w: f"/en/memberships/{caseworker_membership(w).pk}/edit/"),
    ("POST", lambda w: f"/en/organisations/{org_a(w)}/policies/"),
    ("GET", lambda w: f"/en/organisations/{org_a(w)}/data-protection/"),
    ("POST", lambda w: f"/en/organisations/{org_a(w)}/data-protection/"),
    ("POST", lambda w: f"/en/accounts/tokens/{admin_token(w).pk}/revoke/"),
    ("GET", lambda w: f"/api/v1/organisations/{org_a(w)}/"),
    ("GET", lambda w: f"/api/v1/sites/{w.a.sites[0].pk}/"),
    ("GET", lambda w: f"/api/v1/memberships/{caseworker_membership(w).pk}/"),
    ("PATCH", lambda w: f"/api/v1/sites/{w.a.sites[0].pk}/"),
    ("PATCH", lambda w: f"/api/v1/memberships/{caseworker_membership(w).pk}/"),
    ("GET", lambda w: f"/api/v1/service-points/{public_point(w, status=PublicationStatus.DRAFT).pk}/"),
    ("PATCH", lambda w: f"/api/v1/service-points/{public_point(w, status=PublicationStatus.DRAFT).pk}/"),
    (
        "POST",
        lambda w: f"/api/v1/service-points/{public_point(w, status=PublicationStatus.DRAFT).pk}/publish/",
    ),
    ("GET", lambda w: f"/api/v1/service-providers/{a_provider(w, status=PublicationStatus.DRAFT).pk}/"),
    ("GET", lambda w: f"/api/v1/content-items/{api_item(w).key}/"),
    ("PATCH", lambda w: f"/api/v1/content-items/{api_item(w).key}/"),
    ("PUT", lambda w: f"/api/v1/content-items/{api_item(w).key}/translations/en/"),
    ("POST", lambda w: f"/api/v1/content-items/{api_item(w).key}/translations/en/submit/"),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_of_another_organisation_gets_404_for_organisation_a_objects(world, client_for, role):
    # given a user of organisation B with this role
    client = client_for(world.user("b", role))
    urls = [(method, url(world)) for method, url in OBJECT_URLS]
    before = state()
    # when they reach for each of A's objects
    actual = {f"{method} {url}": send(client, method, url, {"name": "x"}).status_code for method, url in urls}
    # then every one is simply not there, and nothing changed
    assert actual == {f"{method} {url}": 404 for method, url in urls}
    assert state() == before


def person_urls(world: World, reference: str) -> list[tuple[str, str]]:
    """Every page about one of A's people, with `reference` in place of the person's own."""
    person = a_person(world)
    registration = person.registrations.get().pk
    pair = duplicate_pair(world)
    base = f"/en/staff/people/{reference}"
    return [
        ("GET", f"{base}/"),
        ("GET", f"{base}/receipt/"),
        ("GET", f"{base}/erase/"),
        ("POST", f"{base}/erase/"),
        ("GET", f"{base}/registrations/{registration}/correct/"),
        ("POST", f"{base}/registrations/{registration}/correct/"),
        ("POST", f"{base}/consents/{a_consent(world).pk}/withdraw/"),
        ("POST", f"{base}/flags/{a_flag(world).pk}/dismiss/"),
        ("POST", f"{base}/duplicates/{pair.pk}/merge/"),
    ]


@pytest.mark.parametrize("role", ["site_manager", "caseworker"])
def test_personal_data_roles_of_another_organisation_get_404_for_organisation_a_people(
    world, client_for, role
):
    # given B's staff who read and write personal data in B, and every page about a person of A
    client = client_for(world.user("b", role))
    urls = person_urls(world, a_person(world).reference)
    before = state()
    # when they reach for each (the writes with what would be accepted from A's own caseworker)
    data = {"confirm": a_person(world).reference, "reason": "x", "_reason": "x"}
    actual = {f"{method} {url}": send(client, method, url, data).status_code for method, url in urls}
    # then the person is simply not there, and nothing changed
    assert actual == {f"{method} {url}": 404 for method, url in urls}
    assert state() == before


@pytest.mark.parametrize("principal", ["other_organisation", "partner_focal_point", "outsider"])
def test_who_may_not_read_people_is_refused_before_the_person_is_looked_for(world, client_for, principal):
    # given someone without view_personal_data, a real reference of A and one that exists nowhere
    client = client_for(user_of(world, principal))
    real = person_urls(world, a_person(world).reference)
    made_up = person_urls(world, "VT-0000-0000")
    before = state()
    # when they ask for the pages of each
    answers_for = {
        name: [send(client, method, url).status_code for method, url in urls]
        for name, urls in {"real": real, "made_up": made_up}.items()
    }
    # then both are refused alike, so the refusal says nothing about who is registered
    assert answers_for == {"real": [403] * len(real), "made_up": [403] * len(made_up)}
    assert state() == before


# --- The Django admin: staff only, and no world user is staff ----------------------------------------


def admin_urls() -> dict[str, str]:
    """Every admin URL name (except the catch-all) with a URL for it."""
    urls: dict[str, str] = {}
    for name in admin_url_names():
        try:
            urls[name] = reverse(name)
            continue
        except NoReverseMatch:
            pass
        if name == "admin:app_list":
            urls[name] = reverse(name, kwargs={"app_label": "accounts"})
        elif name == "admin:view_on_site":
            urls[name] = reverse(name, kwargs={"content_type_id": 1, "object_id": 1})
        else:
            urls[name] = reverse(name, kwargs={"object_id": 1})
    return urls


def admin_url_names() -> set[str]:
    """Named admin patterns; the unnamed ones (the catch-all, old-URL redirects) are not reversible."""
    return {name for name in url_names() if name.startswith("admin:") and name != "admin:None"}


def admin_expected(name: str) -> dict[str, object]:
    if name == "admin:login":
        # The admin's own sign-in would skip two-factor, throttling and the audit: it sends to ours.
        return everyone(LOGIN, anonymous=LOGIN)
    if name == "admin:logout":
        # The admin sends a user who may not use it from its logout URL to its index (then to login).
        return everyone("302 /en/admin/", anonymous="302 /en/admin/")
    return everyone(ADMIN_LOGIN, anonymous=ADMIN_LOGIN)


def test_admin_site_refuses_every_principal_who_is_not_staff(world, client_for):
    # given every admin URL (index, login, each registered model's pages ...)
    urls = admin_urls()
    # when every principal of the world asks for each
    actual = {
        name: {p: outcome(client_for(user_of(world, p)).get(url)) for p in PRINCIPALS}
        for name, url in urls.items()
    }
    # then only the admin login page opens; everything else sends them to it
    assert actual == {name: admin_expected(name) for name in urls}


def test_admin_site_opens_for_a_superuser(db, client_for):
    # given a superuser (a set-up account, not part of the world)
    superuser = get_user_model().objects.create_superuser("root", "a-long-root-password")
    # when they open the admin index
    response = client_for(superuser).get("/en/admin/")
    # then it opens, which shows the test above can tell refused from allowed
    assert response.status_code == 200


# --- Coverage: a URL the matrix does not list fails the build ----------------------------------------


def _walk(patterns: list[Any], namespace: str = "") -> list[str]:
    names: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}{pattern.name}")
    return names


def url_names() -> set[str]:
    return set(_walk(get_resolver().url_patterns))


def test_every_url_pattern_is_in_the_matrix():
    # given every named pattern in the URLconf (the admin's are walked by their own test)
    names = url_names()
    unnamed = {name for name in names if name.endswith(":None") or name == "None"}
    # then only the admin's catch-all is unnamed ...
    assert unnamed == {"admin:None"}
    # ... every other pattern has a row, and every row names a pattern that exists
    covered = {row.name for row in READS + WRITES}
    assert names - unnamed - admin_url_names() == covered
    # ... and every named admin pattern is reached by the admin test
    assert set(admin_urls()) == admin_url_names()


def test_every_write_method_of_every_endpoint_is_in_the_matrix():
    # given the methods each API view accepts, beyond reading
    from ventanilla.api.urls import router

    written = {(row.name, row.method) for row in WRITES}
    for prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            methods = {m.upper() for m, action in route.mapping.items() if hasattr(viewset, action)}
            name = route.name.format(basename=basename)
            # then every unsafe method is a write row
            for method in methods - {"GET", "HEAD", "OPTIONS"}:
                assert (name, method) in written, f"{method} {prefix} ({name}) is not in the matrix"


# --- The audit log: each organisation reads its own entries ------------------------------------------


def test_audit_log_shows_each_organisation_only_its_own_entries(world, client_for):
    # given one change in each organisation
    a_entry = audit.record(AuditAction.UPDATE, by=world.user("a", "administrator"), obj=world.a.sites[0])
    b_entry = audit.record(AuditAction.UPDATE, by=world.user("b", "administrator"), obj=world.b.sites[0])
    # when A's auditor and administrator, and B's administrator, read the log
    seen = {
        who: {e.pk for e in client_for(user).get("/en/audit/?action=update").context["page"]}
        for who, user in {
            "a_auditor": world.user("a", "auditor"),
            "a_administrator": world.user("a", "administrator"),
            "b_administrator": world.user("b", "administrator"),
        }.items()
    }
    # then each sees their organisation's change and not the other's
    assert seen == {
        "a_auditor": {a_entry.pk},
        "a_administrator": {a_entry.pk},
        "b_administrator": {b_entry.pk},
    }
