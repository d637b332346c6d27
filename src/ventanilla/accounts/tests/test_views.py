"""The accounts pages: signing in and out, two-factor, the session clock, profile tokens, and the
pages where an administrator manages sites, members and role policies."""

from __future__ import annotations

import json
import re
import time

import pyotp
import pytest
from django.core import mail
from django.forms.models import model_to_dict
from django.test import Client

from ventanilla.accounts import services
from ventanilla.accounts.middleware import LAST_SEEN, TWO_FACTOR_NOT_REQUIRED_UNTIL
from ventanilla.accounts.models import ApiToken, LoginFailure, Membership, RolePolicy, Site
from ventanilla.core.models import AuditAction, AuditEntry

LOGIN_URL = "/en/accounts/login/"
THROTTLED = "Too many failed attempts. Wait a few minutes and try again."
WRONG_PASSWORD = "The username or password is not correct."
WRONG_CODE = "That code is not valid. Check the time on your phone and try again."


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_entries(since: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=since).order_by("pk"))


def signed_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def sign_in(client: Client, username: str, password: str, next_url: str = "") -> object:
    url = f"{LOGIN_URL}?next={next_url}" if next_url else LOGIN_URL
    return client.post(url, {"username": username, "password": password})


def wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    return next(
        code for code in ("000000", "111111", "222222", "333333") if not totp.verify(code, valid_window=1)
    )


def enable_two_factor(user: object) -> str:
    secret = services.start_two_factor(user)
    assert services.confirm_two_factor(user, code=pyotp.TOTP(secret).now()) is True
    return secret


# --- Signing in ----------------------------------------------------------------------------------


def test_login_signs_in_and_is_audited(world):
    # given a user with the right password
    client = Client()
    user = world.user("a", "caseworker")
    since = last_audit_id()
    # when they sign in
    response = sign_in(client, "a_caseworker", world.password)
    # then they are signed in, sent to the dashboard, and the login is audited
    assert (response.status_code, response["Location"]) == (302, "/en/staff/")
    assert signed_in_user_id(client) == user.pk
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.object_type, entry.object_id, entry.detail) == (
        AuditAction.LOGIN,
        user.pk,
        "accounts.user",
        str(user.pk),
        {"method": "password"},
    )


@pytest.mark.parametrize("username", ["a_caseworker", "maria.lopez"], ids=["known", "unknown"])
def test_wrong_password_is_refused_and_audited_without_the_username(world, username):
    # given a username (real or not) and a wrong password
    client = Client()
    since = last_audit_id()
    # when they try to sign in
    response = sign_in(client, username, "not-the-password")
    # then the page says so, nobody is signed in, and the failure is audited without the username
    assert response.status_code == 400
    assert WRONG_PASSWORD in response.content.decode()
    assert signed_in_user_id(client) is None
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id) == (AuditAction.LOGIN_FAILED, None)
    text = json.dumps(model_to_dict(entry), default=str)
    assert username not in text
    assert "not-the-password" not in text
    assert list(entry.detail) == ["username_hash"]


def test_after_five_failures_even_the_right_password_gets_429(world, settings):
    # given five failed attempts for one username
    assert settings.LOGIN_FAILURE_LIMIT == 5
    client = Client()
    for _attempt in range(5):
        assert sign_in(client, "a_caseworker", "wrong-password").status_code == 400
    since = last_audit_id()
    # when the sixth attempt has the right password
    response = sign_in(client, "a_caseworker", world.password)
    # then it is refused with a clear message, before the password is even checked
    assert response.status_code == 429
    assert THROTTLED in response.content.decode()
    assert signed_in_user_id(client) is None
    assert new_entries(since) == []


def test_throttling_one_username_does_not_lock_out_another(world):
    client = Client()
    for _attempt in range(5):
        sign_in(client, "a_caseworker", "wrong-password")
    response = sign_in(client, "a_auditor", world.password)
    assert response.status_code == 302
    assert signed_in_user_id(client) == world.user("a", "auditor").pk


def test_successful_login_clears_the_failure_counter(world):
    # given four failures, then a success, then a sign-out
    client = Client()
    for _attempt in range(4):
        sign_in(client, "a_caseworker", "wrong-password")
    assert sign_in(client, "a_caseworker", world.password).status_code == 302
    assert LoginFailure.objects.count() == 0
    client.post("/en/accounts/logout/")
    # when four more failures follow (eight in all)
    for _attempt in range(4):
        assert sign_in(client, "a_caseworker", "wrong-password").status_code == 400
    # then the right password still works, because the counter started again
    assert sign_in(client, "a_caseworker", world.password).status_code == 302


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/en/organisations/", "/en/organisations/"),
        ("http://testserver/en/areas/", "http://testserver/en/areas/"),
        ("https://evil.example/en/", "/en/staff/"),
        ("//evil.example/en/", "/en/staff/"),
        ("/\\evil.example/", "/en/staff/"),
        ("javascript:alert(1)", "/en/staff/"),
    ],
)
def test_next_redirects_only_to_the_same_host(world, next_url, location):
    # given a sign-in link with a `next`
    client = Client()
    # when the user signs in
    response = sign_in(client, "a_caseworker", world.password, next_url=next_url)
    # then they land on `next` only when it is on this host
    assert (response.status_code, response["Location"]) == (302, location)


def test_next_does_not_downgrade_a_secure_sign_in_to_http(world):
    client = Client()
    response = client.post(
        f"{LOGIN_URL}?next=http://testserver/en/areas/",
        {"username": "a_caseworker", "password": world.password},
        secure=True,
    )
    assert (response.status_code, response["Location"]) == (302, "/en/staff/")


def test_sign_in_without_next_lands_on_the_dashboard_in_the_page_language(world):
    response = Client().post("/es/accounts/login/", {"username": "a_caseworker", "password": world.password})
    assert (response.status_code, response["Location"]) == (302, "/es/staff/")


# --- Two-factor sign-in --------------------------------------------------------------------------


def test_login_with_two_factor_asks_for_a_code_before_signing_in(world):
    # given a user with two-factor on
    user = world.user("a", "auditor")
    secret = enable_two_factor(user)
    client = Client()
    since = last_audit_id()
    # when they give the right password
    response = sign_in(client, "a_auditor", world.password, next_url="/en/audit/")
    # then they are asked for a code and are not signed in yet
    assert (response.status_code, response["Location"]) == (302, "/en/accounts/two-factor/verify/")
    assert signed_in_user_id(client) is None
    assert client.get("/en/audit/")["Location"] == f"{LOGIN_URL}?next=/en/audit/"
    assert client.get("/en/accounts/two-factor/verify/").status_code == 200
    # when they give the right code
    response = client.post("/en/accounts/two-factor/verify/", {"code": pyotp.TOTP(secret).now()})
    # then they are signed in, sent to `next`, and the login is audited as password + code
    assert (response.status_code, response["Location"]) == (302, "/en/audit/")
    assert signed_in_user_id(client) == user.pk
    assert [(e.action, e.actor_id, e.detail) for e in new_entries(since)] == [
        (AuditAction.LOGIN, user.pk, {"method": "password+totp"})
    ]


def test_wrong_two_factor_code_is_refused_and_audited(world):
    # given a user with two-factor on who gave the right password
    user = world.user("a", "auditor")
    secret = enable_two_factor(user)
    client = Client()
    sign_in(client, "a_auditor", world.password)
    since = last_audit_id()
    # when they give a wrong code
    response = client.post("/en/accounts/two-factor/verify/", {"code": wrong_code(secret)})
    # then the code field says so, they are not signed in, and the failure is audited
    assert response.status_code == 200
    assert response.context["form"].errors == {"code": [WRONG_CODE]}
    assert signed_in_user_id(client) is None
    [entry] = new_entries(since)
    assert (entry.action, entry.object_type, entry.object_id) == (
        AuditAction.LOGIN_FAILED,
        "accounts.user",
        str(user.pk),
    )
    assert "a_auditor" not in json.dumps(model_to_dict(entry), default=str)


def test_two_factor_codes_are_throttled_too(world):
    user = world.user("a", "auditor")
    secret = enable_two_factor(user)
    client = Client()
    sign_in(client, "a_auditor", world.password)
    for _attempt in range(5):
        client.post("/en/accounts/two-factor/verify/", {"code": wrong_code(secret)})
    response = client.post("/en/accounts/two-factor/verify/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 429
    assert THROTTLED in response.content.decode()
    assert signed_in_user_id(client) is None


# --- Signing out and the session clock -----------------------------------------------------------


def test_logout_is_post_only_and_audited(world, client_for):
    # given a signed-in user
    user = world.user("a", "caseworker")
    client = client_for(user)
    since = last_audit_id()
    # when they GET the logout URL, nothing happens
    assert client.get("/en/accounts/logout/").status_code == 405
    assert signed_in_user_id(client) == user.pk
    # when they POST to it
    response = client.post("/en/accounts/logout/")
    # then they are signed out, sent to the sign-in page, and it is audited
    assert (response.status_code, response["Location"]) == (302, LOGIN_URL)
    assert signed_in_user_id(client) is None
    assert [(e.action, e.actor_id) for e in new_entries(since)] == [(AuditAction.LOGOUT, user.pk)]
    assert client.get("/en/staff/")["Location"] == f"{LOGIN_URL}?next=/en/staff/"


def set_last_seen(client: Client, seconds_ago: int) -> None:
    session = client.session
    session[LAST_SEEN] = int(time.time()) - seconds_ago
    session.save()


def test_idle_session_is_signed_out_and_told_why(world, client_for, settings):
    # given a one-minute idle limit and a session last seen two minutes ago
    settings.SESSION_IDLE_MINUTES = 1
    client = client_for(world.user("a", "caseworker"))
    set_last_seen(client, 120)
    # when the user comes back
    response = client.get("/en/organisations/")
    # then they are sent to sign in again, with the reason, and the session is gone
    assert (response.status_code, response["Location"]) == (302, f"{LOGIN_URL}?expired=1")
    assert signed_in_user_id(client) is None
    page = client.get(response["Location"])
    assert "You were signed out after a period of inactivity." in page.content.decode()


def test_active_session_is_kept_and_its_clock_restarts(world, client_for, settings):
    # given a two-minute idle limit and a session last seen 90 seconds ago
    settings.SESSION_IDLE_MINUTES = 2
    client = client_for(world.user("a", "caseworker"))
    set_last_seen(client, 90)
    # when the user comes back
    response = client.get("/en/organisations/")
    # then the page opens and the clock restarts
    assert response.status_code == 200
    assert int(time.time()) - client.session[LAST_SEEN] <= 2


def test_last_seen_is_written_at_most_once_a_minute(world, client_for, settings):
    settings.SESSION_IDLE_MINUTES = 2
    client = client_for(world.user("a", "caseworker"))
    set_last_seen(client, 30)
    written = client.session[LAST_SEEN]
    assert client.get("/en/organisations/").status_code == 200
    assert client.session[LAST_SEEN] == written


# --- Two-factor required by a role policy --------------------------------------------------------


def test_role_policy_sends_a_caseworker_to_two_factor_set_up_until_confirmed(world, client_for):
    # given A's administrator requires two-factor for caseworkers, through the page
    admin_client = client_for(world.user("a", "administrator"))
    response = admin_client.post(
        f"/en/organisations/{world.a.organisation.pk}/policies/", {"caseworker": "on"}
    )
    assert response.status_code == 302
    caseworker = world.user("a", "caseworker")
    client = client_for(caseworker)
    # when the signed-in caseworker opens any page
    pages = ["/en/staff/", "/en/organisations/", "/en/areas/", "/en/accounts/profile/", "/en/audit/"]
    # then each sends them to two-factor set-up
    assert {page: client.get(page)["Location"] for page in pages} == dict.fromkeys(
        pages, "/en/accounts/two-factor/"
    )
    # ... which opens, says why, and holds their new secret
    setup = client.get("/en/accounts/two-factor/")
    assert setup.status_code == 200
    assert "Your role requires two-factor authentication." in setup.content.decode()
    caseworker.refresh_from_db()
    # when they enter a wrong code, they are still held there
    assert (
        client.post("/en/accounts/two-factor/", {"code": wrong_code(caseworker.totp_secret)}).status_code
        == 200
    )
    assert client.get("/en/staff/")["Location"] == "/en/accounts/two-factor/"
    # when they confirm a right code
    response = client.post("/en/accounts/two-factor/", {"code": pyotp.TOTP(caseworker.totp_secret).now()})
    # then two-factor is on and every page opens again
    assert (response.status_code, response["Location"]) == (302, "/en/accounts/profile/")
    caseworker.refresh_from_db()
    assert caseworker.has_two_factor is True
    assert {page: client.get(page).status_code for page in pages[:4]} == dict.fromkeys(pages[:4], 200)


def test_role_policy_reaches_an_already_active_session_within_five_minutes(world, client_for):
    # given a caseworker already working (the middleware noted two-factor was not required)
    client = client_for(world.user("a", "caseworker"))
    assert client.get("/en/staff/").status_code == 200
    # when the administrator then requires two-factor for caseworkers
    services.set_role_policy(
        organisation=world.a.organisation,
        role="caseworker",
        requires_two_factor=True,
        by=world.user("a", "administrator"),
    )
    # then the session keeps working until the policy is looked at again (at most five minutes) ...
    assert client.get("/en/staff/").status_code == 200
    recheck_at = client.session[TWO_FACTOR_NOT_REQUIRED_UNTIL]
    assert 0 < recheck_at - int(time.time()) <= 300
    # ... and from then on it is held for set-up
    session = client.session
    session[TWO_FACTOR_NOT_REQUIRED_UNTIL] = int(time.time()) - 1
    session.save()
    assert client.get("/en/staff/")["Location"] == "/en/accounts/two-factor/"


def test_role_policy_does_not_hold_other_roles_or_organisations(world, client_for):
    services.set_role_policy(
        organisation=world.a.organisation,
        role="caseworker",
        requires_two_factor=True,
        by=world.user("a", "administrator"),
    )
    assert client_for(world.user("a", "auditor")).get("/en/staff/").status_code == 200
    assert client_for(world.user("b", "caseworker")).get("/en/staff/").status_code == 200


def test_user_held_for_two_factor_can_still_sign_out(world, client_for):
    services.set_role_policy(
        organisation=world.a.organisation,
        role="caseworker",
        requires_two_factor=True,
        by=world.user("a", "administrator"),
    )
    client = client_for(world.user("a", "caseworker"))
    response = client.post("/en/accounts/logout/")
    assert (response.status_code, response["Location"]) == (302, LOGIN_URL)


# --- Profile: API tokens -------------------------------------------------------------------------

KEY = re.compile(r"vt_[A-Za-z0-9_-]{43}")


def test_profile_creates_a_token_and_shows_it_once(world, client_for):
    # given a signed-in user on their profile
    user = world.user("a", "data_analyst")
    client = client_for(user)
    # when they create a token
    response = client.post("/en/accounts/profile/", {"name": "monthly report", "days": "30"})
    # then the page shows the key once, and only its hash is stored
    assert response.status_code == 200
    [key] = KEY.findall(response.content.decode())
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.key_hash, token.prefix) == ("monthly report", ApiToken.hash_key(key), key[3:11])
    # ... it works on the API
    api = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert (api.status_code, api.json()["username"]) == (200, "a_data_analyst")
    # ... and the next visit lists the token by its prefix, without the key
    again = client.get("/en/accounts/profile/").content.decode()
    assert key not in again
    assert KEY.findall(again) == []
    assert key[3:11] in again


def test_profile_refuses_a_token_valid_for_more_than_a_year(world, client_for):
    client = client_for(world.user("a", "data_analyst"))
    response = client.post("/en/accounts/profile/", {"name": "forever", "days": "366"})
    assert list(response.context["form"].errors) == ["days"]
    assert not ApiToken.objects.exists()


def test_owner_revokes_their_token_and_it_stops_working(world, client_for):
    # given a user's token
    user = world.user("a", "data_analyst")
    issued = services.issue_token(user, name="reporting")
    # when they revoke it from their profile
    response = client_for(user).post(f"/en/accounts/tokens/{issued.token.pk}/revoke/")
    # then it is revoked, no longer listed, and refused by the API
    assert (response.status_code, response["Location"]) == (302, "/en/accounts/profile/")
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is not None
    assert issued.token.prefix not in client_for(user).get("/en/accounts/profile/").content.decode()
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {issued.key}").status_code == 401


def test_nobody_else_can_revoke_a_token(world, client_for):
    # given a caseworker's token
    issued = services.issue_token(world.user("a", "caseworker"), name="mobile")
    since = last_audit_id()
    # when A's administrator (same organisation) tries to revoke it
    response = client_for(world.user("a", "administrator")).post(
        f"/en/accounts/tokens/{issued.token.pk}/revoke/"
    )
    # then it does not exist for them, and nothing changed
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is None
    assert new_entries(since) == []


# --- Sites ---------------------------------------------------------------------------------------


def site_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Tecún Umán centre",
        "kind": "resource_centre",
        "time_zone": "America/Guatemala",
        "latitude": "14.68",
        "longitude": "-92.14",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_administrator_adds_a_site(world, client_for):
    admin = world.user("a", "administrator")
    since = last_audit_id()
    response = client_for(admin).post(f"/en/organisations/{world.a.organisation.pk}/sites/new/", site_form())
    assert (response.status_code, response["Location"]) == (
        302,
        f"/en/organisations/{world.a.organisation.pk}/",
    )
    site = Site.objects.get(name="Tecún Umán centre")
    assert (site.organisation, site.time_zone, str(site.latitude)) == (
        world.a.organisation,
        "America/Guatemala",
        "14.68000",
    )
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.object_id) == (AuditAction.CREATE, admin.pk, str(site.pk))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "america/guatemala"}, "time_zone"),
        ({"latitude": "90.00001"}, "latitude"),
        ({"latitude": "-200"}, "latitude"),
        ({"longitude": "180.5"}, "longitude"),
    ],
)
def test_site_form_names_the_invalid_field_and_saves_nothing(world, client_for, overrides, field):
    # given A's administrator on the new-site form
    client = client_for(world.user("a", "administrator"))
    since = last_audit_id()
    # when they submit one invalid value
    response = client.post(f"/en/organisations/{world.a.organisation.pk}/sites/new/", site_form(**overrides))
    # then the form comes back with an error on that field only, and nothing was saved or audited
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert f'id="id_{field}-error"' in response.content.decode()
    assert not Site.objects.filter(name="Tecún Umán centre").exists()
    assert new_entries(since) == []


def test_site_form_refuses_editing_a_site_of_another_organisation_through_its_own_url(world, client_for):
    # given A's administrator and B's site, reached through A's organisation in the URL
    client = client_for(world.user("a", "administrator"))
    url = f"/en/organisations/{world.a.organisation.pk}/sites/{world.b.sites[0].pk}/edit/"
    # when they open or post it
    # then it does not exist for them, and it is unchanged
    assert client.get(url).status_code == 404
    assert client.post(url, site_form(name="Hijacked")).status_code == 404
    assert Site.objects.get(pk=world.b.sites[0].pk).name == "Refugio Beta site 1"


# --- Memberships ---------------------------------------------------------------------------------


def test_administrator_grants_a_member_another_role_and_they_are_emailed(
    world, client_for, django_capture_on_commit_callbacks
):
    # given A's administrator on the grant form, and A's auditor
    admin = world.user("a", "administrator")
    auditor = world.user("a", "auditor")
    client = client_for(admin)
    since = last_audit_id()
    # when they also make the auditor a caseworker at the first site
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/en/organisations/{world.a.organisation.pk}/members/new/",
            {"user": auditor.pk, "role": "caseworker", "sites": [world.a.sites[0].pk]},
        )
    # then the membership exists, is audited with ids, and the auditor (only) was emailed
    assert (response.status_code, response["Location"]) == (
        302,
        f"/en/organisations/{world.a.organisation.pk}/",
    )
    membership = Membership.objects.get(user=auditor, role="caseworker")
    assert (membership.organisation, list(membership.sites.all())) == (
        world.a.organisation,
        [world.a.sites[0]],
    )
    assert [(e.action, e.actor_id, e.detail) for e in new_entries(since)] == [
        (
            AuditAction.ROLE_CHANGE,
            admin.pk,
            {"user": auditor.pk, "role": "caseworker", "change": "granted", "sites": [world.a.sites[0].pk]},
        )
    ]
    assert [m.to for m in mail.outbox] == [["a_auditor@example.org"]]


def test_grant_form_offers_only_members_of_the_organisation(world, client_for):
    # given A's administrator on the grant form
    client = client_for(world.user("a", "administrator"))
    url = f"/en/organisations/{world.a.organisation.pk}/members/new/"
    # when it renders
    html = client.get(url).content.decode()
    # then it lists A's people and nobody else
    assert "a_auditor" in html
    for username in ("outsider", "b_administrator", "b_caseworker"):
        assert username not in html
    # and posting someone else's id is refused on the user field
    response = client.post(url, {"user": world.user("b", "caseworker").pk, "role": "caseworker"})
    assert list(response.context["form"].errors) == ["user"]
    assert not Membership.objects.filter(
        user=world.user("b", "caseworker"), organisation=world.a.organisation
    )


def test_grant_form_refuses_a_site_of_another_organisation(world, client_for):
    client = client_for(world.user("a", "administrator"))
    auditor = world.user("a", "auditor")
    since = last_audit_id()
    response = client.post(
        f"/en/organisations/{world.a.organisation.pk}/members/new/",
        {"user": auditor.pk, "role": "caseworker", "sites": [world.b.sites[0].pk]},
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["sites"]
    assert not Membership.objects.filter(user=auditor, role="caseworker").exists()
    assert new_entries(since) == []


def test_membership_form_refuses_a_site_of_another_organisation(world, client_for):
    membership = Membership.objects.get(user=world.user("a", "caseworker"), organisation=world.a.organisation)
    response = client_for(world.user("a", "administrator")).post(
        f"/en/memberships/{membership.pk}/edit/",
        {"role": "caseworker", "sites": [world.b.sites[0].pk], "is_active": "on"},
    )
    assert list(response.context["form"].errors) == ["sites"]
    assert list(membership.sites.all()) == [world.a.sites[0]]


@pytest.mark.parametrize(
    "data",
    [{"role": "administrator"}, {"role": "caseworker", "is_active": "on"}],
    ids=["deactivate", "demote"],
)
def test_administrator_cannot_remove_their_own_administrator_role_on_the_page(world, client_for, data):
    # given A's administrator on their own membership
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=admin, organisation=world.a.organisation)
    since = last_audit_id()
    # when they uncheck "active" or pick another role
    response = client_for(admin).post(f"/en/memberships/{membership.pk}/edit/", data)
    # then the form says why, and they are still an active administrator
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Administrators cannot remove their own administrator role."
    ]
    membership.refresh_from_db()
    assert (membership.role, membership.is_active) == ("administrator", True)
    assert new_entries(since) == []


def test_administrator_changes_a_membership(world, client_for, django_capture_on_commit_callbacks):
    admin = world.user("a", "administrator")
    membership = Membership.objects.get(user=world.user("a", "caseworker"), organisation=world.a.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin).post(
            f"/en/memberships/{membership.pk}/edit/",
            {"role": "site_manager", "sites": [world.a.sites[1].pk], "is_active": "on"},
        )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.role, list(membership.sites.all())) == ("site_manager", [world.a.sites[1]])
    [message] = mail.outbox
    assert (message.to, message.body.splitlines()[0]) == (
        ["a_caseworker@example.org"],
        "You now have the role Site manager in A.",
    )


def test_role_policy_page_saves_only_what_changed(world, client_for):
    # given caseworkers already need two-factor in A
    admin = world.user("a", "administrator")
    services.set_role_policy(
        organisation=world.a.organisation, role="caseworker", requires_two_factor=True, by=admin
    )
    since = last_audit_id()
    # when the administrator saves the page with caseworker and auditor checked
    response = client_for(admin).post(
        f"/en/organisations/{world.a.organisation.pk}/policies/", {"caseworker": "on", "auditor": "on"}
    )
    # then only the auditor policy is new, and only it is audited
    assert response.status_code == 302
    assert set(
        RolePolicy.objects.filter(organisation=world.a.organisation, requires_two_factor=True).values_list(
            "role", flat=True
        )
    ) == {"caseworker", "auditor"}
    assert [e.detail for e in new_entries(since)] == [{"role": "auditor", "requires_two_factor": True}]
