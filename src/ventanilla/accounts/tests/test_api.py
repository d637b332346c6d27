"""The accounts API: validation in the one error format, writes through the services, and what a user
who may not write can learn."""

from __future__ import annotations

import pytest
from django.core import mail

from ventanilla.accounts.models import Membership, Site
from ventanilla.core.models import AuditAction, AuditEntry

INVALID_FIELDS = "The request has invalid fields."


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def error(code: str, message: str, **fields: list[str]) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "fields": fields}}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("latitude", 200, "Latitude must be between -90 and 90."),
        ("latitude", -90.5, "Latitude must be between -90 and 90."),
        ("longitude", 181, "Longitude must be between -180 and 180."),
        ("time_zone", "Mars/Olympus", "Unknown time zone; use a name such as America/Mexico_City."),
    ],
)
def test_patch_site_with_an_invalid_value_names_the_field(world, client_for, field, value, message):
    # given A's administrator and A's first site
    site = world.a.sites[0]
    since = last_audit_id()
    # when they PATCH one invalid value
    response = client_for(world.user("a", "administrator")).patch(
        f"/api/v1/sites/{site.pk}/", {field: value}, content_type="application/json"
    )
    # then the one error format names the field, and the site and the log are unchanged
    assert (response.status_code, response.json()) == (
        400,
        error("invalid", INVALID_FIELDS, **{field: [message]}),
    )
    site.refresh_from_db()
    assert (site.latitude, site.longitude, site.time_zone) == (None, None, "America/Mexico_City")
    assert last_audit_id() == since


def test_post_site_creates_it_through_the_service(world, client_for):
    admin = world.user("a", "administrator")
    response = client_for(admin).post(
        "/api/v1/sites/",
        {"organisation": world.a.organisation.pk, "name": "Hotline", "kind": "hotline", "time_zone": "UTC"},
        content_type="application/json",
    )
    assert response.status_code == 201
    site = Site.objects.get(pk=response.json()["id"])
    assert (site.organisation, site.name) == (world.a.organisation, "Hotline")
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.actor_id, entry.object_id) == (AuditAction.CREATE, admin.pk, str(site.pk))


def test_site_cannot_move_to_another_organisation(world, client_for):
    # given an administrator of both A and B
    admin = world.user("a", "administrator")
    from ventanilla.accounts import services

    services.grant_membership(user=admin, organisation=world.b.organisation, role="administrator", by=None)
    # when they PATCH A's site into B
    response = client_for(admin).patch(
        f"/api/v1/sites/{world.a.sites[0].pk}/",
        {"organisation": world.b.organisation.pk},
        content_type="application/json",
    )
    # then it is refused on that field
    assert (response.status_code, response.json()) == (
        400,
        error("invalid", INVALID_FIELDS, organisation=["A site cannot move to another organisation."]),
    )
    assert Site.objects.get(pk=world.a.sites[0].pk).organisation == world.a.organisation


def test_post_membership_with_an_unknown_role_names_the_field(world, client_for):
    since = last_audit_id()
    response = client_for(world.user("a", "administrator")).post(
        "/api/v1/memberships/",
        {"user": "outsider", "organisation": world.a.organisation.pk, "role": "boss"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()) == (
        400,
        error("invalid", INVALID_FIELDS, role=['"boss" is not a valid choice.']),
    )
    assert not Membership.objects.filter(user=world.outsider).exists()
    assert last_audit_id() == since


def test_post_membership_with_a_site_of_another_organisation_names_the_field(world, client_for):
    site = world.b.sites[0]
    response = client_for(world.user("a", "administrator")).post(
        "/api/v1/memberships/",
        {
            "user": "a_auditor",
            "organisation": world.a.organisation.pk,
            "role": "caseworker",
            "sites": [site.pk],
        },
        content_type="application/json",
    )
    assert (response.status_code, response.json()) == (
        400,
        error("invalid", INVALID_FIELDS, sites=[f'Invalid pk "{site.pk}" - object does not exist.']),
    )
    assert not Membership.objects.filter(user=world.user("a", "auditor"), role="caseworker").exists()


def test_post_membership_grants_and_emails(world, client_for, django_capture_on_commit_callbacks):
    # given A's administrator and A's auditor
    auditor = world.user("a", "auditor")
    # when the administrator also makes the auditor a caseworker
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.user("a", "administrator")).post(
            "/api/v1/memberships/",
            {"user": "a_auditor", "organisation": world.a.organisation.pk, "role": "caseworker"},
            content_type="application/json",
        )
    # then the new membership is returned and the auditor is emailed
    assert response.status_code == 201
    assert response.json() == {
        "id": Membership.objects.get(user=auditor, role="caseworker").pk,
        "user": "a_auditor",
        "organisation": world.a.organisation.pk,
        "role": "caseworker",
        "sites": [],
        "is_active": True,
    }
    assert [m.to for m in mail.outbox] == [["a_auditor@example.org"]]


@pytest.mark.parametrize("username", ["outsider", "b_caseworker", "nobody-by-this-name"])
def test_an_administrator_cannot_probe_usernames_outside_their_organisation(world, client_for, username):
    # given A's administrator, and a username that exists elsewhere or not at all
    response = client_for(world.user("a", "administrator")).post(
        "/api/v1/memberships/",
        {"user": username, "organisation": world.a.organisation.pk, "role": "caseworker"},
        content_type="application/json",
    )
    # then the answer is the same either way
    assert (response.status_code, response.json()) == (
        400,
        error("invalid", INVALID_FIELDS, user=["No member of this organisation has this username."]),
    )
    assert not Membership.objects.filter(user__username=username, organisation=world.a.organisation).exists()


def test_administrator_cannot_deactivate_own_role_through_the_api(world, client_for):
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=admin, organisation=world.a.organisation)
    response = client_for(admin).patch(
        f"/api/v1/memberships/{membership.pk}/", {"is_active": False}, content_type="application/json"
    )
    assert (response.status_code, response.json()) == (
        400,
        error("invalid", "Administrators cannot remove their own administrator role."),
    )
    membership.refresh_from_db()
    assert membership.is_active is True


def test_membership_cannot_move_to_another_user(world, client_for):
    membership = Membership.objects.get(user=world.user("a", "caseworker"), organisation=world.a.organisation)
    response = client_for(world.user("a", "administrator")).patch(
        f"/api/v1/memberships/{membership.pk}/", {"user": "outsider"}, content_type="application/json"
    )
    assert (response.status_code, response.json()) == (
        400,
        error("invalid", INVALID_FIELDS, user=["A membership cannot move to another user."]),
    )
    membership.refresh_from_db()
    assert membership.user == world.user("a", "caseworker")


# --- What a user who may not write can learn ------------------------------------------------------


@pytest.mark.parametrize("username", ["outsider", "nobody-by-this-name"])
def test_a_non_administrator_cannot_probe_usernames_through_membership_errors(world, client_for, username):
    # given a caseworker, and a username that exists or not
    client = client_for(world.user("a", "caseworker"))
    # when they try to create a membership for it
    response = client.post(
        "/api/v1/memberships/",
        {"user": username, "organisation": world.a.organisation.pk, "role": "caseworker"},
        content_type="application/json",
    )
    # then the answer is the same refusal either way
    assert (response.status_code, response.json()) == (
        403,
        error("permission_denied", "You do not have permission to perform this action."),
    )


@pytest.mark.parametrize(
    "path",
    ["/api/v1/memberships/", "/api/v1/memberships/{own}/", "/api/v1/sites/", "/api/v1/sites/{site}/"],
)
def test_browsable_api_shows_a_non_administrator_no_write_form(world, client_for, path):
    # given A's caseworker opening the API in a browser
    caseworker = world.user("a", "caseworker")
    own = Membership.objects.get(user=caseworker, organisation=world.a.organisation).pk
    url = path.format(own=own, site=world.a.sites[0].pk)
    # when the page renders
    response = client_for(caseworker).get(url, HTTP_ACCEPT="text/html")
    html = response.content.decode()
    # then it has no write form (whose user list would name every user of every organisation)
    assert response.status_code == 200
    assert "_content_type" not in html
    for username in ("outsider", "b_administrator", "a_auditor"):
        assert username not in html
