"""Administrative areas in the admin: reference data loaded by `ventanilla import-areas`, so read-mostly.

The hierarchy (P-code, level, parent, country) comes from the COD-AB import and cannot be edited here;
only the names can be corrected. Areas are neither added nor deleted by hand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ventanilla.areas.models import AdministrativeArea


@admin.register(AdministrativeArea)
class AdministrativeAreaAdmin(admin.ModelAdmin):
    list_display = ("pcode", "name", "level", "parent", "country_pcode")
    list_filter = ("level", "country_pcode")
    search_fields = ("pcode", "name")
    ordering = ("pcode",)
    list_select_related = ("parent",)
    list_per_page = 100
    fields = ("pcode", "level", "parent", "country_pcode", "name", "names")
    readonly_fields = ("pcode", "level", "parent", "country_pcode")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
