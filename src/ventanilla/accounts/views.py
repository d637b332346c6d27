"""Sign-in, two-factor, profile and the pages where administrators manage their organisation."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts import services
from ventanilla.accounts.forms import (
    CodeForm,
    GrantMembershipForm,
    LoginForm,
    MembershipForm,
    RetentionForm,
    RolePolicyForm,
    SiteForm,
    StaffMemberForm,
    TokenForm,
)
from ventanilla.accounts.middleware import TWO_FACTOR_DONE
from ventanilla.accounts.models import ApiToken, Membership, Organisation, RolePolicy, Site, User
from ventanilla.core.http import client_address
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for

PENDING_USER = "ventanilla_pending_user"
PENDING_NEXT = "ventanilla_pending_next"


def _client_address(request: HttpRequest) -> str:
    return client_address(request)


def _safe_next(request: HttpRequest, value: str | None) -> str:
    allowed_hosts = {request.get_host()}
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts, require_https=request.is_secure()):
        return value
    return reverse("core:dashboard")  # in the language of the page the user signed in on


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        address = _client_address(request)
        try:
            services.check_login_allowed(username=username, address=address)
        except services.LoginThrottled:
            form.add_error(None, _("Too many failed attempts. Wait a few minutes and try again."))
            return render(request, "accounts/login.html", {"form": form}, status=429)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            services.record_login_failure(username=username, address=address)
            form.add_error(None, _("The username or password is not correct."))
            status = 400
        elif user.has_two_factor:
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_NEXT] = _safe_next(request, request.GET.get("next"))
            return redirect("accounts:two_factor_verify")
        else:
            login(request, user)
            services.record_login(user, method="password")
            return redirect(_safe_next(request, request.GET.get("next")))
    context = {"form": form, "expired": request.GET.get("expired") == "1"}
    return render(request, "accounts/login.html", context, status=status)


def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_USER)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = _client_address(request)
        try:
            services.check_login_allowed(username=user.username, address=address)
        except services.LoginThrottled:
            form.add_error(None, _("Too many failed attempts. Wait a few minutes and try again."))
            return render(request, "accounts/two_factor_verify.html", {"form": form}, status=429)
        if services.verify_totp(user, form.cleaned_data["code"]):
            next_url = request.session.pop(PENDING_NEXT, None) or reverse("core:dashboard")
            request.session.pop(PENDING_USER, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[TWO_FACTOR_DONE] = True
            services.record_login(user, method="password+totp")
            return redirect(next_url)
        services.record_login_failure(username=user.username, address=address)
        form.add_error("code", _("That code is not valid. Check the time on your phone and try again."))
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.record_logout(request.user)
    logout(request)
    return redirect("accounts:login")


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST" and "disable" in request.POST:
        # A current code proves the phone is at hand: a borrowed session alone cannot switch it off.
        if not services.verify_totp(user, request.POST.get("code", "")):
            messages.error(request, _("That code is not valid. Check the time on your phone and try again."))
            return redirect("accounts:two_factor_setup")
        try:
            services.disable_two_factor(user, by=user)
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Two-factor authentication is off."))
        return redirect("accounts:profile")
    if not user.totp_secret or (user.has_two_factor and request.method == "GET" and "renew" in request.GET):
        services.start_two_factor(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.confirm_two_factor(user, code=form.cleaned_data["code"]):
            request.session[TWO_FACTOR_DONE] = True
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("accounts:profile")
        form.add_error("code", _("That code is not valid. Check the time on your phone and try again."))
    uri = services.provisioning_uri(user)
    context = {
        "form": form,
        "qr_svg": segno.make(uri, error="m").svg_data_uri(scale=4),
        "secret": user.totp_secret,
        "required": services.two_factor_required(user),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        issued = services.issue_token(user, name=form.cleaned_data["name"], days=form.cleaned_data["days"])
        new_key = issued.key
        form = TokenForm()
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": ApiToken.objects.filter(user__pk=user.pk, revoked_at__isnull=True),
        "memberships": Membership.objects.filter(user__pk=user.pk, is_active=True).select_related(
            "organisation"
        ),
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user__pk=int(request.user.pk or 0)).first()
    if token is None:
        raise Http404
    services.revoke_token(token, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:profile")


# --- Organisations, sites, members ----------------------------------------------------------------


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    organisations = Organisation.objects.visible_to(request.user).select_related("country")
    return render(request, "accounts/organisation_list.html", {"organisations": organisations})


@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = Organisation.objects.get_for(request.user, pk)
    scope = scope_for(request.user)
    can_manage_members = organisation.pk in scope.organisations(Permission.MANAGE_MEMBERS)
    sites = Site.objects.visible_to(request.user).filter(organisation=organisation).select_related("area")
    members = (
        Membership.objects.visible_to(request.user)
        .filter(organisation=organisation)
        .select_related("user")
        .prefetch_related("sites")
        if can_manage_members
        else Membership.objects.none()
    )
    context = {
        "organisation": organisation,
        "sites": sites,
        "members": members,
        "can_manage_members": can_manage_members,
        "can_manage_sites": organisation.pk in scope.organisations(Permission.MANAGE_SITES),
        "can_manage_organisation": organisation.pk in scope.organisations(Permission.MANAGE_ORGANISATION),
    }
    return render(request, "accounts/organisation_detail.html", context)


def _managed_organisation(request: HttpRequest, pk: int, permission: Permission) -> Organisation:
    organisation: Organisation = Organisation.objects.get_for(request.user, pk)
    if organisation.pk not in scope_for(request.user).organisations(permission):
        raise PermissionDenied
    return organisation


@login_required
def site_edit(request: HttpRequest, organisation_pk: int, pk: int | None = None) -> HttpResponse:
    organisation = _managed_organisation(request, organisation_pk, Permission.MANAGE_SITES)
    site = (
        Site.objects.visible_to(request.user).filter(organisation=organisation, pk=pk).first()
        if pk
        else Site(organisation=organisation)
    )
    if site is None:
        raise Http404
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_site(form.instance, by=request.user, changed=form.changed_data)  # type: ignore[arg-type]
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The site was saved."))
            return redirect("accounts:organisation_detail", pk=organisation.pk)
    return render(
        request, "accounts/site_form.html", {"form": form, "organisation": organisation, "site": site}
    )


@login_required
def membership_grant(request: HttpRequest, organisation_pk: int) -> HttpResponse:
    organisation = _managed_organisation(request, organisation_pk, Permission.MANAGE_MEMBERS)
    form = GrantMembershipForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_membership(
                user=form.cleaned_data["user"],
                organisation=organisation,
                role=form.cleaned_data["role"],
                sites=form.cleaned_data["sites"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The role was granted."))
            return redirect("accounts:organisation_detail", pk=organisation.pk)
    return render(request, "accounts/membership_form.html", {"form": form, "organisation": organisation})


@login_required
def staff_member_create(request: HttpRequest, organisation_pk: int) -> HttpResponse:
    organisation = _managed_organisation(request, organisation_pk, Permission.MANAGE_MEMBERS)
    form = StaffMemberForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.create_staff_member(
                organisation=organisation,
                by=request.user,  # type: ignore[arg-type]
                **form.cleaned_data,
            )
        except ValueError as error:
            form.add_error("username", str(error))
        else:
            context = {"organisation": organisation, "created": created}
            return render(request, "accounts/staff_member_created.html", context)
    return render(request, "accounts/staff_member_form.html", {"form": form, "organisation": organisation})


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.change_password(user, new_password=form.cleaned_data["new_password1"])
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was changed."))
        return redirect("accounts:profile")
    return render(
        request, "accounts/password_change.html", {"form": form, "required": user.must_change_password}
    )


@login_required
def membership_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership: Membership = Membership.objects.get_for(request.user, pk)
    organisation = _managed_organisation(request, membership.organisation_id, Permission.MANAGE_MEMBERS)
    initial = {"role": membership.role, "sites": membership.sites.all(), "is_active": membership.is_active}
    form = MembershipForm(request.POST or None, initial=initial, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_membership(
                membership,
                by=request.user,  # type: ignore[arg-type]
                role=form.cleaned_data["role"],
                sites=form.cleaned_data["sites"],
                is_active=form.cleaned_data["is_active"],
            )
        except (ValueError, ValidationError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The membership was changed."))
            return redirect("accounts:organisation_detail", pk=organisation.pk)
    context = {"form": form, "organisation": organisation, "membership": membership}
    return render(request, "accounts/membership_form.html", context)


@login_required
def role_policies(request: HttpRequest, organisation_pk: int) -> HttpResponse:
    organisation = _managed_organisation(request, organisation_pk, Permission.MANAGE_MEMBERS)
    required = set(
        RolePolicy.objects.filter(organisation=organisation, requires_two_factor=True).values_list(
            "role", flat=True
        )
    )
    form = RolePolicyForm(request.POST or None, required_roles=required)
    if request.method == "POST" and form.is_valid():
        for role, wanted in form.cleaned_data.items():
            if wanted != (role in required):
                services.set_role_policy(
                    organisation=organisation,
                    role=role,
                    requires_two_factor=wanted,
                    by=request.user,  # type: ignore[arg-type]
                )
        messages.success(request, _("The policies were saved."))
        return redirect("accounts:organisation_detail", pk=organisation.pk)
    return render(request, "accounts/role_policies.html", {"form": form, "organisation": organisation})


@login_required
def data_protection(request: HttpRequest, organisation_pk: int) -> HttpResponse:
    """The organisation's retention period for registered people's personal data."""
    organisation = _managed_organisation(request, organisation_pk, Permission.MANAGE_ORGANISATION)
    form = RetentionForm(request.POST or None, initial={"retention_days": organisation.retention_days})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_retention(
                organisation=organisation,
                days=form.cleaned_data["retention_days"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error("retention_days", error.message_dict.get("retention_days", [str(error)])[0])
        else:
            messages.success(request, _("The retention period was saved."))
            return redirect("accounts:organisation_detail", pk=organisation.pk)
    return render(
        request,
        "accounts/data_protection.html",
        {"form": form, "organisation": organisation},
        status=422 if form.errors else 200,
    )
