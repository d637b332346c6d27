"""Root URLs: staff pages under a language prefix (/en/, /ar/ ...); API, health and static without."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from ventanilla.core import views as core_views
from ventanilla.hub import views as hub_views
from ventanilla.registration import openrosa_urls

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/", include("ventanilla.api.urls")),
    # SMS and WhatsApp gateways post here: /hooks/<channel key>/
    path("hooks/", include("ventanilla.messaging.hook_urls")),
    # ODK Collect / KoboCollect (OpenRosa): the phone's server URL is https://<host>/openrosa/
    path("openrosa/", include("ventanilla.registration.openrosa_urls")),
    # The compact published directory: one file for every language, so browsers and proxies cache it once.
    path("directory.json", hub_views.directory_dataset, name="directory_dataset"),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("areas/", include("ventanilla.areas.urls")),
    path("staff/directory/", include("ventanilla.directory.urls")),
    path("staff/content/", include("ventanilla.hub.staff_urls")),
    path("staff/forms/", include("ventanilla.questionnaires.urls")),
    path("staff/people/exports/", include("ventanilla.registration.export_urls")),
    path("staff/people/", include("ventanilla.registration.urls")),
    path("staff/referrals/", include("ventanilla.referrals.urls")),
    path("staff/cases/", include("ventanilla.cases.urls")),
    path("staff/inbox/", include("ventanilla.messaging.urls_inbox")),
    path("staff/alerts/", include("ventanilla.messaging.urls_alerts")),
    path("staff/channels/", include("ventanilla.messaging.urls_channels")),
    path("staff/insights/messages/", include("ventanilla.messaging.urls_insights")),
    path("", include("ventanilla.messaging.urls_public")),
    path("", include("ventanilla.referrals.link_urls")),
    path("staff/openrosa/", include(openrosa_urls.staff_urlpatterns)),
    path("", include("ventanilla.accounts.urls")),
    path("", include("ventanilla.core.urls")),
    path("", include("ventanilla.hub.urls")),
    prefix_default_language=True,
)
