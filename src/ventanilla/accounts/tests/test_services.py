"""The accounts services: memberships, sites, role policies, sign-in bookkeeping, two-factor, tokens."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pyotp
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from ventanilla.accounts import services
from ventanilla.accounts.models import ApiToken, LoginFailure, Membership, RolePolicy, Site
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.testing.factories import UserFactory

FOREIGN_SITE = re.escape("Sites must belong to the membership's organisation.")
SELF_DEMOTION = re.escape("Administrators cannot remove their own administrator role.")


def new_entries(since: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=since).order_by("pk"))


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def entry_text(entry: AuditEntry) -> str:
    return json.dumps(model_to_dict(entry), default=str)


# --- Memberships ---------------------------------------------------------------------------------


def test_grant_membership_writes_role_change_entry_with_ids_only(world):
    # given A's administrator and a user with a name, email and phone
    admin = world.user("a", "administrator")
    newcomer = UserFactory(
        username="newcomer", full_name="Ana Pérez", email="ana@example.org", phone="+50255550101"
    )
    since = last_audit_id()
    # when the administrator grants the newcomer a caseworker role at the first site
    membership = services.grant_membership(
        user=newcomer,
        organisation=world.a.organisation,
        role="caseworker",
        sites=[world.a.sites[0]],
        by=admin,
    )
    # then one role_change entry names ids, the role and the sites, and nothing personal
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.organisation_id) == (
        AuditAction.ROLE_CHANGE,
        admin.pk,
        world.a.organisation.pk,
    )
    assert (entry.object_type, entry.object_id, entry.fields) == (
        "accounts.membership",
        str(membership.pk),
        [],
    )
    assert entry.detail == {
        "user": newcomer.pk,
        "role": "caseworker",
        "change": "granted",
        "sites": [world.a.sites[0].pk],
    }
    for value in ("newcomer", "Ana", "Pérez", "ana@example.org", "5555"):
        assert value not in entry_text(entry)


def test_grant_membership_emails_the_user_only_after_commit(world, django_capture_on_commit_callbacks):
    # given A's administrator and a user without a role
    admin = world.user("a", "administrator")
    # when the grant is made, before the transaction commits
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.grant_membership(
            user=world.outsider, organisation=world.a.organisation, role="auditor", by=admin
        )
        # then nothing is sent yet
        assert mail.outbox == []
    # when it commits
    for callback in callbacks:
        callback()
    # then the user (only) is told what their access is now
    [message] = mail.outbox
    assert message.to == ["outsider@example.org"]
    assert message.subject == "Your Ventanilla access changed"
    assert message.body == (
        "You now have the role Auditor in A.\n\nIf you did not expect this, tell your administrator."
    )


def test_grant_membership_rolled_back_sends_no_email(world, django_capture_on_commit_callbacks):
    # given a grant made inside a transaction that then fails
    admin = world.user("a", "administrator")

    def grant_then_fail() -> None:
        with transaction.atomic():
            services.grant_membership(
                user=world.outsider, organisation=world.a.organisation, role="auditor", by=admin
            )
            raise RuntimeError("rolled back")

    # when it runs and the transaction rolls back
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        grant_then_fail()
    # then no membership and no email
    assert not Membership.objects.filter(user=world.outsider).exists()
    assert mail.outbox == []


def test_grant_membership_refuses_a_site_of_another_organisation(world):
    # given A's administrator and a site of B
    admin = world.user("a", "administrator")
    since = last_audit_id()
    # when granting a role in A limited to B's site
    with pytest.raises(ValueError, match=FOREIGN_SITE):
        services.grant_membership(
            user=world.outsider,
            organisation=world.a.organisation,
            role="caseworker",
            sites=[world.b.sites[0]],
            by=admin,
        )
    # then nothing was granted or audited
    assert not Membership.objects.filter(user=world.outsider).exists()
    assert new_entries(since) == []


def test_grant_membership_refuses_an_unknown_role(world):
    admin = world.user("a", "administrator")
    with pytest.raises(ValueError, match="Unknown role 'boss'"):
        services.grant_membership(
            user=world.outsider, organisation=world.a.organisation, role="boss", by=admin
        )
    assert not Membership.objects.filter(user=world.outsider).exists()


@pytest.mark.parametrize("role", ["site_manager", "caseworker", "auditor", "data_analyst"])
def test_only_administrators_grant_memberships(world, role):
    # given a member of A who is not an administrator
    actor = world.user("a", role)
    since = last_audit_id()
    # when they try to grant a role
    with pytest.raises(services.AccessDenied):
        services.grant_membership(
            user=world.outsider, organisation=world.a.organisation, role="auditor", by=actor
        )
    # then nothing changed
    assert not Membership.objects.filter(user=world.outsider).exists()
    assert new_entries(since) == []


def test_administrator_of_b_cannot_grant_in_a(world):
    with pytest.raises(services.AccessDenied):
        services.grant_membership(
            user=world.outsider,
            organisation=world.a.organisation,
            role="auditor",
            by=world.user("b", "administrator"),
        )
    assert not Membership.objects.filter(user=world.outsider).exists()


def test_change_membership_audits_before_and_after_and_emails(world, django_capture_on_commit_callbacks):
    # given A's caseworker at the first site
    admin = world.user("a", "administrator")
    caseworker = world.user("a", "caseworker")
    membership = Membership.objects.get(user=caseworker, organisation=world.a.organisation)
    since = last_audit_id()
    # when the administrator makes them a site manager of the second site
    with django_capture_on_commit_callbacks(execute=True):
        services.change_membership(membership, by=admin, role="site_manager", sites=[world.a.sites[1]])
    # then the change is stored, audited with ids only and mailed to the caseworker
    membership.refresh_from_db()
    assert (membership.role, list(membership.sites.all())) == ("site_manager", [world.a.sites[1]])
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.object_id) == (
        AuditAction.ROLE_CHANGE,
        admin.pk,
        str(membership.pk),
    )
    assert entry.detail == {
        "user": caseworker.pk,
        "change": "changed",
        "role_before": "caseworker",
        "role": "site_manager",
        "sites": [world.a.sites[1].pk],
    }
    [message] = mail.outbox
    assert message.to == ["a_caseworker@example.org"]
    assert message.body.startswith("You now have the role Site manager in A.")


def test_deactivating_a_membership_tells_the_user_it_was_removed(world, django_capture_on_commit_callbacks):
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=world.user("a", "auditor"), organisation=world.a.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_membership(membership, by=admin, is_active=False)
    membership.refresh_from_db()
    assert membership.is_active is False
    [message] = mail.outbox
    assert message.body.startswith("Your role Auditor in A has been removed.")


def test_change_membership_refuses_a_site_of_another_organisation(world):
    # given A's caseworker membership
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=world.user("a", "caseworker"), organisation=world.a.organisation)
    since = last_audit_id()
    # when the administrator moves it to B's site (and changes the role in the same call)
    with pytest.raises(ValueError, match=FOREIGN_SITE):
        services.change_membership(membership, by=admin, role="site_manager", sites=[world.b.sites[0]])
    # then nothing changed, not even the role
    membership.refresh_from_db()
    assert (membership.role, list(membership.sites.all())) == ("caseworker", [world.a.sites[0]])
    assert new_entries(since) == []


def test_administrator_cannot_deactivate_their_own_administrator_role(world):
    # given A's administrator and their own membership
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=admin, organisation=world.a.organisation)
    since = last_audit_id()
    # when they try to deactivate it
    with pytest.raises(ValueError, match=SELF_DEMOTION):
        services.change_membership(membership, by=admin, is_active=False)
    # then it is still active and nothing was audited
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("administrator", True)
    assert new_entries(since) == []


@pytest.mark.parametrize(
    "change",
    [{"role": "caseworker"}, {"role": "caseworker", "is_active": False}],
    ids=["demote", "demote-and-deactivate"],
)
def test_administrator_cannot_drop_their_own_administrator_role_by_changing_it(world, change):
    # given A's administrator and their own membership
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=admin, organisation=world.a.organisation)
    # when they change its role away from administrator
    with pytest.raises(ValueError, match=SELF_DEMOTION):
        services.change_membership(membership, by=admin, **change)
    # then they are still an active administrator
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("administrator", True)


def test_administrator_may_still_change_the_sites_of_their_own_membership(world):
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=admin, organisation=world.a.organisation)
    services.change_membership(
        membership, by=admin, role="administrator", is_active=True, sites=[world.a.sites[1]]
    )
    membership.refresh_from_db()
    assert (membership.role, membership.is_active, list(membership.sites.all())) == (
        "administrator",
        True,
        [world.a.sites[1]],
    )


def test_administrator_may_deactivate_another_administrator(world):
    # given a second administrator in A
    admin = world.user("a", "administrator")
    second = services.grant_membership(
        user=world.outsider, organisation=world.a.organisation, role="administrator", by=admin
    )
    # when the first deactivates the second
    services.change_membership(second, by=admin, is_active=False)
    # then it is inactive
    second.refresh_from_db()
    assert second.is_active is False


def test_change_membership_refused_for_non_administrators(world):
    membership = Membership.objects.get(user=world.user("a", "caseworker"), organisation=world.a.organisation)
    with pytest.raises(services.AccessDenied):
        services.change_membership(membership, by=world.user("a", "caseworker"), role="administrator")
    membership.refresh_from_db()
    assert membership.role == "caseworker"


# --- Sites ---------------------------------------------------------------------------------------


def test_save_site_creates_and_audits(world):
    admin = world.user("a", "administrator")
    since = last_audit_id()
    site = services.save_site(
        Site(
            organisation=world.a.organisation,
            name="Tapachula hub",
            kind="information_hub",
            time_zone="America/Mexico_City",
        ),
        by=admin,
    )
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.object_type, entry.object_id, entry.organisation_id) == (
        AuditAction.CREATE,
        admin.pk,
        "accounts.site",
        str(site.pk),
        world.a.organisation.pk,
    )
    assert entry.fields == ["area", "kind", "latitude", "longitude", "name", "time_zone"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", Decimal("90.5")),
        ("latitude", Decimal("-91")),
        ("longitude", Decimal("180.1")),
        ("time_zone", "Mars/Olympus"),
    ],
)
def test_save_site_names_the_invalid_field_and_saves_nothing(world, field, value):
    # given a new site of A with one value out of range
    admin = world.user("a", "administrator")
    site = Site(organisation=world.a.organisation, name="Out of range", kind="clinic", time_zone="UTC")
    setattr(site, field, value)
    since = last_audit_id()
    # when it is saved through the service
    with pytest.raises(ValidationError) as error:
        services.save_site(site, by=admin)
    # then the error names the field, and nothing was stored or audited
    assert list(error.value.message_dict) == [field]
    assert not Site.objects.filter(name="Out of range").exists()
    assert new_entries(since) == []


def test_save_site_refused_for_another_organisation(world):
    site = world.a.sites[0]
    site.name = "Hijacked"
    with pytest.raises(services.AccessDenied):
        services.save_site(site, by=world.user("b", "administrator"))
    assert Site.objects.get(pk=site.pk).name == "Casa Alfa site 1"


# --- Role policies -------------------------------------------------------------------------------


def test_role_policy_makes_two_factor_required_for_that_role_only(world):
    # given A's administrator requires two-factor for caseworkers
    admin = world.user("a", "administrator")
    since = last_audit_id()
    services.set_role_policy(
        organisation=world.a.organisation, role="caseworker", requires_two_factor=True, by=admin
    )
    # then A's caseworker needs it, A's auditor and B's caseworker do not
    assert services.two_factor_required(world.user("a", "caseworker")) is True
    assert services.two_factor_required(world.user("a", "auditor")) is False
    assert services.two_factor_required(world.user("b", "caseworker")) is False
    assert services.two_factor_required(world.outsider) is False
    [entry] = new_entries(since)
    assert (entry.action, entry.organisation_id, entry.detail) == (
        AuditAction.UPDATE,
        world.a.organisation.pk,
        {"role": "caseworker", "requires_two_factor": True},
    )


def test_role_policy_refused_for_non_administrators(world):
    with pytest.raises(services.AccessDenied):
        services.set_role_policy(
            organisation=world.a.organisation,
            role="caseworker",
            requires_two_factor=True,
            by=world.user("a", "auditor"),
        )
    assert not RolePolicy.objects.exists()


def test_two_factor_cannot_be_turned_off_when_the_role_requires_it(world):
    # given a caseworker with two-factor on, and a policy requiring it
    caseworker = world.user("a", "caseworker")
    secret = services.start_two_factor(caseworker)
    assert services.confirm_two_factor(caseworker, code=pyotp.TOTP(secret).now()) is True
    services.set_role_policy(
        organisation=world.a.organisation,
        role="caseworker",
        requires_two_factor=True,
        by=world.user("a", "administrator"),
    )
    # when they try to turn it off
    with pytest.raises(ValueError, match="requires two-factor"):
        services.disable_two_factor(caseworker, by=caseworker)
    # then it stays on
    caseworker.refresh_from_db()
    assert caseworker.has_two_factor is True


def test_confirm_two_factor_with_a_wrong_code_changes_nothing(world):
    user = world.user("a", "auditor")
    secret = services.start_two_factor(user)
    assert services.confirm_two_factor(user, code=wrong_code(secret)) is False
    user.refresh_from_db()
    assert user.totp_confirmed_at is None


def wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    return next(
        code for code in ("000000", "111111", "222222", "333333") if not totp.verify(code, valid_window=1)
    )


# --- Sign-in bookkeeping -------------------------------------------------------------------------


def test_login_failure_is_audited_without_the_username(world):
    # given a real username and an unknown one
    since = last_audit_id()
    # when each fails to sign in
    services.record_login_failure(username="a_caseworker", address="192.0.2.10")
    services.record_login_failure(username="maria.lopez", address="192.0.2.10")
    # then two login_failed entries exist, with no username or address in them
    known, unknown = new_entries(since)
    assert (known.action, known.object_type, known.object_id, known.actor_id) == (
        AuditAction.LOGIN_FAILED,
        "accounts.user",
        str(world.user("a", "caseworker").pk),
        None,
    )
    assert (unknown.action, unknown.object_type, unknown.object_id) == (AuditAction.LOGIN_FAILED, "", "")
    for entry in (known, unknown):
        assert list(entry.detail) == ["username_hash"]
        assert len(entry.detail["username_hash"]) == 16
        for value in ("a_caseworker", "maria", "lopez", "192.0.2.10"):
            assert value not in entry_text(entry)
    assert LoginFailure.objects.count() == 2


def test_check_login_allowed_throttles_after_the_limit(world, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _attempt in range(2):
        services.record_login_failure(username="a_caseworker", address="192.0.2.10")
    services.check_login_allowed(username="a_caseworker", address="192.0.2.10")
    services.record_login_failure(username="a_caseworker", address="192.0.2.10")
    with pytest.raises(services.LoginThrottled):
        services.check_login_allowed(username="a_caseworker", address="192.0.2.99")
    # another username from another address is not affected
    services.check_login_allowed(username="a_auditor", address="192.0.2.99")


def test_record_login_clears_that_users_failures_only(world):
    for username in ("a_caseworker", "a_caseworker", "a_auditor"):
        services.record_login_failure(username=username, address="192.0.2.10")
    services.record_login(world.user("a", "caseworker"), method="password")
    assert LoginFailure.objects.count() == 1
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.actor_id, entry.detail) == (
        AuditAction.LOGIN,
        world.user("a", "caseworker").pk,
        {"method": "password"},
    )


# --- Tokens --------------------------------------------------------------------------------------


def test_issue_token_stores_only_the_hash(world):
    # given a user
    user = world.user("a", "data_analyst")
    # when a token is issued
    issued = services.issue_token(user, name="reporting", days=30)
    # then the raw key is returned once and only its hash (and an 8-character prefix) is stored
    row = ApiToken.objects.filter(pk=issued.token.pk).values().get()
    assert issued.key.startswith("vt_")
    assert row["key_hash"] == ApiToken.hash_key(issued.key)
    assert row["prefix"] == issued.key[3:11]
    secret_part = issued.key[11:]
    assert not any(secret_part in str(value) for value in row.values())
    assert not any(secret_part in entry_text(entry) for entry in AuditEntry.objects.all())


def test_revoke_token_only_by_its_owner(world):
    issued = services.issue_token(world.user("a", "data_analyst"), name="reporting")
    with pytest.raises(services.AccessDenied):
        services.revoke_token(issued.token, by=world.user("a", "administrator"))
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is None
    services.revoke_token(issued.token, by=world.user("a", "data_analyst"))
    assert ApiToken.objects.get(pk=issued.token.pk).is_usable is False
