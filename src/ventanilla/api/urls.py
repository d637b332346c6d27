"""Assembles every app's API routes under /api/v1/, plus the OpenAPI schema and its docs page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from ventanilla.accounts import api as accounts_api
from ventanilla.areas import api as areas_api
from ventanilla.cases import api as cases_api
from ventanilla.directory import api as directory_api
from ventanilla.hub import api as hub_api
from ventanilla.messaging import api as messaging_api
from ventanilla.messaging import api_insights as message_insights_api
from ventanilla.questionnaires import api as questionnaires_api
from ventanilla.referrals import api as referrals_api
from ventanilla.referrals import api_metrics as referral_metrics_api
from ventanilla.registration import api as registration_api

router = DefaultRouter()
router.register("organisations", accounts_api.OrganisationViewSet, basename="organisation")
router.register("sites", accounts_api.SiteViewSet, basename="site")
router.register("memberships", accounts_api.MembershipViewSet, basename="membership")
router.register("me", accounts_api.MeViewSet, basename="me")
router.register("areas", areas_api.AreaViewSet, basename="area")
router.register("service-points", directory_api.ServicePointViewSet, basename="service-point")
router.register("service-providers", directory_api.ServiceProviderViewSet, basename="service-provider")
router.register("articles", hub_api.ArticleViewSet, basename="article")
router.register("alerts", hub_api.AlertViewSet, basename="alert")
router.register("content-items", hub_api.ContentItemViewSet, basename="content-item")
router.register("forms", questionnaires_api.FormViewSet, basename="form")
router.register("registrations", registration_api.RegistrationViewSet, basename="registration")
router.register("persons", registration_api.PersonViewSet, basename="person")
router.register("flags", registration_api.FlagViewSet, basename="flag")
router.register("referrals", referrals_api.ReferralViewSet, basename="referral")
router.register("pathways", referrals_api.PathwayViewSet, basename="pathway")
router.register("webhooks", referrals_api.WebhookViewSet, basename="webhook")
router.register("cases", cases_api.CaseViewSet, basename="case")
router.register("conversations", messaging_api.ConversationViewSet, basename="conversation")
router.register("response-times", messaging_api.ResponseTimesViewSet, basename="response-times")
router.register("contacts", messaging_api.ContactViewSet, basename="contact")
router.register("channels", messaging_api.ChannelViewSet, basename="channel")
router.register("referral-metrics", referral_metrics_api.ReferralMetricsViewSet, basename="referral-metrics")
router.register("message-insights", message_insights_api.MessageInsightsViewSet, basename="message-insights")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's script as a file, so the page passes the CSP with no inline code.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
