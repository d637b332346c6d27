"""Administrative areas with their humanitarian P-codes (country → level 1 → level 2)."""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class AdministrativeArea(models.Model):
    """One area of the common operational dataset (COD-AB), identified by its P-code.

    Reference data, not owned by an organisation: every signed-in user may read it.
    """

    class Level(models.IntegerChoices):
        COUNTRY = 0, _("Country")
        REGION = 1, _("First level (state, department, region)")
        DISTRICT = 2, _("Second level (municipality, district)")

    pcode = models.CharField(_("P-code"), max_length=20, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    name = models.CharField(_("name"), max_length=200)
    # Names in other languages as the COD gives them ({"es": "...", "fr": "..."}).
    names = models.JSONField(_("names by language"), default=dict, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    country_pcode = models.CharField(_("country P-code"), max_length=20, db_index=True)

    class Meta:
        ordering = ["pcode"]
        verbose_name = _("administrative area")
        verbose_name_plural = _("administrative areas")
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=0, level__lte=2), name="area_level_0_to_2"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.pcode})"

    @property
    def display_name(self) -> str:
        """The name in the active language when the COD has it, else the English name."""
        language = translation.get_language() or "en"
        return self.names.get(language[:2]) or self.name
