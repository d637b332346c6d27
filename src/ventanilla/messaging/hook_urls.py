from django.urls import path

from ventanilla.messaging import webhooks

urlpatterns = [path("<uuid:key>/", webhooks.hook, name="messaging_hook")]
