"""The partner's inbox: referrals to the organisations where the user receives referrals, while active.

A partner reads the referral's stored projection and the need text, never the person's record, and
never the person's reference (VT-…): the referral reference (RF-…) is the code the person shows at the
desk. Every answer goes through `services.transition` / `services.update_appointment`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ventanilla.accounts.models import User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.referrals import lifecycle, services
from ventanilla.referrals.forms_partner import APPOINTMENT, AnswerForm, InboxFilterForm
from ventanilla.referrals.lifecycle import Side
from ventanilla.referrals.models import Referral, ReferralLink, ReferralStatus, Urgency, Via

PAGE_SIZE = 50


def _require_receiver(request: HttpRequest) -> None:
    if not scope_for(request.user).has(Permission.RECEIVE_REFERRALS):
        raise PermissionDenied


def _inbox_referral(request: HttpRequest, reference: str) -> Referral:
    """The referral if it is in the user's inbox now (the read is audited), else 404."""
    pk = services.partner_inbox(request.user).filter(reference=reference).values_list("pk", flat=True).first()
    if pk is None:
        raise Http404
    referral: Referral = Referral.objects.select_related("organisation", "site", "service_point").get_for(
        request.user, pk
    )
    return referral


def partner_context(referral: Referral, *, action_url: str) -> dict[str, Any]:
    """What the inbox page and the link page show: the same content and the same answers."""
    actions = set(lifecycle.next_statuses(referral.status, Side.PARTNER))
    return {
        "referral": referral,
        "late": referral.status == ReferralStatus.SENT
        and referral.respond_by is not None
        and referral.respond_by < timezone.now(),
        "urgent": referral.urgency == Urgency.URGENT,
        "events": list(referral.events.order_by("at", "pk").only("to_status", "at", "referral_id")),
        "action_url": action_url,
        "may_accept": ReferralStatus.ACCEPTED in actions,
        "may_decline": ReferralStatus.DECLINED in actions,
        "may_start": ReferralStatus.IN_PROGRESS in actions,
        "may_deliver": ReferralStatus.DELIVERED in actions,
        "may_not_deliver": ReferralStatus.NOT_DELIVERED in actions,
        "decline_reasons": list(lifecycle.DECLINE_REASONS.items()),
        "not_delivered_reasons": list(lifecycle.NOT_DELIVERED_REASONS.items()),
    }


def apply_answer(
    request: HttpRequest, referral: Referral, *, by: User | None, via: str, link: ReferralLink | None = None
) -> bool:
    """One answer from the inbox or a link: a status change (with the appointment when accepting) or
    the appointment alone. All of it or nothing; the outcome goes to the user as a message."""
    form = AnswerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return False
    action = form.cleaned_data["action"]
    appointment = form.cleaned_data["appointment"].strip()
    try:
        with transaction.atomic():
            if action == APPOINTMENT:
                services.update_appointment(referral, appointment=appointment, by=by, via=via, link=link)
            else:
                services.transition(
                    referral,
                    action,
                    by=by,
                    via=via,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    link=link,
                )
                if action == ReferralStatus.ACCEPTED and appointment and appointment != referral.appointment:
                    services.update_appointment(referral, appointment=appointment, by=by, via=via, link=link)
    except services.ReferralError as error:
        referral.refresh_from_db(fields=["status", "appointment"])
        messages.error(request, str(error))
        return False
    if action == APPOINTMENT:
        messages.success(request, _("Where and when to go is saved."))
    else:
        # "final": the answer that closed the referral for the partner, the one message a dead link shows
        messages.success(
            request,
            _("Referral %(reference)s: %(status)s.")
            % {"reference": referral.reference, "status": ReferralStatus(action).label},
            extra_tags="" if referral.status in lifecycle.PARTNER_VISIBLE else "final",
        )
    return True


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    _require_receiver(request)
    form = InboxFilterForm(request.GET)
    referrals = services.partner_inbox(request.user)
    if form.is_valid():
        if form.cleaned_data["status"]:
            referrals = referrals.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["service"]:
            referrals = referrals.filter(category=form.cleaned_data["service"])
    referrals = (
        referrals.select_related("organisation", "site")
        .defer("shared", "need", "appointment", "outcome_note")
        .annotate(
            urgent_first=Case(
                When(urgency=Urgency.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("urgent_first", F("sent_at").desc(nulls_last=True), "-pk")
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    now = timezone.now()
    for referral in rows:
        referral.late = (  # type: ignore[attr-defined]
            referral.status == ReferralStatus.SENT
            and referral.respond_by is not None
            and referral.respond_by < now
        )
    if rows:
        audit.record(
            AuditAction.READ,
            by=request.user,
            object_type="referrals.referral",
            detail={"list": True, "inbox": True, "count": len(rows)},
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/partner_inbox.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


@login_required
@require_GET
def inbox_detail(request: HttpRequest, reference: str) -> HttpResponse:
    _require_receiver(request)
    referral = _inbox_referral(request, reference)
    context = partner_context(referral, action_url=reverse("referrals:inbox_answer", args=[reference]))
    return render(request, "referrals/partner_detail.html", context)


@login_required
@require_POST
def answer(request: HttpRequest, reference: str) -> HttpResponse:
    _require_receiver(request)
    referral = _inbox_referral(request, reference)
    apply_answer(request, referral, by=request.user, via=Via.PARTNER)  # type: ignore[arg-type]
    if services.partner_inbox(request.user).filter(pk=referral.pk).exists():
        return redirect("referrals:inbox_detail", reference)
    return redirect("referrals:inbox")
