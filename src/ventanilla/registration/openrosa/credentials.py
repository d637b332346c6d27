"""Device credentials: create (the password is shown once), revoke, and what a credential reaches."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ventanilla.accounts.models import Site, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.questionnaires.models import FormVersion, Questionnaire
from ventanilla.registration import services
from ventanilla.registration.models_openrosa import DeviceCredential

# The Digest realm is part of every stored HA1: changing it would invalidate every phone's password.
REALM = "Ventanilla"
# Lower-case letters and digits without look-alikes (0/o, 1/l/i): typed on a phone keyboard.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (an alphabet, not a password)


class CredentialError(PermissionError):
    """The user may not register people at that site, so may not have a phone for it."""


@dataclass(frozen=True)
class IssuedCredential:
    credential: DeviceCredential
    password: str  # shown once, never stored


def ha1(username: str, password: str, realm: str = REALM) -> str:
    """MD5(username:realm:password), what Digest needs on the server in place of the password."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def registration_sites(user: User | None) -> QuerySet[Site]:
    """Active sites where `user` may register people (their role has edit_personal_data there)."""
    condition = Q(pk__in=[])
    for grant in scope_for(user).grants:
        if Permission.EDIT_PERSONAL_DATA not in grant.permissions:
            continue
        if grant.site_scoped:
            condition |= Q(organisation_id=grant.organisation_id, pk__in=grant.site_ids)
        else:
            condition |= Q(organisation_id=grant.organisation_id)
    return (
        Site.objects.filter(condition, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )


def may_use(credential: DeviceCredential) -> bool:
    """The credential is live and its owner may still register at its site (roles change after issue)."""
    user = credential.user
    return (
        credential.revoked_at is None
        and user.is_active
        and registration_sites(user).filter(pk=credential.site_id).exists()
    )


def _new_password() -> str:
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(5))
    return "-".join(groups)  # about 98 bits


@transaction.atomic
def create_device_credential(*, site: Site, name: str, by: User) -> IssuedCredential:
    """A new password for one phone of `by`, registering at `site`."""
    if not registration_sites(by).filter(pk=site.pk).exists():
        raise CredentialError("You cannot register people at this site.")
    password = _new_password()
    while True:
        username = f"{by.username}-" + "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(5))
        if not DeviceCredential.objects.filter(username=username).exists():
            break
    credential = DeviceCredential.objects.create(
        user=by,
        organisation_id=site.organisation_id,
        site=site,
        name=name.strip()[:80],
        username=username,
        ha1=ha1(username, password),
    )
    audit.record(AuditAction.CREATE, by=by, obj=credential, detail={"site": site.pk})
    return IssuedCredential(credential=credential, password=password)


@transaction.atomic
def revoke_device_credential(credential: DeviceCredential, *, by: User) -> DeviceCredential:
    """The phone can no longer download forms or send submissions; what it sent stays."""
    if credential.user_id != by.pk:
        raise CredentialError("Only the owner can revoke a device credential.")
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        audit.record(AuditAction.UPDATE, by=by, obj=credential, fields=["revoked_at"])
    return credential


def mark_used(credential: DeviceCredential) -> None:
    """Remember when the phone last connected (at most one write every five minutes)."""
    now = timezone.now()
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 300:
        DeviceCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now


# --- Forms a credential reaches -------------------------------------------------------------------------


def _questionnaires(credential: DeviceCredential) -> QuerySet[Questionnaire]:
    """Registration forms of the credential's organisation and the shipped ones, as its owner sees them."""
    return services.registration_forms(credential.user).filter(
        Q(owner__isnull=True) | Q(owner_id=credential.organisation_id)
    )


def form_versions(credential: DeviceCredential) -> list[FormVersion]:
    """The version in use of each registration form, one per form id (the organisation's own wins)."""
    shipped = services.shipped_form()
    chosen: dict[str, FormVersion] = {}
    for questionnaire in _questionnaires(credential).order_by("owner_id", "pk"):
        if questionnaire.current is None:
            continue
        form_id = questionnaire.form_id
        if form_id in chosen and questionnaire.owner_id is None:
            continue
        chosen[form_id] = questionnaire.current
    chosen.setdefault(shipped.questionnaire.form_id, shipped)
    return sorted(chosen.values(), key=lambda v: (v.questionnaire.title.lower(), v.pk))


def find_version(credential: DeviceCredential, form_id: str, version: str | None) -> FormVersion | None:
    """The version a phone names (any version, not only the current: phones fill old versions offline).

    Without a version (a form whose XLSForm set none), the version in use.
    """
    services.shipped_form()
    questionnaires = list(_questionnaires(credential).filter(form_id=form_id))
    questionnaires.sort(key=lambda q: q.owner_id is None)  # the organisation's own first
    for questionnaire in questionnaires:
        if not version:
            if questionnaire.current is not None:
                return questionnaire.current
            continue
        found = (
            FormVersion.objects.filter(questionnaire=questionnaire, version=version)
            .select_related("questionnaire")
            .first()
        )
        if found is not None:
            return found
    return None
