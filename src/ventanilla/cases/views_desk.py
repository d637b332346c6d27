"""The desk pages, not about one case: transfers waiting for an answer, the daily overdue list, and the
user's in-app notices. Lists are audited once with their size.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.cases import overdue as overdue_lists
from ventanilla.cases import services
from ventanilla.cases.models import CaseTransfer, TransferStatus
from ventanilla.cases.views import PAGE_SIZE, _has_role, _require, _user
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, Role
from ventanilla.messaging import services as messaging
from ventanilla.messaging.models import Notice

TRANSFERS_SHOWN = 50


# --- transfers --------------------------------------------------------------------------------------


@login_required
def transfers(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    user = request.user
    related = ("case", "from_organisation", "from_site", "to_organisation", "to_site", "requested_by")
    incoming = list(
        services.incoming_transfers(user)
        .select_related(*related)
        .order_by("-requested_at", "-pk")[:TRANSFERS_SHOWN]
    )
    sent = list(
        services.sent_transfers(user)
        .exclude(pk__in=[t.pk for t in incoming])
        .select_related(*related)
        .order_by("-requested_at", "-pk")[:TRANSFERS_SHOWN]
    )
    visible_cases = set(
        services.cases(user).filter(pk__in={t.case_id for t in incoming + sent}).values_list("pk", flat=True)
    )
    for row in incoming + sent:
        row.case_visible = row.case_id in visible_cases  # type: ignore[attr-defined]
        row.may_decide = (  # type: ignore[attr-defined]
            row.status == TransferStatus.PENDING
            and services.may_edit_at(_user(request), row.to_organisation_id, row.to_site_id)
        )
    if incoming or sent:
        audit.record(
            AuditAction.READ,
            by=user,
            object_type="cases.casetransfer",
            detail={"list": True, "count": len(incoming) + len(sent)},
        )
    return render(request, "cases/transfers.html", {"incoming": incoming, "sent": sent})


@login_required
@require_POST
def decide_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    decision = request.POST.get("decision")
    if decision not in {"accept", "decline"}:
        messages.error(request, _("Choose to accept or decline."))
        return redirect("cases:transfers")
    row: CaseTransfer = CaseTransfer.objects.get_for(request.user, pk, purpose="decide")
    try:
        services.decide_transfer(row, accept=decision == "accept", by=_user(request))
    except services.CasePermissionError:
        raise PermissionDenied from None
    except services.CaseError as error:
        messages.error(request, str(error))
        return redirect("cases:transfers")
    if decision == "accept":
        messages.success(
            request,
            _("Case %(reference)s and the person's record are now at your site.")
            % {"reference": row.case.reference},
        )
    else:
        messages.success(request, _("The transfer is declined; the case stays where it was."))
    return redirect("cases:transfers")


# --- the overdue list -------------------------------------------------------------------------------


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    user = request.user
    default = "sites" if _has_role(user, Role.SITE_MANAGER) else "mine"
    show = request.GET.get("show") or default
    if show not in {"mine", "sites"}:
        show = default
    now = timezone.now()
    found = overdue_lists.overdue_list(user, now=now, mine=show == "mine")
    if not found.empty:
        audit.record(
            AuditAction.READ,
            by=user,
            object_type="cases.overdue",
            detail={"list": True, "referrals": found.referral_count, "tasks": found.task_count},
        )
    return render(
        request,
        "cases/overdue.html",
        {
            "found": found,
            "show": show,
            "now": now,
            "limit": overdue_lists.LIMIT,
            "more_referrals": found.referral_count > len(found.referrals),
            "more_tasks": found.task_count > len(found.tasks),
        },
    )


# --- notices ----------------------------------------------------------------------------------------


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    """The user's own in-app notices; a POST marks them all read."""
    if request.method == "POST":
        count = messaging.mark_read(request.user)
        if count:
            messages.success(request, _("All notices are marked read."))
        return redirect("cases:notices")
    rows = Notice.objects.filter(user=_user(request)).order_by("-created_at", "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    unread = rows.filter(read_at__isnull=True).exists()
    return render(request, "cases/notices.html", {"page": page, "unread": unread})
