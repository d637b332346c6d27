"""Who may open which page and call which endpoint: one row per URL and method, one column per principal.

Columns: anonymous, each of the eight roles of organisation A, the administrator of organisation B (the
most powerful user who is *not* in A) and the outsider (signed in, no membership). Objects in the rows
belong to organisation A, so organisation B must get 404 (never 403) for them.

Outcomes: an HTTP status, `LOGIN` (302 to the sign-in page with `next`), `ADMIN_LOGIN` (302 to the admin
sign-in page) or "302 <path>" for any other redirect.

Write rows: every principal tries the write in turn on one world, refused principals first. A refused
write must leave the accounts tables, the users and the audit log exactly as they were; an allowed
write must do what it says and leave its audit entries, by the actor.

`test_every_url_pattern_is_in_the_matrix` fails when a URL pattern appears that no row covers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from ventanilla.accounts import services
from ventanilla.accounts.models import ApiToken, Membership, RolePolicy, Site, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.core.roles import Role
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
from ventanilla.testing.factories import AreaFactory
from ventanilla.testing.world import World

LOGIN = "login"
NEW_PASSWORD = "a-new-long-passphrase-42"
ADMIN_LOGIN = "admin login"
ROLES = [role.value for role in Role]
PRINCIPALS = ["anonymous", *ROLES, "other_organisation", "outsider"]


def user_of(world: World, principal: str) -> Any:
    if principal == "anonymous":
        return None
    if principal == "other_organisation":
        return world.user("b", "administrator")
    if principal == "outsider":
        return world.outsider
    return world.user("a", principal)


def expect(
    *, anonymous: object, a: object, other_organisation: object, outsider: object, **a_roles: object
) -> dict[str, object]:
    """`a` is the outcome for every role of organisation A not named in `a_roles`."""
    unknown = set(a_roles) - set(ROLES)
    assert not unknown, f"not roles: {unknown}"
    return {
        "anonymous": anonymous,
        **{role: a_roles.get(role, a) for role in ROLES},
        "other_organisation": other_organisation,
        "outsider": outsider,
    }


def everyone(outcome: object, *, anonymous: object = LOGIN) -> dict[str, object]:
    return expect(anonymous=anonymous, a=outcome, other_organisation=outcome, outsider=outcome)


def org_a_only(refused: object, **a_roles: object) -> dict[str, object]:
    """A page about an object of organisation A: `refused` for A's roles not named, 404 outside A."""
    return expect(anonymous=LOGIN, a=refused, other_organisation=404, outsider=404, **a_roles)


def admin_only(**a_roles: object) -> dict[str, object]:
    return org_a_only(403, administrator=200, **a_roles)


def outcome(response: Any) -> object:
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location == f"{reverse('accounts:login')}?next={quote(response.wsgi_request.path, safe='/')}":
        return LOGIN
    if location.startswith(f"{reverse('admin:login')}?next="):
        return ADMIN_LOGIN
    return f"302 {location}"


def send(client: Client, method: str, url: str, data: dict[str, Any] | None = None) -> Any:
    if url.startswith("/api/"):
        body = json.dumps(data) if data is not None else None
        return client.generic(method, url, body or "", content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.post(url, data or {})


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


@dataclass(frozen=True)
class Row:
    name: str  # the URL name in the resolver (namespaced)
    method: str
    url: Callable[[World], str]
    expected: dict[str, object]
    data: Callable[[World], dict[str, Any]] | None = None
    # For write rows: what the allowed write must have done, and the audit entries it must leave.
    effect: Callable[[World, str], None] | None = None
    audit_actions: tuple[str, ...] = ()
    id: str = field(default="")

    def label(self) -> str:
        return self.id or f"{self.method} {self.name}"


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


SUCCESS = {200, 201}


def _expected(row: Row, principal: str, world: World) -> object:
    value = row.expected[principal]
    return value.format(org_a=org_a(world)) if isinstance(value, str) else value


def _allowed(expected: object) -> bool:
    return expected in SUCCESS or (isinstance(expected, str) and expected.startswith("302 "))


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
            actor = user_of(world, principal).pk
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
