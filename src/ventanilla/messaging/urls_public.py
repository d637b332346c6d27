"""The public feedback form, at the root of the language prefix (/<lang>/feedback/)."""

from django.urls import path

from ventanilla.messaging import views_feedback

urlpatterns = [
    path("feedback/", views_feedback.feedback, name="feedback"),
    path("feedback/thanks/", views_feedback.thanks, name="feedback_thanks"),
]
