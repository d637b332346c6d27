"""Device credentials: the passwords ODK Collect and KoboCollect use to reach the OpenRosa API.

Why a password of its own for each phone: ODK Collect authenticates with HTTP Digest, and the server
side of Digest needs HA1 = MD5(username:realm:password). Django keeps only a salted, slow hash of a
staff member's password, from which HA1 cannot be computed (nor should it be: MD5 would weaken the
sign-in password). So each phone gets a generated password, shown once; the server keeps only its
HA1, encrypted at rest like personal data, and the phone can be revoked without touching the staff
member's own sign-in. A credential names the organisation and site its submissions are registered at.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import EncryptedTextField


class DeviceCredential(models.Model):
    """One phone's Digest credential: who registers through it, and at which site."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_credentials"
    )
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("device name"), max_length=80)
    username = models.CharField(_("username"), max_length=160, unique=True)
    ha1 = EncryptedTextField(_("digest secret"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("device credential")
        verbose_name_plural = _("device credentials")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.username

    @property
    def audit_organisation_id(self) -> int:
        return int(self.organisation_id)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
