"""Caseworker pages, under /<language>/staff/people/."""

from django.urls import path, register_converter

from ventanilla.registration import views


class ReferenceConverter:
    """A person's pseudonymous reference (VT-XXXX-XXXX): other words under /people/ are not people."""

    regex = "VT-[A-Z0-9]{4}-[A-Z0-9]{4}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "reference")

app_name = "registration"

urlpatterns = [
    path("", views.person_list, name="person_list"),
    path("register/", views.register, name="register"),
    path("<reference:reference>/", views.person_detail, name="person_detail"),
    path("<reference:reference>/receipt/", views.consent_receipt, name="receipt"),
    path("<reference:reference>/erase/", views.erase, name="erase"),
    path(
        "<reference:reference>/consents/<int:consent_id>/withdraw/",
        views.withdraw_consent,
        name="withdraw_consent",
    ),
    path("<reference:reference>/flags/<int:flag_id>/dismiss/", views.dismiss_flag, name="dismiss_flag"),
    path(
        "<reference:reference>/duplicates/<int:candidate_id>/<slug:decision>/",
        views.decide_duplicate,
        name="decide_duplicate",
    ),
    path("<reference:reference>/registrations/<int:registration_id>/correct/", views.correct, name="correct"),
]
