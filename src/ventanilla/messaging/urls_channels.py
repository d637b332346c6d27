"""Channel pages: configuration and complaint focal points (administrators), calls and social media
messages entered by staff (message handlers)."""

from django.urls import path

from ventanilla.messaging import views_channels

app_name = "channels"

urlpatterns = [
    path("", views_channels.channel_list, name="list"),
    path("new/", views_channels.channel_create, name="create"),
    path("<int:pk>/", views_channels.channel_edit, name="edit"),
    path("<int:pk>/rotate-key/", views_channels.rotate_key, name="rotate_key"),
    path("focal-points/", views_channels.focal_points, name="focal_points"),
    path("response-times/", views_channels.response_times_page, name="response_times"),
    path("calls/new/", views_channels.call_new, name="call_new"),
    path("social/new/", views_channels.social_new, name="social_new"),
    path("social/import/", views_channels.social_import, name="social_import"),
]
