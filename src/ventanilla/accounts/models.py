"""Organisations, their sites, the people who work there and what each may do."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import BlindIndexedModel, BlindIndexField, EncryptedTextField
from ventanilla.core.places import place_errors
from ventanilla.core.roles import Permission, Role
from ventanilla.core.scoping import Scope, ScopedModel


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        if not username:
            raise ValueError("A username is required.")
        user = self.model(username=self.model.normalize_username(username), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(username, password, **extra)


class User(BlindIndexedModel, AbstractBaseUser, PermissionsMixin):
    """A person who works with Ventanilla (staff of an organisation), never a migrant.

    Staff are at risk too in some places, so their name, email and phone are encrypted like any
    personal data; the username is the only clear identifier.
    """

    username = models.CharField(
        _("username"), max_length=150, unique=True, validators=[UnicodeUsernameValidator()]
    )
    full_name = EncryptedTextField(_("full name"), blank=True)
    email = EncryptedTextField(_("email"), blank=True)
    email_index = BlindIndexField(source="email", purpose="user.email")
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_index = BlindIndexField(source="phone", purpose="user.phone", phone=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the Django admin"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    must_change_password = models.BooleanField(_("must change password at next sign-in"), default=False)
    totp_secret = EncryptedTextField(blank=True, editable=False)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.username

    @property
    def has_two_factor(self) -> bool:
        return self.totp_confirmed_at is not None


class OrganisationKind(models.TextChoices):
    GOVERNMENT = "government", _("Government agency")
    UN_AGENCY = "un_agency", _("UN agency")
    INTERNATIONAL = "international", _("International organisation")
    NGO = "ngo", _("NGO / civil society")
    SERVICE_PROVIDER = "service_provider", _("Service provider")


class Organisation(ScopedModel):
    """An organisation that takes part in a migrant resource and response mechanism."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=OrganisationKind.choices)
    country = models.ForeignKey(
        "areas.AdministrativeArea",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"level": 0},
        related_name="+",
        verbose_name=_("country"),
    )
    retention_days = models.PositiveIntegerField(
        _("keep personal data for (days)"),
        default=730,
        help_text=_(
            "After this many days without a new registration, a person's personal data is erased "
            "and only the de-identified record is kept."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.short_name or self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(None, organisation="pk")

    @property
    def audit_organisation_id(self) -> int:
        return self.pk


class SiteKind(models.TextChoices):
    RESOURCE_CENTRE = "resource_centre", _("Migrant resource centre")
    INFORMATION_HUB = "information_hub", _("Information hub")
    MOBILE_TEAM = "mobile_team", _("Mobile team")
    HOTLINE = "hotline", _("Hotline")
    SHELTER = "shelter", _("Shelter")
    CLINIC = "clinic", _("Clinic")


class Site(ScopedModel):
    """A place (or team) where an organisation works with migrants."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="sites", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=20, choices=SiteKind.choices)
    area = models.ForeignKey(
        "areas.AdministrativeArea",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sites",
        verbose_name=_("administrative area"),
    )
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="site_unique_name_per_organisation"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="site_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="site_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Name the field at fault (the check constraints alone give an error without a field)."""
        errors = place_errors(self.latitude, self.longitude, self.time_zone)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(Permission.VIEW_SITES, organisation="organisation")


class Membership(ScopedModel):
    """A user's role in one organisation, limited to some sites for site-scoped roles."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    sites = models.ManyToManyField(Site, blank=True, related_name="memberships", verbose_name=_("sites"))
    handles_sensitive_complaints = models.BooleanField(
        _("focal point for sensitive complaints"),
        default=False,
        help_text=_(
            "Reads complaints of abuse, exploitation or fraud by staff (needs a role that handles messages)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "user__username", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.organisation})"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Members' managers see their organisation's memberships; everyone sees their own."""
        return scope.organisation_q(Permission.MANAGE_MEMBERS, organisation="organisation") | Q(
            user_id=scope.user_id
        )


class RolePolicy(models.Model):
    """Rules an administrator sets for one role in their organisation (for now: two-factor)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="role_policies", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    requires_two_factor = models.BooleanField(_("requires two-factor authentication"), default=False)

    class Meta:
        verbose_name = _("role policy")
        verbose_name_plural = _("role policies")
        constraints = [models.UniqueConstraint(fields=["organisation", "role"], name="role_policy_unique")]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.role}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored, so a database copy grants no access."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class LoginFailure(models.Model):
    """A failed sign-in, kept briefly to slow down password guessing (keyed hashes, no names)."""

    username_hash = models.CharField(max_length=64, db_index=True)
    address_hash = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"failed sign-in at {self.at:%Y-%m-%d %H:%M}"
