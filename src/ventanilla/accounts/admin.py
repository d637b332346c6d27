"""Django admin for superusers: changes still go through the services, so they are audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ventanilla.accounts.models import Membership, Organisation, RolePolicy, Site, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction


class AuditedAdmin(admin.ModelAdmin[Any]):
    """Every save and delete in the admin site leaves an audit entry with the changed field names."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        action = AuditAction.UPDATE if change else AuditAction.CREATE
        audit.record_change(action, obj, by=request.user, fields=form.changed_data, detail={"via": "admin"})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.record_change(AuditAction.DELETE, obj, by=request.user, detail={"via": "admin"})
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            audit.record_change(AuditAction.DELETE, obj, by=request.user, detail={"via": "admin"})
        super().delete_queryset(request, queryset)


@admin.register(User)
class UserAdmin(AuditedAdmin):
    list_display = ["username", "is_active", "is_staff", "preferred_language", "date_joined"]
    search_fields = ["username"]
    fields = ["username", "full_name", "email", "phone", "preferred_language", "is_active", "is_staff"]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        """Opening a user shows their decrypted name and contacts: that is a read of personal data."""
        user = self.get_object(request, object_id)
        if user is not None and request.method == "GET":
            audit.record_read(user, by=request.user, purpose="admin")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["name", "kind", "country", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name"]


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["name", "organisation", "kind", "area", "is_active"]
    list_filter = ["kind", "organisation"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "organisation", "role", "is_active"]
    list_filter = ["role", "organisation"]
    filter_horizontal = ["sites"]


@admin.register(RolePolicy)
class RolePolicyAdmin(AuditedAdmin):
    list_display = ["organisation", "role", "requires_two_factor"]
