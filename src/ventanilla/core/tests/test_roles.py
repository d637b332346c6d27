"""The role table: who may do what."""

from __future__ import annotations

import pytest

from ventanilla.core.roles import (
    ROLE_PERMISSIONS,
    SITE_SCOPED_ROLES,
    Permission,
    Role,
    parse_role,
    permissions_for,
    roles_with,
)


@pytest.mark.parametrize("role", list(Role))
def test_parse_role_accepts_every_role(role):
    assert parse_role(role.value) is role


@pytest.mark.parametrize("value", ["admin", "Caseworker", "", " caseworker"])
def test_parse_role_error_lists_the_allowed_roles(value):
    with pytest.raises(ValueError, match="Unknown role") as raised:
        parse_role(value)
    assert str(raised.value) == (
        f"Unknown role {value!r}; use one of: administrator, site_manager, caseworker, partner_focal_point, "
        "information_officer, me_officer, data_analyst, auditor."
    )


@pytest.mark.parametrize("role", ["", "superadmin", "Administrator", "auditor "])
def test_unknown_roles_grant_nothing(role):
    assert permissions_for(role) == frozenset()


def test_every_role_has_an_entry_and_nothing_else_does():
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    assert all(
        isinstance(permission, Permission) for grants in ROLE_PERMISSIONS.values() for permission in grants
    )


def test_site_scoped_roles_are_roles():
    assert {Role.SITE_MANAGER, Role.CASEWORKER, Role.INFORMATION_OFFICER} == SITE_SCOPED_ROLES
    assert set(Role.values) >= SITE_SCOPED_ROLES


def holders(permission: Permission) -> set[str]:
    return {role for role, grants in ROLE_PERMISSIONS.items() if permission in grants}


def test_personal_data_is_for_case_roles_only():
    # Administrators run the organisation; they do not read people's records.
    assert holders(Permission.VIEW_PERSONAL_DATA) == {"site_manager", "caseworker"}
    assert holders(Permission.EDIT_PERSONAL_DATA) == {"site_manager", "caseworker"}
    assert holders(Permission.EXPORT_PERSONAL_DATA) == {"site_manager"}


def test_audit_log_and_membership_management():
    assert holders(Permission.VIEW_AUDIT_LOG) == {"administrator", "auditor"}
    assert holders(Permission.MANAGE_MEMBERS) == {"administrator"}
    assert holders(Permission.RECEIVE_REFERRALS) == {"partner_focal_point"}


def test_every_role_sees_the_sites_it_works_with():
    assert holders(Permission.VIEW_SITES) == set(Role.values)


def test_every_permission_is_held_by_some_role():
    assert {permission for grants in ROLE_PERMISSIONS.values() for permission in grants} == set(Permission)


def test_roles_with_reads_the_table():
    assert sorted(roles_with(Permission.HANDLE_MESSAGES)) == ["information_officer", "site_manager"]
    assert sorted(roles_with(Permission.HANDLE_MESSAGES, Permission.EDIT_PERSONAL_DATA)) == [
        "caseworker",
        "information_officer",
        "site_manager",
    ]
    assert roles_with() == []
