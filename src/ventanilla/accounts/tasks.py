"""Background jobs of the accounts app."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership


@shared_task(name="ventanilla.accounts.notify_access_changed")
def notify_access_changed(membership_id: int) -> bool:
    """Tell a user their access changed, so an unexpected grant is noticed by the person it names.

    Safe to run twice: the message says only what the access is now.
    """
    membership = Membership.objects.select_related("user", "organisation").filter(pk=membership_id).first()
    if membership is None or not membership.user.email:
        return False
    user = membership.user
    with translation.override(user.preferred_language):
        if membership.is_active:
            body = _("You now have the role %(role)s in %(organisation)s.") % {
                "role": membership.get_role_display(),
                "organisation": membership.organisation,
            }
        else:
            body = _("Your role %(role)s in %(organisation)s has been removed.") % {
                "role": membership.get_role_display(),
                "organisation": membership.organisation,
            }
        subject = _("Your Ventanilla access changed")
        body += "\n\n" + _("If you did not expect this, tell your administrator.")
    send_mail(subject, body, None, [user.email])
    return True


@shared_task(name="ventanilla.accounts.purge_login_failures")
def purge_login_failures() -> int:
    """Failed sign-ins are kept only as long as throttling needs them."""
    from ventanilla.accounts.services import purge_login_failures as purge

    return purge()
