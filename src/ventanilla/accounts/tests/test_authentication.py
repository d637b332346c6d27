"""Bearer tokens on the API: what is stored, what is accepted, and the one error format when refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from ventanilla.accounts import services
from ventanilla.accounts.models import ApiToken

INVALID = {
    "error": {
        "code": "authentication_failed",
        "message": "The token is invalid, expired or revoked.",
        "fields": {},
    }
}


def api_get(authorization: str, path: str = "/api/v1/me/") -> object:
    return Client().get(path, HTTP_AUTHORIZATION=authorization)


def test_a_valid_token_authenticates_its_user(world):
    # given a token of A's caseworker
    issued = services.issue_token(world.user("a", "caseworker"), name="phone")
    # when the API is called with it
    response = api_get(f"Bearer {issued.key}")
    # then the caller is that user, with their roles
    assert response.status_code == 200
    assert response.json() == {
        "username": "a_caseworker",
        "preferred_language": "en",
        "roles": [
            {"organisation": world.a.organisation.pk, "role": "caseworker", "sites": [world.a.sites[0].pk]}
        ],
    }
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at is not None


def test_only_the_hash_of_the_key_is_in_the_database(world):
    # given an issued token
    issued = services.issue_token(world.user("a", "caseworker"), name="phone")
    secret_part = issued.key[11:]  # after "vt_" and the 8-character prefix shown in lists
    # when the token table is read raw, column by column
    table = ApiToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - table name from the model, no input
        rows = cursor.fetchall()
    # then neither the key nor its secret part is stored, only its SHA-256
    assert len(rows) == 1
    values = [str(value) for value in rows[0]]
    assert not any(secret_part in value for value in values)
    assert ApiToken.hash_key(issued.key) in values


def test_expired_token_is_refused(world):
    issued = services.issue_token(world.user("a", "caseworker"), name="phone", days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_get(f"Bearer {issued.key}")
    assert (response.status_code, response.json()) == (401, INVALID)
    assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_token_is_refused(world):
    user = world.user("a", "caseworker")
    issued = services.issue_token(user, name="phone")
    services.revoke_token(issued.token, by=user)
    response = api_get(f"Bearer {issued.key}")
    assert (response.status_code, response.json()) == (401, INVALID)


def test_token_of_a_deactivated_user_is_refused(world):
    user = world.user("a", "caseworker")
    issued = services.issue_token(user, name="phone")
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = api_get(f"Bearer {issued.key}")
    assert (response.status_code, response.json()) == (401, INVALID)


def test_unknown_token_is_refused(world):
    response = api_get("Bearer vt_" + "x" * 43)
    assert (response.status_code, response.json()) == (401, INVALID)


@pytest.mark.parametrize("header", ["Bearer", "Bearer one two"])
def test_malformed_bearer_header_is_refused(world, header):
    response = api_get(header)
    assert (response.status_code, response.json()) == (
        401,
        {
            "error": {
                "code": "authentication_failed",
                "message": "The Authorization header must be 'Bearer <token>'.",
                "fields": {},
            }
        },
    )


@pytest.mark.parametrize("header", ["", "Token abc", "bearer vt_abc", "Basic YTpi"])
def test_missing_or_foreign_scheme_is_not_authenticated(world, header):
    response = api_get(header)
    assert (response.status_code, response.json()) == (
        401,
        {
            "error": {
                "code": "not_authenticated",
                "message": "Authentication credentials were not provided.",
                "fields": {},
            }
        },
    )
    assert response["WWW-Authenticate"] == "Bearer"


def test_token_reads_only_what_its_user_may_read(world):
    # given a token of B's administrator
    issued = services.issue_token(world.user("b", "administrator"), name="sync")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    # when it reads organisations and one of A's sites
    organisations = client.get("/api/v1/organisations/").json()["results"]
    site = client.get(f"/api/v1/sites/{world.a.sites[0].pk}/")
    # then only B exists for it
    assert [o["id"] for o in organisations] == [world.b.organisation.pk]
    assert (site.status_code, site.json()["error"]["code"]) == (404, "not_found")
