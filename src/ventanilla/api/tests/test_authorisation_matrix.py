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


READS = [
    # --- pages ---------------------------------------------------------------------------------------
    Row("core:dashboard", "GET", lambda w: "/en/staff/", everyone(200)),
    Row("hub:home", "GET", lambda w: "/en/", everyone(200, anonymous=200)),
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
    # The schema and its two documentation pages are public: they describe the API, not its data.
    Row("schema", "GET", lambda w: "/api/schema/", everyone(200, anonymous=200)),
    Row("api-docs", "GET", lambda w: "/api/docs/", everyone(200, anonymous=200)),
    Row("api-redoc", "GET", lambda w: "/api/redoc/", everyone(200, anonymous=200)),
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
