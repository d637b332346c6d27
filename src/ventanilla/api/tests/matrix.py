"""The authorisation matrix's vocabulary: principals, expected outcomes, rows, and how a row is sent.

Shared by `test_authorisation_matrix` and the per-domain row modules (`matrix_referrals`), so a domain
can keep its rows next to each other without one file growing without end.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.test import Client
from django.urls import reverse

from ventanilla.core.roles import Role
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
    if url.startswith("/api/") and data is not None and isinstance(data.get("file"), tuple):
        name, content = data["file"]  # an upload: multipart, as a client sends a file
        upload = io.BytesIO(content)
        upload.name = name
        return client.post(url, {**data, "file": upload})
    if url.startswith("/api/"):
        body = json.dumps(data) if data is not None else None
        return client.generic(method, url, body or "", content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.post(url, data or {})


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


class Redirect:
    """An expected redirect to a path made by the write itself (a new person's or case's reference)."""

    def __init__(self, pattern: str):
        self.pattern = pattern

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and re.fullmatch(f"302 {self.pattern}", other) is not None

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"Redirect({self.pattern!r})"
