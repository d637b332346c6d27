"""Changing organisations, sites, memberships and sign-in state — audited, atomic, one place each."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts import tasks
from ventanilla.accounts.models import (
    ApiToken,
    LoginFailure,
    Membership,
    Organisation,
    RolePolicy,
    Site,
    User,
)
from ventanilla.core import audit, crypto
from ventanilla.core.fields import BlindIndexField
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, Role, parse_role
from ventanilla.core.scoping import forget_scope, scope_for
from ventanilla.core.tasks import enqueue


class AccessDenied(Exception):
    """The actor may not make this change (views map it to 404 or 403, the API to 403)."""


class LoginThrottled(Exception):
    """Too many failed sign-ins for this username or address; wait and try again."""


def _require(by: User, permission: Permission, organisation: Organisation) -> None:
    if organisation.pk not in scope_for(by).organisations(permission):
        raise AccessDenied(f"Requires {permission} in this organisation.")


# --- Organisations and sites ------------------------------------------------------------------------


@transaction.atomic
def create_organisation(
    *, name: str, kind: str, short_name: str = "", by: User | None = None
) -> Organisation:
    """Set-up step (command line, admin site, demo): an organisation has no members yet to check."""
    organisation = Organisation.objects.create(name=name, kind=kind, short_name=short_name)
    audit.record_change(AuditAction.CREATE, organisation, by=by, fields=["name", "kind", "short_name"])
    return organisation


@transaction.atomic
def save_site(site: Site, *, by: User, changed: Iterable[str] = ()) -> Site:
    _require(by, Permission.MANAGE_SITES, site.organisation)
    adding = site._state.adding
    site.full_clean()
    site.save()
    fields = sorted(changed) if changed else ["name", "kind", "area", "latitude", "longitude", "time_zone"]
    audit.record_change(AuditAction.CREATE if adding else AuditAction.UPDATE, site, by=by, fields=fields)
    return site


# --- Users and memberships --------------------------------------------------------------------------


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    preferred_language: str = "en",
    must_change_password: bool = False,
    by: User | None = None,
) -> User:
    """Raises ValueError when the username is taken (the unique constraint decides, race-free)."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username,
                password,
                full_name=full_name,
                email=email,
                phone=phone,
                preferred_language=preferred_language,
                must_change_password=must_change_password,
            )
    except IntegrityError:
        raise ValueError(_("This username is taken; choose another.")) from None
    audit.record_change(
        AuditAction.CREATE,
        user,
        by=by,
        fields=["username", "full_name", "email", "phone", "must_change_password"],
    )
    return user


def new_temporary_password() -> str:
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class NewStaffMember:
    user: User
    membership: Membership
    temporary_password: str  # shown once to the administrator; the user must change it at sign-in


@transaction.atomic
def create_staff_member(
    *,
    organisation: Organisation,
    username: str,
    full_name: str,
    role: str,
    by: User,
    email: str = "",
    phone: str = "",
    preferred_language: str = "en",
    sites: Iterable[Site] = (),
) -> NewStaffMember:
    """An administrator adds a colleague: an account with a one-time password and a first role."""
    _require(by, Permission.MANAGE_MEMBERS, organisation)
    temporary_password = new_temporary_password()
    user = create_user(
        username=username,
        password=temporary_password,
        full_name=full_name,
        email=email,
        phone=phone,
        preferred_language=preferred_language,
        must_change_password=True,
        by=by,
    )
    membership = grant_membership(user=user, organisation=organisation, role=role, sites=sites, by=by)
    return NewStaffMember(user=user, membership=membership, temporary_password=temporary_password)


@transaction.atomic
def change_password(user: User, *, new_password: str) -> User:
    """Validated by the form (Django's validators); here it is stored and audited."""
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit.record_change(AuditAction.UPDATE, user, by=user, fields=["password"])
    return user


def members_of(organisation: Organisation) -> QuerySet[User]:
    """People who already hold a role here: the only ones an administrator can give another role.

    Usernames of other organisations stay invisible, so no one can list or probe them.
    """
    return User.objects.filter(memberships__organisation=organisation, is_active=True).distinct()


def memberships_holding(organisation_id: int, roles: Iterable[str], **filters: Any) -> QuerySet[Membership]:
    """Active memberships in an active organisation with one of `roles` (and any further filter)."""
    return Membership.objects.filter(
        organisation_id=organisation_id,
        organisation__is_active=True,
        is_active=True,
        role__in=list(roles),
        **filters,
    )


def users_of(memberships: QuerySet[Membership]) -> QuerySet[User]:
    """The active users behind these memberships (unordered: callers say how they list them)."""
    return User.objects.filter(pk__in=memberships.values("user_id"), is_active=True)


def find_user_by_email(email: str) -> User | None:
    """Exact match through the blind index: the encrypted column itself cannot be searched."""
    field = User._meta.get_field("email_index")
    assert isinstance(field, BlindIndexField)
    return User.objects.filter(email_index=field.lookup_value(email)).first()


@transaction.atomic
def grant_membership(
    *,
    user: User,
    organisation: Organisation,
    role: str,
    sites: Iterable[Site] = (),
    by: User | None,
) -> Membership:
    """Give `user` a role; `by=None` only for set-up commands and the demo (no one to check)."""
    role = parse_role(role)
    if by is not None:
        _require(by, Permission.MANAGE_MEMBERS, organisation)
    site_list = list(sites)
    foreign = [s.pk for s in site_list if s.organisation_id != organisation.pk]
    if foreign:
        raise ValueError(_("Sites must belong to the membership's organisation."))
    membership, created = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    membership.sites.set(site_list)
    audit.record(
        AuditAction.ROLE_CHANGE,
        by=by,
        obj=membership,
        detail={"user": user.pk, "role": role, "change": "granted", "sites": [s.pk for s in site_list]},
    )
    forget_scope(user)
    enqueue(tasks.notify_access_changed, membership.pk)
    return membership


@transaction.atomic
def change_membership(
    membership: Membership,
    *,
    by: User,
    role: str | None = None,
    sites: Iterable[Site] | None = None,
    is_active: bool | None = None,
) -> Membership:
    _require(by, Permission.MANAGE_MEMBERS, membership.organisation)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    detail: dict[str, Any] = {"user": membership.user_id, "change": "changed"}
    own_administrator_role = membership.user_id == by.pk and membership.role == Role.ADMINISTRATOR
    if own_administrator_role and (is_active is False or (role is not None and role != membership.role)):
        # Demoting oneself removes the administrator role as surely as deactivating it does.
        raise ValueError(_("Administrators cannot remove their own administrator role."))
    if role is not None and role != membership.role:
        detail["role_before"], detail["role"] = membership.role, parse_role(role).value
        membership.role = detail["role"]
    if is_active is not None and is_active != membership.is_active:
        membership.is_active = is_active
        detail["active"] = is_active
    membership.save()
    if sites is not None:
        site_list = list(sites)
        if any(s.organisation_id != membership.organisation_id for s in site_list):
            raise ValueError(_("Sites must belong to the membership's organisation."))
        membership.sites.set(site_list)
        detail["sites"] = [s.pk for s in site_list]
    audit.record(AuditAction.ROLE_CHANGE, by=by, obj=membership, detail=detail)
    forget_scope(membership.user)
    enqueue(tasks.notify_access_changed, membership.pk)
    return membership


@transaction.atomic
def set_role_policy(
    *, organisation: Organisation, role: str, requires_two_factor: bool, by: User
) -> RolePolicy:
    _require(by, Permission.MANAGE_MEMBERS, organisation)
    policy, _created = RolePolicy.objects.update_or_create(
        organisation=organisation,
        role=parse_role(role),
        defaults={"requires_two_factor": requires_two_factor},
    )
    audit.record(
        AuditAction.UPDATE,
        by=by,
        obj=policy,
        organisation_id=organisation.pk,
        fields=["requires_two_factor"],
        detail={"role": role, "requires_two_factor": requires_two_factor},
    )
    return policy


MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650


def set_retention(*, organisation: Organisation, days: int, by: User) -> Organisation:
    """How long the organisation keeps a registered person's data after their last registration."""
    _require(by, Permission.MANAGE_ORGANISATION, organisation)
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise ValidationError(
            {
                "retention_days": _("Choose between %(low)s and %(high)s days.")
                % {"low": MIN_RETENTION_DAYS, "high": MAX_RETENTION_DAYS}
            }
        )
    if organisation.retention_days != days:
        organisation.retention_days = days
        organisation.save(update_fields=["retention_days"])
        audit.record(
            AuditAction.UPDATE, by=by, obj=organisation, fields=["retention_days"], detail={"days": days}
        )
    return organisation


def two_factor_required(user: User) -> bool:
    """True when any active role of the user is one its organisation requires two-factor for."""
    grants = scope_for(user).grants
    if not grants:
        return False
    pairs = {(g.organisation_id, g.role) for g in grants}
    policies = RolePolicy.objects.filter(
        organisation_id__in={o for o, _r in pairs}, requires_two_factor=True
    ).values_list("organisation_id", "role")
    return any(pair in pairs for pair in policies)


# --- Signing in ---------------------------------------------------------------------------------------


def _hash(value: str, purpose: str) -> str:
    return crypto.blind_index(value or "-", purpose=purpose)


def check_login_allowed(*, username: str, address: str) -> None:
    """Refuse before checking the password when this username or address failed too often lately."""
    since = timezone.now() - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    recent = LoginFailure.objects.filter(at__gte=since)
    limit = settings.LOGIN_FAILURE_LIMIT
    if (
        recent.filter(username_hash=_hash(username, "login.username")).count() >= limit
        or recent.filter(address_hash=_hash(address, "login.address")).count()
        >= settings.LOGIN_FAILURE_ADDRESS_LIMIT
    ):
        raise LoginThrottled


@transaction.atomic
def record_login_failure(*, username: str, address: str) -> None:
    username_hash = _hash(username, "login.username")
    LoginFailure.objects.create(username_hash=username_hash, address_hash=_hash(address, "login.address"))
    user = User.objects.filter(username=username).first()
    audit.record(
        AuditAction.LOGIN_FAILED,
        object_type="accounts.user" if user else "",
        object_id=str(user.pk) if user else "",
        detail={"username_hash": username_hash[:16]},
    )


def record_login(user: User, *, method: str) -> None:
    LoginFailure.objects.filter(username_hash=_hash(user.username, "login.username")).delete()
    audit.record(AuditAction.LOGIN, by=user, obj=user, detail={"method": method})


def record_logout(user: User) -> None:
    audit.record(AuditAction.LOGOUT, by=user, obj=user)


def purge_login_failures(*, older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _detail = LoginFailure.objects.filter(at__lt=timezone.now() - older_than).delete()
    return deleted


# --- Two-factor (TOTP) -------------------------------------------------------------------------------


@transaction.atomic
def start_two_factor(user: User) -> str:
    """A fresh secret, not yet active until confirmed with a code from the authenticator app."""
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="Ventanilla")


def verify_totp(user: User, code: str) -> bool:
    if not user.totp_secret:
        return False
    return pyotp.TOTP(user.totp_secret).verify(code.strip().replace(" ", ""), valid_window=1)


@transaction.atomic
def confirm_two_factor(user: User, *, code: str) -> bool:
    if not verify_totp(user, code):
        return False
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    audit.record(AuditAction.TWO_FACTOR, by=user, obj=user, detail={"change": "enabled"})
    return True


@transaction.atomic
def disable_two_factor(user: User, *, by: User) -> None:
    if two_factor_required(user):
        raise ValueError(_("Your role requires two-factor authentication; it cannot be turned off."))
    user.totp_secret = ""
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    audit.record(AuditAction.TWO_FACTOR, by=by, obj=user, detail={"change": "disabled"})


# --- API tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once; only its hash is stored


@transaction.atomic
def issue_token(user: User, *, name: str, days: int | None = 90) -> IssuedToken:
    key = "vt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[3:11],
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit.record(AuditAction.TOKEN, by=user, obj=token, detail={"change": "issued"})
    return IssuedToken(token=token, key=key)


@transaction.atomic
def revoke_token(token: ApiToken, *, by: User) -> ApiToken:
    if token.user_id != by.pk:
        raise AccessDenied("Only the owner can revoke a token.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(AuditAction.TOKEN, by=by, obj=token, detail={"change": "revoked"})
    return token
