"""Roles and what each may do: the one table to read when asking "who can do what".

A membership gives a user one role in one organisation, optionally limited to some of its sites.
Site-scoped roles see only the sites listed on their membership; organisation-wide roles see every
site of their organisation. Nobody, not even a superuser, reads personal data without a role that
grants it.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    SITE_MANAGER = "site_manager", _("Site manager")
    CASEWORKER = "caseworker", _("Caseworker")
    PARTNER_FOCAL_POINT = "partner_focal_point", _("Partner focal point")
    INFORMATION_OFFICER = "information_officer", _("Information officer")
    ME_OFFICER = "me_officer", _("M&E officer")
    DATA_ANALYST = "data_analyst", _("Data analyst")
    AUDITOR = "auditor", _("Auditor")


class Permission(StrEnum):
    MANAGE_ORGANISATION = "manage_organisation"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_SITES = "manage_sites"
    VIEW_SITES = "view_sites"
    VIEW_PERSONAL_DATA = "view_personal_data"
    EDIT_PERSONAL_DATA = "edit_personal_data"
    EXPORT_PERSONAL_DATA = "export_personal_data"
    RECEIVE_REFERRALS = "receive_referrals"
    MANAGE_CONTENT = "manage_content"
    MANAGE_FORMS = "manage_forms"
    MANAGE_PATHWAYS = "manage_pathways"
    HANDLE_MESSAGES = "handle_messages"
    MANAGE_CAMPAIGNS = "manage_campaigns"
    MANAGE_PROJECTS = "manage_projects"
    VIEW_AGGREGATES = "view_aggregates"
    VIEW_AUDIT_LOG = "view_audit_log"


P = Permission

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(
        {
            P.MANAGE_ORGANISATION,
            P.MANAGE_MEMBERS,
            P.MANAGE_SITES,
            P.VIEW_SITES,
            P.MANAGE_CONTENT,
            P.MANAGE_FORMS,
            P.MANAGE_PATHWAYS,
            P.VIEW_AGGREGATES,
            P.VIEW_AUDIT_LOG,
        }
    ),
    Role.SITE_MANAGER: frozenset(
        {
            P.VIEW_SITES,
            P.VIEW_PERSONAL_DATA,
            P.EDIT_PERSONAL_DATA,
            P.EXPORT_PERSONAL_DATA,
            P.MANAGE_CONTENT,
            P.MANAGE_FORMS,
            P.MANAGE_PATHWAYS,
            P.HANDLE_MESSAGES,
            P.VIEW_AGGREGATES,
        }
    ),
    Role.CASEWORKER: frozenset({P.VIEW_SITES, P.VIEW_PERSONAL_DATA, P.EDIT_PERSONAL_DATA}),
    Role.PARTNER_FOCAL_POINT: frozenset({P.VIEW_SITES, P.RECEIVE_REFERRALS}),
    Role.INFORMATION_OFFICER: frozenset({P.VIEW_SITES, P.MANAGE_CONTENT, P.HANDLE_MESSAGES}),
    Role.ME_OFFICER: frozenset(
        {P.VIEW_SITES, P.MANAGE_FORMS, P.MANAGE_CAMPAIGNS, P.MANAGE_PROJECTS, P.VIEW_AGGREGATES}
    ),
    Role.DATA_ANALYST: frozenset({P.VIEW_SITES, P.VIEW_AGGREGATES}),
    Role.AUDITOR: frozenset({P.VIEW_SITES, P.VIEW_AUDIT_LOG}),
}

SITE_SCOPED_ROLES: frozenset[str] = frozenset({Role.SITE_MANAGER, Role.CASEWORKER, Role.INFORMATION_OFFICER})


def permissions_for(role: str) -> frozenset[Permission]:
    """Unknown roles grant nothing, so a typo in data can never widen access."""
    return ROLE_PERMISSIONS.get(role, frozenset())


def roles_with(*permissions: Permission) -> list[str]:
    """The roles that grant any of `permissions` (the table decides, so a new role needs no edit)."""
    return [role.value for role in Role if permissions_for(role.value) & set(permissions)]


def parse_role(value: str) -> Role:
    """Turn user input into a Role or say which values are allowed."""
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(Role.values)
        raise ValueError(f"Unknown role {value!r}; use one of: {allowed}.") from None
