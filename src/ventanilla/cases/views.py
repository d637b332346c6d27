"""Case pages: the list, opening a case, the case itself and its changes (transfers waiting, the overdue
list and notices are in `views_desk`).

Cases and people are reached through the scoping layer (`get_for` audits the read); lists are audited
once with their size. Permission checks and rules live in `cases.services`; these views read the form,
call one service and show its refusal next to the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Site, User
from ventanilla.cases import services
from ventanilla.cases.forms import (
    ALL,
    MINE,
    CaseEditForm,
    CaseFilterForm,
    CloseCaseForm,
    NoteForm,
    OpenCaseForm,
    ReassignForm,
    TaskForm,
    TransferForm,
)
from ventanilla.cases.models import Case, CaseStatus, TransferStatus
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, Role
from ventanilla.core.scoping import scope_for
from ventanilla.referrals.models import Referral
from ventanilla.registration.models import Person

PAGE_SIZE = 50
TRANSFERS_SHOWN = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _require(request: HttpRequest, permission: Permission) -> None:
    if not scope_for(request.user).has(permission):
        raise PermissionDenied


def _has_role(user: Any, role: str) -> bool:
    return any(grant.role == role for grant in scope_for(user).grants)


def _person(request: HttpRequest, reference: str, *, purpose: str) -> Person:
    pk = (
        Person.objects.visible_to(request.user)
        .filter(reference=reference)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise Http404
    person: Person = Person.objects.get_for(request.user, pk, purpose=purpose)
    return person


def _case(request: HttpRequest, reference: str, *, purpose: str) -> Case:
    pk = (
        Case.objects.visible_to(request.user).filter(reference=reference).values_list("pk", flat=True).first()
    )
    if pk is None:
        raise Http404
    case: Case = Case.objects.get_for(request.user, pk, purpose=purpose)
    return case


def _show_error(form: forms.Form, error: services.CaseError) -> None:
    """The service's refusal next to the field it names (or above the form)."""
    form.add_error(error.field if error.field in form.fields else None, str(error))


def _refused_on_detail(
    request: HttpRequest, case: Case, form: forms.Form, error: services.CaseError, **forms_shown: Any
) -> HttpResponse:
    """A refusal of a form on the case page: next to its field, or as a message when about the case
    itself (a closed case shows no forms)."""
    if error.field in form.fields:
        form.add_error(error.field, str(error))
        return _detail(request, case, status=422, **forms_shown)
    messages.error(request, str(error))
    return redirect("cases:detail", case.reference)


def _visible_sites(user: Any) -> Any:
    scope = scope_for(user)
    return Site.objects.filter(
        scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="pk")
    )


# --- the list ---------------------------------------------------------------------------------------


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    user = request.user
    default_whose = MINE if _has_role(user, Role.CASEWORKER) else ALL
    data = request.GET.copy()
    data.setdefault("whose", default_whose)
    form = CaseFilterForm(data, sites=_visible_sites(user))
    rows = services.cases(user)
    if form.is_valid():
        rows = services.filter_cases(
            rows,
            user=user,
            mine=form.cleaned_data["whose"] == MINE,
            status=form.cleaned_data["status"],
            site=form.cleaned_data["site"],
        )
    else:
        rows = services.filter_cases(rows, user=user, mine=default_whose == MINE)
    today = timezone.localdate()
    rows = rows.select_related("person", "owner", "site").annotate(
        open_tasks=Count("tasks", filter=Q(tasks__done_at__isnull=True)),
        overdue_tasks=Count("tasks", filter=Q(tasks__done_at__isnull=True, tasks__due_on__lt=today)),
    )
    page = Paginator(rows.order_by("-opened_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    cases = list(page)
    if cases:
        audit.record(
            AuditAction.READ, by=user, object_type="cases.case", detail={"list": True, "count": len(cases)}
        )
    query = data.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/case_list.html",
        {"form": form, "page": page, "cases": cases, "query": query.urlencode()},
    )


# --- opening a case ---------------------------------------------------------------------------------


@login_required
def open_case(request: HttpRequest, person_reference: str) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    person = _person(request, person_reference, purpose="open_case")
    existing = services.cases(request.user).filter(person=person).exclude(status=CaseStatus.CLOSED).first()
    staff = services.case_staff(person.organisation_id, person.site_id)
    me = _user(request)
    initial = {"owner": me.pk} if staff.filter(pk=me.pk).exists() else {}
    form = OpenCaseForm(request.POST or None, staff=staff, initial=initial)
    status = 200
    if request.method == "POST" and existing is None:
        if form.is_valid():
            try:
                case = services.open_case(
                    person,
                    by=me,
                    owner=form.cleaned_data["owner"],
                    needs=form.cleaned_data["needs"],
                    plan=form.cleaned_data["plan"],
                )
            except services.CasePermissionError:
                raise PermissionDenied from None
            except services.CaseError as error:
                _show_error(form, error)
            else:
                messages.success(request, _("Case %(reference)s is open.") % {"reference": case.reference})
                return redirect("cases:detail", case.reference)
        status = 422
    elif request.method == "POST":
        status = 409
    return render(
        request,
        "cases/open.html",
        {"person": person, "form": form, "existing": existing},
        status=status,
    )


# --- the case ---------------------------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    case: Case,
    *,
    task_form: TaskForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    staff = services.case_staff(case.organisation_id, case.site_id)
    tasks = list(case.tasks.select_related("assigned_to").order_by("done_at", "due_on", "pk"))
    for task in tasks:
        task.overdue = task.done_at is None and task.due_on < today
    # The case's referrals and the person's others: one person, so one filter holds both.
    referrals = list(
        Referral.objects.visible_to(user)
        .filter(person_id=case.person_id)
        .select_related("pathway__provider")
        .order_by("-created_at", "-pk")
    )
    if referrals:
        audit.record(
            AuditAction.READ,
            by=user,
            object_type="referrals.referral",
            detail={"list": True, "count": len(referrals), "case": case.pk},
        )
    person_visible = Person.objects.visible_to(user).filter(pk=case.person_id).exists()
    may_edit = services.may_edit_at(_user(request), case.organisation_id, case.site_id)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "person_visible": person_visible,
            "tasks": tasks,
            "notes": list(case.notes.select_related("author").order_by("-created_at", "-pk")),
            "referrals": referrals,
            "transfers": list(
                case.transfers.select_related("to_site", "to_organisation", "requested_by", "decided_by")
            ),
            "may_edit": may_edit and not case.is_closed,
            "task_form": task_form
            or TaskForm(staff=staff, initial={"assigned_to": case.owner_id, "due_on": today}),
            "note_form": note_form or NoteForm(),
        },
        status=status,
    )


@login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    return _detail(request, _case(request, reference, purpose="view"))


def _editable(request: HttpRequest, reference: str, *, purpose: str) -> Case | HttpResponse:
    """The case for a change page, or the way back to it when it is closed (closed cases are read-only)."""
    _require(request, Permission.EDIT_PERSONAL_DATA)
    case = _case(request, reference, purpose=purpose)
    if case.is_closed:
        messages.error(request, _("The case is closed."))
        return redirect("cases:detail", case.reference)
    if not services.may_edit_at(_user(request), case.organisation_id, case.site_id):
        raise PermissionDenied
    return case


def _change_page(
    request: HttpRequest,
    case: Case,
    form: forms.Form,
    *,
    template: str,
    change: Any,
    done: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Run `change(cleaned_data)` on a valid POST; a refusal goes back to the form, next to its field."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                change(form.cleaned_data)
            except services.CasePermissionError:
                raise PermissionDenied from None
            except services.CaseError as error:
                _show_error(form, error)
            else:
                messages.success(request, done)
                return redirect("cases:detail", case.reference)
        status = 422
    return render(request, template, {"case": case, "form": form, **(extra or {})}, status=status)


@login_required
def edit(request: HttpRequest, reference: str) -> HttpResponse:
    case = _editable(request, reference, purpose="edit")
    if isinstance(case, HttpResponse):
        return case
    initial = {"needs": case.needs, "plan": case.plan, "status": case.status}
    form = CaseEditForm(request.POST or None, initial=initial)
    return _change_page(
        request,
        case,
        form,
        template="cases/edit.html",
        change=lambda data: services.update_case(
            case, by=_user(request), needs=data["needs"], plan=data["plan"], status=data["status"]
        ),
        done=_("The case is saved."),
    )


@login_required
def close(request: HttpRequest, reference: str) -> HttpResponse:
    case = _editable(request, reference, purpose="close")
    if isinstance(case, HttpResponse):
        return case
    form = CloseCaseForm(request.POST or None)
    return _change_page(
        request,
        case,
        form,
        template="cases/close.html",
        change=lambda data: services.close_case(case, by=_user(request), reason=data["reason"]),
        done=_("The case is closed."),
        extra={"open_tasks": case.tasks.filter(done_at__isnull=True).count()},
    )


@login_required
def reassign(request: HttpRequest, reference: str) -> HttpResponse:
    case = _editable(request, reference, purpose="reassign")
    if isinstance(case, HttpResponse):
        return case
    staff = services.case_staff(case.organisation_id, case.site_id)
    form = ReassignForm(request.POST or None, staff=staff, initial={"owner": case.owner_id})
    return _change_page(
        request,
        case,
        form,
        template="cases/reassign.html",
        change=lambda data: services.reassign(case, to=data["owner"], by=_user(request)),
        done=_("The case has a new caseworker."),
    )


@login_required
def transfer(request: HttpRequest, reference: str) -> HttpResponse:
    case = _editable(request, reference, purpose="transfer")
    if isinstance(case, HttpResponse):
        return case
    form = TransferForm(request.POST or None, sites=services.transfer_sites(exclude_site_id=case.site_id))
    pending = case.transfers.filter(status=TransferStatus.PENDING).select_related("to_site").first()
    return _change_page(
        request,
        case,
        form,
        template="cases/transfer.html",
        change=lambda data: services.request_transfer(
            case, to_site=data["to_site"], by=_user(request), note=data["note"]
        ),
        done=_("The transfer is asked for; nothing moves until the receiving site accepts."),
        extra={"pending": pending},
    )


@login_required
@require_POST
def add_task(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    case = _case(request, reference, purpose="add_task")
    form = TaskForm(request.POST, staff=services.case_staff(case.organisation_id, case.site_id))
    if form.is_valid():
        try:
            services.add_task(
                case,
                title=form.cleaned_data["title"],
                due_on=form.cleaned_data["due_on"],
                assigned_to=form.cleaned_data["assigned_to"],
                by=_user(request),
            )
        except services.CasePermissionError:
            raise PermissionDenied from None
        except services.CaseError as error:
            return _refused_on_detail(request, case, form, error, task_form=form)
        messages.success(request, _("The task is added."))
        return redirect("cases:detail", case.reference)
    return _detail(request, case, task_form=form, status=422)


@login_required
@require_POST
def complete_task(request: HttpRequest, reference: str, task_id: int) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    case = _case(request, reference, purpose="complete_task")
    task = case.tasks.filter(pk=task_id).first()
    if task is None:
        raise Http404
    try:
        services.complete_task(task, by=_user(request))
    except services.CasePermissionError:
        raise PermissionDenied from None
    messages.success(request, _("The task is done."))
    return redirect("cases:detail", case.reference)


@login_required
@require_POST
def add_note(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    case = _case(request, reference, purpose="add_note")
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(case, text=form.cleaned_data["text"], by=_user(request))
        except services.CasePermissionError:
            raise PermissionDenied from None
        except services.CaseError as error:
            return _refused_on_detail(request, case, form, error, note_form=form)
        messages.success(request, _("The note is added."))
        return redirect("cases:detail", case.reference)
    return _detail(request, case, note_form=form, status=422)
