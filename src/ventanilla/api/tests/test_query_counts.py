"""Query-count guards: a list page or list endpoint costs the same number of queries for 1 row or 25.

Each test measures the page with a few rows that have every relation the page shows, adds 20+ more
rows like them, and asserts the count did not grow (`django_assert_max_num_queries(baseline)`), so an
N+1 fails here. The rows' names are checked in the answer, so the rows were really rendered.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.accounts import services
from ventanilla.accounts.models import Organisation, Site
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.testing.factories import AreaFactory, SiteFactory, UserFactory

EXTRA = 22


def queries_for(client, url: str) -> int:
    client.get(url)  # warm up: the first request of a session may do one-off work
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def country(pcode: str) -> AdministrativeArea:
    return AreaFactory(pcode=pcode, level=0, name=f"Country {pcode}", names={"es": f"País {pcode}"})


def region(parent: AdministrativeArea, n: int) -> AdministrativeArea:
    return AreaFactory(
        pcode=f"{parent.pcode}{n:02d}",
        level=1,
        name=f"Region {parent.pcode}{n:02d}",
        parent=parent,
        country_pcode=parent.pcode,
    )


def join_organisations(user, first: int, count: int) -> list[Organisation]:
    """`count` more organisations, each with a country, in which `user` is an auditor."""
    organisations = []
    for n in range(first, first + count):
        organisation = services.create_organisation(name=f"Partner {n:02d}", kind="ngo")
        organisation.country = country(f"P{n:02d}")
        organisation.save(update_fields=["country"])
        services.grant_membership(user=user, organisation=organisation, role="auditor", by=None)
        organisations.append(organisation)
    return organisations


def add_sites(organisation: Organisation, first: int, count: int) -> list[Site]:
    parent = AdministrativeArea.objects.filter(pcode="GT").first() or country("GT")
    return [
        SiteFactory(organisation=organisation, name=f"Extra site {n:02d}", area=region(parent, n))
        for n in range(first, first + count)
    ]


def add_members(world, first: int, count: int) -> list[str]:
    usernames = []
    for n in range(first, first + count):
        user = UserFactory(username=f"member_{n:02d}")
        services.grant_membership(
            user=user, organisation=world.a.organisation, role="caseworker", sites=world.a.sites, by=None
        )
        usernames.append(user.username)
    return usernames


# --- Pages ---------------------------------------------------------------------------------------


def test_organisation_list_page(world, client_for, django_assert_max_num_queries):
    # given A's administrator, also in one more organisation (with a country)
    admin = world.user("a", "administrator")
    client = client_for(admin)
    join_organisations(admin, 0, 1)
    baseline = queries_for(client, "/en/organisations/")
    # when they are in 22 more
    extra = join_organisations(admin, 1, EXTRA)
    # then the page lists all of them for the same number of queries
    with django_assert_max_num_queries(baseline):
        html = client.get("/en/organisations/").content.decode()
    assert all(o.name in html and f"Country {o.country.pcode}" in html for o in extra)


def test_organisation_detail_page_with_members_and_sites(world, client_for, django_assert_max_num_queries):
    # given A (with a country) and its administrator
    world.a.organisation.country = country("MX")
    world.a.organisation.save(update_fields=["country"])
    client = client_for(world.user("a", "administrator"))
    url = f"/en/organisations/{world.a.organisation.pk}/"
    add_sites(world.a.organisation, 0, 1)
    add_members(world, 0, 1)
    baseline = queries_for(client, url)
    # when A gets 22 more sites (each in an area) and 22 more members (each at two sites)
    sites = add_sites(world.a.organisation, 1, EXTRA)
    members = add_members(world, 1, EXTRA)
    # then the page shows them all for the same number of queries
    with django_assert_max_num_queries(baseline):
        html = client.get(url).content.decode()
    assert all(s.name in html and s.area.name in html for s in sites)
    assert all(username in html for username in members)


def test_audit_log_page(world, client_for, django_assert_max_num_queries):
    admin = world.user("a", "administrator")
    client = client_for(world.user("a", "auditor"))
    baseline = queries_for(client, "/en/audit/")
    entries = [audit.record(AuditAction.UPDATE, by=admin, obj=world.a.sites[0]) for _n in range(EXTRA + 3)]
    with django_assert_max_num_queries(baseline):
        html = client.get("/en/audit/").content.decode()
    assert all(f"<td>{entry.pk}</td>" in html for entry in entries)


def test_area_list_page(world, client_for, django_assert_max_num_queries):
    client = client_for(world.user("a", "caseworker"))
    parent = country("GT")
    region(parent, 0)
    baseline = queries_for(client, "/en/areas/")
    regions = [region(parent, n) for n in range(1, EXTRA + 1)]
    with django_assert_max_num_queries(baseline):
        html = client.get("/en/areas/").content.decode()
    assert all(area.pcode in html for area in regions)
    assert html.count("Country GT") == EXTRA + 2  # the country's own row and each region's parent


# --- API list endpoints --------------------------------------------------------------------------


def test_organisations_endpoint(world, client_for, django_assert_max_num_queries):
    admin = world.user("a", "administrator")
    client = client_for(admin)
    join_organisations(admin, 0, 1)
    baseline = queries_for(client, "/api/v1/organisations/")
    extra = join_organisations(admin, 1, EXTRA)
    with django_assert_max_num_queries(baseline):
        results = client.get("/api/v1/organisations/").json()["results"]
    assert {(r["name"], r["country"]) for r in results} >= {(o.name, o.country.pcode) for o in extra}
    assert len(results) == EXTRA + 2


def test_sites_endpoint(world, client_for, django_assert_max_num_queries):
    client = client_for(world.user("a", "caseworker"))
    add_sites(world.a.organisation, 0, 1)
    baseline = queries_for(client, "/api/v1/sites/")
    sites = add_sites(world.a.organisation, 1, EXTRA)
    with django_assert_max_num_queries(baseline):
        results = client.get("/api/v1/sites/").json()["results"]
    assert {(r["name"], r["area"]) for r in results} >= {(s.name, s.area.pcode) for s in sites}
    assert len(results) == EXTRA + 3


def test_memberships_endpoint(world, client_for, django_assert_max_num_queries):
    client = client_for(world.user("a", "administrator"))
    add_members(world, 0, 1)
    baseline = queries_for(client, "/api/v1/memberships/")
    members = add_members(world, 1, EXTRA)
    with django_assert_max_num_queries(baseline):
        results = client.get("/api/v1/memberships/").json()["results"]
    site_ids = sorted(s.pk for s in world.a.sites)
    rows = {r["user"]: sorted(r["sites"]) for r in results}
    assert all(rows[username] == site_ids for username in members)
    assert len(results) == len(world.a.users) + EXTRA + 1


def test_areas_endpoint(world, client_for, django_assert_max_num_queries):
    client = client_for(world.user("a", "caseworker"))
    parent = country("GT")
    region(parent, 0)
    baseline = queries_for(client, "/api/v1/areas/")
    regions = [region(parent, n) for n in range(1, EXTRA + 1)]
    with django_assert_max_num_queries(baseline):
        results = client.get("/api/v1/areas/").json()["results"]
    assert {(r["pcode"], r["parent"]) for r in results} >= {(a.pcode, "GT") for a in regions}
