"""What a session may do before the account is fully set up: two-factor and the one-time password."""

from __future__ import annotations

import re

import pyotp
from django.test import Client

from ventanilla.accounts import services
from ventanilla.accounts.models import User

SETUP_REQUIRED = {
    "error": {
        "code": "account_setup_required",
        "message": "Finish setting up your account (password, two-factor) first.",
        "fields": {},
    }
}


def require_two_factor_for_caseworkers(world) -> None:
    services.set_role_policy(
        organisation=world.a.organisation,
        role="caseworker",
        requires_two_factor=True,
        by=world.user("a", "administrator"),
    )


def test_session_of_a_user_held_for_two_factor_is_refused_by_the_api(world, client_for):
    # given caseworkers must use two-factor, and A's caseworker has a session without it
    require_two_factor_for_caseworkers(world)
    client = client_for(world.user("a", "caseworker"))
    # when the session calls the API
    responses = {path: client.get(path) for path in ("/api/v1/me/", "/api/v1/sites/")}
    # then it is refused in the API's error format
    assert {path: (r.status_code, r.json()) for path, r in responses.items()} == {
        "/api/v1/me/": (403, SETUP_REQUIRED),
        "/api/v1/sites/": (403, SETUP_REQUIRED),
    }
    # while the schema and its documentation stay open
    assert client.get("/api/schema/").status_code == 200


def test_session_without_the_code_step_is_signed_out_when_the_user_has_two_factor(world, client_for):
    # given a user with two-factor on whose session never went through the code step
    user = world.user("a", "auditor")
    secret = services.start_two_factor(user)
    assert services.confirm_two_factor(user, code=pyotp.TOTP(secret).now())
    client = client_for(user)
    # when it opens a page
    response = client.get("/en/audit/")
    # then it is signed out and sent to sign in
    assert (response.status_code, response["Location"]) == (302, "/en/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_token_of_a_user_held_for_two_factor_is_refused(world):
    # given a caseworker's token, issued before two-factor became required for caseworkers
    issued = services.issue_token(world.user("a", "caseworker"), name="phone")
    require_two_factor_for_caseworkers(world)
    # when the token is used
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    # then it is refused until the caseworker has set up two-factor
    assert (response.status_code, response.json()) == (403, SETUP_REQUIRED)


# --- New staff member: a one-time password that must be changed -----------------------------------


def test_new_staff_member_signs_in_with_the_one_time_password_and_must_change_it(world, client_for):
    # given A's administrator adds a colleague
    admin_client = client_for(world.user("a", "administrator"))
    created = admin_client.post(
        f"/en/organisations/{world.a.organisation.pk}/staff/new/",
        {
            "username": "new_colleague",
            "full_name": "Nueva Colega",
            "preferred_language": "es",
            "role": "caseworker",
            "sites": [world.a.sites[0].pk],
        },
    )
    assert created.status_code == 200
    [password] = re.findall(r'<code class="secret">([^<]+)</code>', created.content.decode())
    # when the colleague signs in with it
    client = Client()
    signed_in = client.post("/en/accounts/login/", {"username": "new_colleague", "password": password})
    assert signed_in.status_code == 302
    # then every page and the API send them to choose their own password first
    assert client.get("/en/staff/")["Location"] == "/en/accounts/password/"
    assert client.get("/en/organisations/")["Location"] == "/en/accounts/password/"
    api = client.get("/api/v1/me/")
    assert (api.status_code, api.json()) == (403, SETUP_REQUIRED)
    # when they choose one
    new_password = "my-own-long-passphrase-7"
    changed = client.post(
        "/en/accounts/password/",
        {"old_password": password, "new_password1": new_password, "new_password2": new_password},
    )
    # then they can work, and the one-time password no longer opens the account
    assert (changed.status_code, changed["Location"]) == (302, "/en/accounts/profile/")
    assert client.get("/en/staff/").status_code == 200
    colleague = User.objects.get(username="new_colleague")
    assert (colleague.must_change_password, colleague.check_password(password)) == (False, False)


def test_one_time_password_page_is_shown_only_to_the_administrator_who_made_it(world, client_for):
    # the page with the password is the answer to the POST; nothing stores it to show again
    admin_client = client_for(world.user("a", "administrator"))
    created = admin_client.post(
        f"/en/organisations/{world.a.organisation.pk}/staff/new/",
        {
            "username": "new_colleague",
            "full_name": "Nueva Colega",
            "preferred_language": "es",
            "role": "auditor",
        },
    )
    [password] = re.findall(r'<code class="secret">([^<]+)</code>', created.content.decode())
    detail = admin_client.get(f"/en/organisations/{world.a.organisation.pk}/").content.decode()
    assert "new_colleague" in detail
    assert password not in detail
    assert password not in User.objects.filter(username="new_colleague").values_list("password", flat=True)[0]


def test_new_colleague_held_for_both_gates_changes_password_then_sets_up_two_factor(world):
    # given caseworkers need two-factor, and an administrator adds a caseworker with a one-time password
    require_two_factor_for_caseworkers(world)
    created = services.create_staff_member(
        organisation=world.a.organisation,
        username="new_caseworker",
        full_name="Nueva Colega",
        role="caseworker",
        by=world.user("a", "administrator"),
    )
    client = Client()
    client.post("/en/accounts/login/", {"username": "new_caseworker", "password": created.temporary_password})
    # when they open any page, then the password page, and change the password
    first = client.get("/en/staff/")
    password_page = client.get("/en/accounts/password/")
    changed = client.post(
        "/en/accounts/password/",
        {
            "old_password": created.temporary_password,
            "new_password1": "a-long-new-passphrase",
            "new_password2": "a-long-new-passphrase",
        },
    )
    after = client.get("/en/staff/")
    # then the gates lead one to the other without a loop: password first, two-factor next
    assert (first.status_code, first["Location"]) == (302, "/en/accounts/password/")
    assert password_page.status_code == 200
    assert changed.status_code == 302
    assert (after.status_code, after["Location"]) == (302, "/en/accounts/two-factor/")
    assert User.objects.get(username="new_caseworker").must_change_password is False
