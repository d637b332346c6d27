from django.urls import path

from ventanilla.accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:organisation_pk>/sites/new/", views.site_edit, name="site_create"),
    path("organisations/<int:organisation_pk>/sites/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("organisations/<int:organisation_pk>/members/new/", views.membership_grant, name="membership_grant"),
    path(
        "organisations/<int:organisation_pk>/staff/new/",
        views.staff_member_create,
        name="staff_member_create",
    ),
    path("accounts/password/", views.password_change, name="password_change"),
    path("organisations/<int:organisation_pk>/policies/", views.role_policies, name="role_policies"),
    path(
        "organisations/<int:organisation_pk>/data-protection/", views.data_protection, name="data_protection"
    ),
    path("memberships/<int:pk>/edit/", views.membership_edit, name="membership_edit"),
]
