"""The one place that decides which organisation-owned rows a user may read.

Every view, API endpoint, export and task reads such rows through `Model.objects.visible_to(user)` or
`Model.objects.get_for(user, pk)`. A model says how it is owned by implementing `scope_q(scope)`; the
`Scope` says what the user was granted. Another organisation's row is simply absent, hence a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.http import Http404

from ventanilla.core.roles import SITE_SCOPED_ROLES, Permission, permissions_for

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    UserLike = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Grant:
    """One membership, reduced to what access decisions need."""

    organisation_id: int
    role: str
    site_ids: frozenset[int]
    site_scoped: bool
    # Designated by the administrator to read sensitive complaints (abuse, exploitation or fraud by staff).
    complaints: bool = False

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.role)


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    is_superuser: bool = False
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    def has(self, permission: Permission) -> bool:
        return any(permission in grant.permissions for grant in self.grants)

    def organisations(self, permission: Permission | None = None) -> set[int]:
        """Organisations where the user holds `permission` (or any role, when None)."""
        return {g.organisation_id for g in self.grants if permission is None or permission in g.permissions}

    def complaint_organisations(self) -> set[int]:
        """Organisations where the user is a designated focal point for sensitive complaints."""
        return {
            g.organisation_id
            for g in self.grants
            if g.complaints and Permission.HANDLE_MESSAGES in g.permissions
        }

    def holds_at(self, permission: Permission, organisation_id: int, site_id: int | None) -> bool:
        """Whether a grant gives `permission` at this site of the organisation (org-wide grants: any site)."""
        for grant in self.grants:
            if grant.organisation_id != organisation_id or permission not in grant.permissions:
                continue
            if not grant.site_scoped or (site_id is not None and site_id in grant.site_ids):
                return True
        return False

    def site_q(self, permission: Permission, *, organisation: str, site: str) -> Q:
        """Rows owned by a site: org-wide grants see every site of their organisation, others theirs."""
        whole_orgs: set[int] = set()
        sites: set[int] = set()
        for grant in self.grants:
            if permission not in grant.permissions:
                continue
            if grant.site_scoped:
                sites |= grant.site_ids
            else:
                whole_orgs.add(grant.organisation_id)
        condition = Q(pk__in=[])
        if whole_orgs:
            condition |= Q(**{f"{organisation}__in": whole_orgs})
        if sites:
            condition |= Q(**{f"{site}__in": sites})
        return condition

    def organisation_q(self, permission: Permission | None, *, organisation: str) -> Q:
        ids = self.organisations(permission)
        return Q(**{f"{organisation}__in": ids}) if ids else Q(pk__in=[])


ANONYMOUS = Scope(user_id=None)


def scope_for(user: UserLike | None) -> Scope:
    """Build (once per user object) the grants from active memberships of active organisations."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached: Scope | None = getattr(user, "_ventanilla_scope", None)
    if cached is not None:
        return cached
    membership_model = apps.get_model("accounts", "Membership")
    rows = (
        membership_model.objects.filter(user_id=user.pk, is_active=True, organisation__is_active=True)
        .prefetch_related("sites")
        .order_by("pk")
    )
    grants = tuple(
        Grant(
            organisation_id=m.organisation_id,
            role=m.role,
            site_ids=frozenset(s.pk for s in m.sites.all()),
            site_scoped=m.role in SITE_SCOPED_ROLES,
            complaints=m.handles_sensitive_complaints,
        )
        for m in rows
    )
    scope = Scope(user_id=user.pk, is_superuser=bool(getattr(user, "is_superuser", False)), grants=grants)
    setattr(user, "_ventanilla_scope", scope)  # noqa: B010 - a cache slot that stubs do not know
    return scope


def forget_scope(user: Any) -> None:
    """Call after changing a user's memberships within the same request."""
    if hasattr(user, "_ventanilla_scope"):
        del user._ventanilla_scope


class ScopedQuerySet(models.QuerySet[Any]):
    def visible_to(self, user: UserLike | None) -> Self:
        scope = scope_for(user)
        if scope.is_anonymous:
            return self.none()
        return self.filter(self.model.scope_q(scope))

    def get_for(self, user: UserLike | None, pk: Any, *, purpose: str = "") -> Any:
        """The row if the user may read it, else Http404; reads of personal records are audited."""
        try:
            obj = self.visible_to(user).get(pk=pk)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        if getattr(self.model, "audit_reads", False):
            from ventanilla.core import audit

            audit.record_read(obj, by=user, purpose=purpose)
        return obj


class ScopedModel(models.Model):
    """Base for organisation-owned rows: subclasses say how they are owned in `scope_q`."""

    audit_reads: ClassVar[bool] = False

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        raise NotImplementedError(f"{cls.__name__} must say who may read it (scope_q).")
