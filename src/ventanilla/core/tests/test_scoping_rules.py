"""Scope: what a user's memberships grant, and get_for's refusals (another organisation's row is a 404)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from ventanilla.accounts import services
from ventanilla.accounts.models import Organisation, Site
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.core.roles import Permission, Role
from ventanilla.core.scoping import ANONYMOUS, Grant, Scope, ScopedModel, forget_scope, scope_for
from ventanilla.testing.factories import UserFactory


def sites_for(scope: Scope, permission: Permission = Permission.VIEW_SITES) -> set[Site]:
    return set(Site.objects.filter(scope.site_q(permission, organisation="organisation", site="pk")))


# --- Scope.site_q ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_site_scoped_grant_sees_only_its_sites(world):
    # given a caseworker of A (the world gives site-scoped roles A's first site only)
    scope = scope_for(world.user("a", "caseworker"))
    # when / then
    assert sites_for(scope) == {world.a.sites[0]}


@pytest.mark.django_db
def test_organisation_wide_grant_sees_every_site_of_its_organisation(world):
    scope = scope_for(world.user("a", "data_analyst"))
    assert sites_for(scope) == set(world.a.sites)


@pytest.mark.django_db
def test_site_q_needs_the_permission(world):
    # a caseworker has no VIEW_AGGREGATES, a data analyst no VIEW_PERSONAL_DATA
    assert sites_for(scope_for(world.user("a", "caseworker")), Permission.VIEW_AGGREGATES) == set()
    assert sites_for(scope_for(world.user("a", "data_analyst")), Permission.VIEW_PERSONAL_DATA) == set()


@pytest.mark.django_db
def test_site_q_combines_grants_of_several_organisations(world):
    # given a hand-built scope: whole of A as data analyst, B's second site as caseworker
    scope = Scope(
        user_id=1,
        grants=(
            Grant(world.a.organisation.pk, Role.DATA_ANALYST, frozenset(), site_scoped=False),
            Grant(
                world.b.organisation.pk, Role.CASEWORKER, frozenset({world.b.sites[1].pk}), site_scoped=True
            ),
        ),
    )
    # when / then
    assert sites_for(scope) == {*world.a.sites, world.b.sites[1]}
    assert sites_for(scope, Permission.VIEW_PERSONAL_DATA) == {world.b.sites[1]}


@pytest.mark.django_db
def test_a_site_scoped_grant_without_sites_sees_no_site(world):
    scope = Scope(user_id=1, grants=(Grant(world.a.organisation.pk, Role.CASEWORKER, frozenset(), True),))
    assert sites_for(scope) == set()


@pytest.mark.django_db
def test_anonymous_scope_sees_no_site(world):
    assert sites_for(ANONYMOUS) == set()


# --- scope_for -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_scope_for_reads_active_memberships(world):
    # when
    scope = scope_for(world.user("a", "caseworker"))
    # then
    assert scope.grants == (
        Grant(world.a.organisation.pk, "caseworker", frozenset({world.a.sites[0].pk}), site_scoped=True),
    )
    assert scope.has(Permission.VIEW_PERSONAL_DATA)
    assert not scope.has(Permission.VIEW_AUDIT_LOG)
    assert scope.organisations() == {world.a.organisation.pk}
    assert scope.organisations(Permission.VIEW_AUDIT_LOG) == set()
    assert not scope.is_anonymous


@pytest.mark.django_db
def test_an_inactive_membership_grants_nothing(world):
    # given
    user = world.user("a", "caseworker")
    user.memberships.update(is_active=False)
    forget_scope(user)
    # when
    scope = scope_for(user)
    # then
    assert scope.grants == ()
    assert not Site.objects.visible_to(user).exists()


@pytest.mark.django_db
def test_an_inactive_organisation_grants_nothing(world):
    # given
    Organisation.objects.filter(pk=world.a.organisation.pk).update(is_active=False)
    user = world.user("a", "administrator")
    forget_scope(user)
    # when / then
    assert scope_for(user).grants == ()
    assert not Organisation.objects.visible_to(user).exists()


@pytest.mark.django_db
def test_an_inactive_user_is_anonymous(world):
    user = world.user("a", "administrator")
    user.is_active = False
    assert scope_for(user) is ANONYMOUS


@pytest.mark.parametrize("user", [None, AnonymousUser()])
def test_no_user_is_anonymous(user):
    assert scope_for(user) is ANONYMOUS
    assert ANONYMOUS.is_anonymous
    assert not ANONYMOUS.has(Permission.VIEW_SITES)


@pytest.mark.django_db
def test_a_superuser_without_membership_gets_no_grants():
    # Not even a superuser reads organisation data without a role.
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    scope = scope_for(root)
    assert (scope.is_superuser, scope.grants) == (True, ())
    assert not Organisation.objects.visible_to(root).exists()


@pytest.mark.django_db
def test_scope_is_cached_per_user_object_until_forgotten(world, django_assert_num_queries):
    # given
    user = world.user("b", "administrator")
    forget_scope(user)
    first = scope_for(user)
    # when the same object asks again, no query is made
    with django_assert_num_queries(0):
        again = scope_for(user)
    # then
    assert again is first
    services.grant_membership(user=user, organisation=world.a.organisation, role="auditor", by=None)
    assert scope_for(user).organisations() == {world.a.organisation.pk, world.b.organisation.pk}


def test_forget_scope_without_a_cached_scope_is_harmless():
    user = AnonymousUser()
    forget_scope(user)
    assert not hasattr(user, "_ventanilla_scope")


# --- visible_to / get_for --------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_for_returns_a_visible_row(world):
    site = world.a.sites[0]
    assert Site.objects.get_for(world.user("a", "caseworker"), site.pk) == site
    assert Site.objects.get_for(world.user("a", "caseworker"), str(site.pk)) == site


@pytest.mark.django_db
def test_get_for_another_organisations_row_is_404(world):
    with pytest.raises(Http404):
        Site.objects.get_for(world.user("a", "administrator"), world.b.sites[0].pk)
    with pytest.raises(Http404):
        Organisation.objects.get_for(world.user("a", "administrator"), world.b.organisation.pk)


@pytest.mark.django_db
def test_get_for_is_404_for_anonymous_and_outsiders(world):
    with pytest.raises(Http404):
        Site.objects.get_for(None, world.a.sites[0].pk)
    with pytest.raises(Http404):
        Site.objects.get_for(world.outsider, world.a.sites[0].pk)


@pytest.mark.django_db
@pytest.mark.parametrize("pk", ["abc", "1 OR 1=1", "", None, {"pk": 1}, [1], 2**70, -1])
def test_get_for_garbage_pks_are_404(world, pk):
    with pytest.raises(Http404):
        Site.objects.get_for(world.user("a", "administrator"), pk)


@pytest.mark.django_db
def test_get_for_audits_reads_of_personal_records(world, monkeypatch):
    # given a model that holds personal records (Site stands in for one here)
    monkeypatch.setattr(Site, "audit_reads", True)
    caseworker = world.user("a", "caseworker")
    site = world.a.sites[0]
    # when
    Site.objects.get_for(caseworker, site.pk, purpose="referral")
    # then
    entry = AuditEntry.objects.filter(action=AuditAction.READ).get()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        caseworker.pk,
        "accounts.site",
        str(site.pk),
    )
    assert (entry.organisation_id, entry.detail) == (world.a.organisation.pk, {"purpose": "referral"})


@pytest.mark.django_db
def test_a_refused_get_for_is_not_audited(world, monkeypatch):
    monkeypatch.setattr(Site, "audit_reads", True)
    with pytest.raises(Http404):
        Site.objects.get_for(world.user("a", "caseworker"), world.b.sites[0].pk)
    assert not AuditEntry.objects.filter(action=AuditAction.READ).exists()


def test_a_scoped_model_must_say_who_may_read_it():
    with pytest.raises(NotImplementedError) as raised:
        ScopedModel.scope_q(ANONYMOUS)
    assert str(raised.value) == "ScopedModel must say who may read it (scope_q)."
