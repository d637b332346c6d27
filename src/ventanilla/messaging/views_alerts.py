"""Urgent alert pages: the open alerts of the user's organisations (acknowledged with one button) and
the duty rota. Who sees and may do what is decided in `messaging.alerts`."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Organisation, User
from ventanilla.messaging import alerts, urgent
from ventanilla.messaging.forms_alerts import DutyShiftForm
from ventanilla.messaging.models_inbox import DutyShift

RECENT = datetime.timedelta(hours=24)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not alerts.may_see_alerts(user):
        raise PermissionDenied
    now = timezone.now()
    visible = alerts.visible_alerts(user).select_related("conversation", "acknowledged_by")
    open_alerts = list(visible.filter(acknowledged_at__isnull=True).order_by("-raised_at", "-pk")[:200])
    recent = list(visible.filter(acknowledged_at__gte=now - RECENT).order_by("-acknowledged_at", "-pk")[:50])
    rows: list[dict[str, Any]] = []
    for alert in open_alerts + recent:
        rows.append(
            {
                "alert": alert,
                "reason": urgent.reason_label(alert.reason),
                "url": alerts.conversation_url(alert.conversation_id),
                "overdue": alert.acknowledged_at is None and alert.escalate_at <= now,
            }
        )
    return render(
        request,
        "messaging/alerts_list.html",
        {
            "open_rows": rows[: len(open_alerts)],
            "recent_rows": rows[len(open_alerts) :],
            "may_change_duty": bool(alerts.duty_organisations(user)),
        },
    )


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    if not alerts.may_see_alerts(user):
        raise PermissionDenied
    alert = alerts.visible_alerts(user).filter(pk=pk).first()
    if alert is None:
        raise Http404
    try:
        alerts.acknowledge(alert, by=user)
    except alerts.AlertPermissionError:
        raise PermissionDenied from None
    except alerts.AlertError as error:
        messages.error(request, str(error))
        return redirect("alerts:list")
    messages.success(
        request,
        _("You acknowledged the alert on conversation %(id)s: nobody else will be alerted.")
        % {"id": alert.conversation_id},
    )
    return redirect("alerts:list")


def _duty_form(user: User, data: Any = None) -> DutyShiftForm:
    organisation_ids = alerts.duty_organisations(user)
    now = timezone.localtime().replace(second=0, microsecond=0)
    return DutyShiftForm(
        data,
        organisations=Organisation.objects.filter(pk__in=organisation_ids).order_by("name"),
        staff=alerts.duty_candidates(user),
        initial={"starts_at": now, "ends_at": now + datetime.timedelta(hours=12)},
    )


@login_required
def duty(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not alerts.duty_organisations(user):
        raise PermissionDenied
    form = _duty_form(user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                alerts.add_shift(
                    form.chosen_organisation().pk,
                    user=data["user"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    by=user,
                )
            except alerts.AlertPermissionError:
                raise PermissionDenied from None
            except alerts.AlertError as error:
                form.add_error(error.field or None, str(error))
            else:
                messages.success(request, _("The duty shift is added."))
                return redirect("alerts:duty")
        status = 422
    now = timezone.now()
    shifts = list(alerts.shifts_for(user, now=now))
    for shift in shifts:
        shift.is_current = shift.starts_at <= now  # type: ignore[attr-defined]
    return render(request, "messaging/alerts_duty.html", {"form": form, "shifts": shifts}, status=status)


@login_required
@require_POST
def remove_shift(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    organisations = alerts.duty_organisations(user)
    if not organisations:
        raise PermissionDenied
    shift = DutyShift.objects.filter(pk=pk, organisation_id__in=organisations).first()
    if shift is None:
        raise Http404
    alerts.remove_shift(shift, by=user)
    messages.success(request, _("The duty shift is removed."))
    return redirect("alerts:duty")
