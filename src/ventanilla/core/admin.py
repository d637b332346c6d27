"""The audit log in the admin site: read-only, never editable or deletable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from ventanilla.core.models import AuditEntry


def _sign_in_through_ventanilla(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin site's own login would skip two-factor, throttling and the audit: use ours."""
    return redirect_to_login(request.get_full_path(), reverse("accounts:login"))


admin.site.login = _sign_in_through_ventanilla  # type: ignore[method-assign]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ["id", "at", "actor_id", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["object_type", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
