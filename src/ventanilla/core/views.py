"""Pages that belong to no domain: the dashboard, health checks and the audit log."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    from ventanilla.accounts.models import Membership, Organisation, Site

    context = {
        "organisations": Organisation.objects.visible_to(request.user),
        "site_count": Site.objects.visible_to(request.user).count(),
        "memberships": Membership.objects.filter(
            user__pk=int(request.user.pk or 0), is_active=True
        ).select_related("organisation"),
    }
    return render(request, "core/dashboard.html", context)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up; says nothing about its dependencies (that is /readyz)."""
    return JsonResponse({"status": "ok"})


def _broker_ok() -> bool:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return True


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: the database answers, and the broker too when one is configured."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # any database failure means not ready
        checks["database"] = "unavailable"
    if settings.CELERY_BROKER_URL:
        try:
            _broker_ok()
            checks["broker"] = "ok"
        except Exception:  # any broker failure means not ready
            checks["broker"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def audit_entries_for(user: object) -> object:
    """Auditors and administrators read their organisations' entries; superusers read everything."""
    scope = scope_for(user)  # type: ignore[arg-type]
    organisations = scope.organisations(Permission.VIEW_AUDIT_LOG)
    if scope.is_superuser:
        return AuditEntry.objects.all()
    if not organisations:
        raise PermissionDenied
    from ventanilla.accounts.models import Membership

    members = Membership.objects.filter(organisation_id__in=organisations).values("user_id")
    # A member's own entries that belong to no organisation (sign-ins, tokens) are theirs to audit; what a
    # member of two organisations did in the other one is that organisation's business.
    return AuditEntry.objects.filter(
        Q(organisation_id__in=organisations) | Q(organisation_id__isnull=True, actor_id__in=members)
    )


def _parse_date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = audit_entries_for(request.user)
    params = request.GET
    if params.get("actor", "").isdecimal():  # not isdigit(): int("²") raises
        entries = entries.filter(actor_id=int(params["actor"]))  # type: ignore[attr-defined]
    if params.get("action") in AuditAction.values:
        entries = entries.filter(action=params["action"])  # type: ignore[attr-defined]
    if params.get("object_type"):
        entries = entries.filter(object_type=params["object_type"])  # type: ignore[attr-defined]
    if params.get("object_id"):
        entries = entries.filter(object_id=params["object_id"])  # type: ignore[attr-defined]
    date_from, date_to = _parse_date(params.get("from")), _parse_date(params.get("to"))
    if date_from:
        entries = entries.filter(at__date__gte=date_from)  # type: ignore[attr-defined]
    if date_to:
        entries = entries.filter(at__date__lte=date_to)  # type: ignore[attr-defined]
    page = Paginator(entries.order_by("-id"), 50).get_page(params.get("page"))  # type: ignore[attr-defined]
    query = params.copy()
    query.pop("page", None)
    context = {"page": page, "actions": AuditAction.choices, "params": params, "query": query.urlencode()}
    template = "core/audit_log_results.html" if request.htmx else "core/audit_log.html"  # type: ignore[attr-defined]
    return render(request, template, context)
