"""Referral pages under /<language>/staff/referrals/: sending side, partner inbox, pathways, metrics."""

from django.urls import path, register_converter

from ventanilla.referrals import views_metrics, views_partner, views_pathways, views_sender


class ReferralReferenceConverter:
    regex = "RF-[A-Z0-9]{4}-[A-Z0-9]{4}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferralReferenceConverter, "referral")

app_name = "referrals"

urlpatterns = [
    # Sending side (case staff of the referring organisation)
    path("", views_sender.referral_list, name="list"),
    path("new/<reference:person_reference>/", views_sender.create, name="create"),
    path("<referral:reference>/", views_sender.detail, name="detail"),
    path("<referral:reference>/status/", views_sender.change_status, name="change_status"),
    path("<referral:reference>/links/", views_sender.issue_link, name="issue_link"),
    path("<referral:reference>/links/<int:link_id>/revoke/", views_sender.revoke_link, name="revoke_link"),
    # Partner side (receive_referrals)
    path("inbox/", views_partner.inbox, name="inbox"),
    path("inbox/<referral:reference>/", views_partner.inbox_detail, name="inbox_detail"),
    path("inbox/<referral:reference>/answer/", views_partner.answer, name="inbox_answer"),
    # Pathways (manage_pathways; partners read theirs)
    path("pathways/", views_pathways.pathway_list, name="pathways"),
    path("pathways/new/", views_pathways.pathway_edit, name="pathway_create"),
    path("pathways/<int:pk>/", views_pathways.pathway_edit, name="pathway_edit"),
    # Metrics (view_aggregates)
    path("metrics/", views_metrics.metrics, name="metrics"),
]
