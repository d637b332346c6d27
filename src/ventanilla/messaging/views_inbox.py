"""Inbox pages: the conversations of the organisations where the user handles messages, one
conversation with its messages, triage, assignment, status, notes and the reply.

Conversations are read through the scoping layer (`get_for` audits the read; the list is audited once
with its size), so a sensitive complaint exists only for the designated focal points and another
organisation's conversation is a 404. Every change goes through `messaging.inbox`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import inbox
from ventanilla.messaging.forms_inbox import (
    AssignForm,
    InboxFilterForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    TriageForm,
)
from ventanilla.messaging.gateways import adapter_for
from ventanilla.messaging.inbox_queries import InboxFilterError, inbox_page, is_overdue
from ventanilla.messaging.models_inbox import Category, Conversation, ConversationStatus, ReplyTemplate

PAGE_SIZE = 50
SHOWN_MESSAGES = 200


def _require(request: HttpRequest) -> None:
    if not scope_for(request.user).has(Permission.HANDLE_MESSAGES):
        raise PermissionDenied


def _conversation(request: HttpRequest, pk: int, *, purpose: str) -> Conversation:
    """The conversation if the user may read it (the read is audited), else 404."""
    conversation: Conversation = Conversation.objects.select_related(
        "gateway", "contact", "assigned_to", "site", "area"
    ).get_for(request.user, pk, purpose=purpose)
    return conversation


def mask(value: str) -> str:
    """A number or handle with all but its last three characters hidden (a leading + is kept)."""
    if not value:
        return ""
    prefix = "+" if value.startswith("+") else ""
    rest = value.removeprefix("+")
    return prefix + "•" * max(len(rest) - 3, 0) + rest[-3:]


# --- the list ---------------------------------------------------------------------------------------


@login_required
@require_GET
def conversation_list(request: HttpRequest, *, overdue: bool = False) -> HttpResponse:
    """The inbox: `inbox_queries.inbox_page` (one statement, cursor-paged: the benchmarked query)."""
    _require(request)
    data = request.GET.copy()
    if overdue:
        data["overdue"] = "on"
    form = InboxFilterForm(data)
    chosen = form.cleaned_data if form.is_valid() else {"overdue": overdue}
    before = request.GET.get("before", "")
    try:
        page = inbox_page(request.user, form.filters(chosen, before=before), limit=PAGE_SIZE)
    except InboxFilterError:  # a cursor that is not one of this list's: start from the newest
        before = ""
        page = inbox_page(request.user, form.filters(chosen), limit=PAGE_SIZE)
    conversations = page.conversations
    if conversations:
        audit.record(
            AuditAction.READ,
            by=request.user,
            object_type="messaging.conversation",
            detail={"list": True, "count": len(conversations)},
        )
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "messaging/inbox_list.html",
        {
            "form": form,
            "conversations": conversations,
            "next_cursor": page.next_cursor,
            "older_page": bool(before),
            "query": query.urlencode(),
            "overdue_page": overdue,
        },
    )


# --- one conversation -------------------------------------------------------------------------------


def _template_choice(request: HttpRequest, templates: list[ReplyTemplate]) -> ReplyTemplate | None:
    wanted = request.GET.get("template", "")
    return next((t for t in templates if str(t.pk) == wanted), None)


def _detail(
    request: HttpRequest,
    conversation: Conversation,
    *,
    status: int = 200,
    **bound: forms.Form,
) -> HttpResponse:
    user = request.user
    recent = list(
        conversation.messages.select_related("sent_by").order_by("-at", "-pk")[: SHOWN_MESSAGES + 1]
    )
    older_hidden = len(recent) > SHOWN_MESSAGES
    thread = list(reversed(recent[:SHOWN_MESSAGES]))
    templates = sorted(
        inbox.reply_templates(user, conversation.organisation_id),
        key=lambda t: (t.language != conversation.language, t.language, t.name.casefold()),
    )
    chosen = _template_choice(request, templates)
    sensitive = conversation.category == Category.SENSITIVE
    staff = inbox.handlers(conversation.organisation_id, sensitive=sensitive)
    contact = conversation.contact
    scope = scope_for(user)
    context: dict[str, Any] = {
        "conversation": conversation,
        "thread": thread,
        "older_hidden": older_hidden,
        "contact": contact,
        "masked_address": mask((contact.phone or contact.handle) if contact else ""),
        "opted_out": bool(contact and contact.opted_out),
        "overdue": is_overdue(conversation),
        "may_send": adapter_for(conversation.gateway.kind) is not None,
        "may_register": scope.has(Permission.EDIT_PERSONAL_DATA),
        "statuses": [s for s in ConversationStatus if s != conversation.status],
        "templates": templates,
        "chosen_template": chosen,
        "triage_form": bound.get("triage_form")
        or TriageForm(
            initial={
                "category": conversation.category,
                "topics": conversation.topics,
                "urgency": conversation.urgency,
                "language": conversation.language,
            }
        ),
        "assign_form": bound.get("assign_form")
        or AssignForm(staff=staff, initial={"assigned_to": conversation.assigned_to_id}),
        "note_form": bound.get("note_form") or NoteForm(),
        "reply_form": bound.get("reply_form") or ReplyForm(initial={"text": chosen.text if chosen else ""}),
    }
    return render(request, "messaging/inbox_detail.html", context, status=status)


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    return _detail(request, _conversation(request, pk, purpose="inbox"))


def _refused(
    request: HttpRequest, conversation: Conversation, form: forms.Form, name: str, error: inbox.InboxError
) -> HttpResponse:
    """A refusal next to its field on the conversation page, or as a message when about the whole."""
    if isinstance(error, inbox.InboxPermissionError):
        raise PermissionDenied
    if error.field in form.fields:
        form.add_error(error.field, str(error))
        return _detail(request, conversation, status=422, **{name: form})
    messages.error(request, str(error))
    return redirect("inbox:detail", conversation.pk)


def _after_change(request: HttpRequest, conversation: Conversation, done: str) -> HttpResponse:
    """Back to the conversation, or to the list when the change took it out of the user's sight."""
    if inbox.may_handle(request.user, conversation):
        messages.success(request, done)
        return redirect("inbox:detail", conversation.pk)
    messages.success(
        request,
        _("The conversation is now a sensitive complaint: only the designated focal points can open it."),
    )
    return redirect("inbox:list")


@login_required
@require_POST
def triage(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    conversation = _conversation(request, pk, purpose="triage")
    form = TriageForm(request.POST)
    if not form.is_valid():
        return _detail(request, conversation, status=422, triage_form=form)
    try:
        inbox.triage(conversation, by=request.user, **form.cleaned_data)
    except inbox.InboxError as error:
        return _refused(request, conversation, form, "triage_form", error)
    return _after_change(request, conversation, _("The triage is saved."))


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    conversation = _conversation(request, pk, purpose="assign")
    staff = inbox.handlers(
        conversation.organisation_id, sensitive=conversation.category == Category.SENSITIVE
    )
    form = AssignForm(request.POST, staff=staff)
    if not form.is_valid():
        return _detail(request, conversation, status=422, assign_form=form)
    try:
        inbox.assign(conversation, to=form.cleaned_data["assigned_to"], by=request.user)
    except inbox.InboxError as error:
        return _refused(request, conversation, form, "assign_form", error)
    return _after_change(request, conversation, _("The assignment is saved."))


@login_required
@require_POST
def set_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    conversation = _conversation(request, pk, purpose="status")
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
        return redirect("inbox:detail", conversation.pk)
    try:
        inbox.set_status(conversation, form.cleaned_data["status"], by=request.user)
    except inbox.InboxPermissionError:
        raise PermissionDenied from None
    except inbox.InboxError as error:
        messages.error(request, str(error))
        return redirect("inbox:detail", conversation.pk)
    label = ConversationStatus(conversation.status).label
    return _after_change(request, conversation, _("Status: %(status)s.") % {"status": label})


@login_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    conversation = _conversation(request, pk, purpose="note")
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, conversation, status=422, note_form=form)
    try:
        inbox.add_note(conversation, form.cleaned_data["text"], by=request.user)
    except inbox.InboxError as error:
        return _refused(request, conversation, form, "note_form", error)
    return _after_change(request, conversation, _("The note is added."))


@login_required
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    conversation = _conversation(request, pk, purpose="reply")
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _detail(request, conversation, status=422, reply_form=form)
    try:
        inbox.reply(conversation, form.cleaned_data["text"], by=request.user)
    except inbox.InboxError as error:
        return _refused(request, conversation, form, "reply_form", error)
    return _after_change(request, conversation, _("The answer is on its way."))
