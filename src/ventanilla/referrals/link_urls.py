"""The page a partner without an account opens from a referral link: /<language>/r/<token>/."""

from django.urls import path

from ventanilla.referrals import views_link

urlpatterns = [
    path("r/<str:token>/", views_link.link_page, name="referral_link"),
]
