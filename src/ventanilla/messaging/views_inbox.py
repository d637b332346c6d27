"""Inbox pages: the conversations of the organisations where the user handles messages, one
conversation with its messages, triage, assignment, status, notes and the reply.

Conversations are read through the scoping layer (`get_for` audits the read; the list is audited once
with its size), so a sensitive complaint exists only for the designated focal points and another
organisation's conversation is a 404. Every change goes through `messaging.inbox`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from ventanilla.messaging import handover, inbox
from ventanilla.messaging.contacts import mask
from ventanilla.messaging.forms_inbox import (
    AssignForm,
    InboxFilterForm,
    NoteForm,
    PersonLinkForm,
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
    """Message handlers, and caseworkers (who see only the conversations handed to them)."""
    if not inbox.may_open_inbox(request.user):
        raise PermissionDenied


def _conversation(request: HttpRequest, pk: int, *, purpose: str) -> Conversation:
    """The conversation if the user may read it (the read is audited), else 404."""
    conversation: Conversation = Conversation.objects.select_related(
        "gateway", "contact", "assigned_to", "site", "area", "person"
    ).get_for(request.user, pk, purpose=purpose)
    return conversation


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
    detail: dict[str, Any] = {"list": True, "count": len(conversations)}
    if chosen.get("number"):  # a search by number is a look-up of a person: said so, the number never kept
        detail["by_number"] = True
    if conversations:
        audit.record(
            AuditAction.READ,
            by=request.user,
            object_type="messaging.conversation",
            detail=detail,
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
    staff = inbox.assignable(conversation.organisation_id, sensitive=sensitive)
    contact = conversation.contact
    context: dict[str, Any] = {
        "conversation": conversation,
        "thread": thread,
        "older_hidden": older_hidden,
        "contact": contact,
        "masked_address": mask((contact.phone or contact.handle) if contact else "", hidden="•"),
        "opted_out": bool(contact and contact.opted_out),
        "overdue": is_overdue(conversation),
        "may_send": adapter_for(conversation.gateway.kind) is not None,
        **_handover(request, conversation, bound.get("person_form")),
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
        or AssignForm(
            staff=staff,
            caseworkers=inbox.caseworker_ids(conversation.organisation_id),
            initial={"assigned_to": conversation.assigned_to_id},
        ),
        "note_form": bound.get("note_form") or NoteForm(),
        "reply_form": bound.get("reply_form") or ReplyForm(initial={"text": chosen.text if chosen else ""}),
    }
    return render(request, "messaging/inbox_detail.html", context, status=status)


def _handover(request: HttpRequest, conversation: Conversation, form: forms.Form | None) -> dict[str, Any]:
    """The "register or refer" part of the page (`messaging.handover`)."""
    from ventanilla.referrals.models import Referral
    from ventanilla.referrals.services import has_referral_consent

    user = request.user
    allowed = handover.may_hand_over(user, conversation)
    person = conversation.person
    return {
        "may_hand_over": allowed,
        "person": person,
        "referral_consent": person is not None and has_referral_consent(person),
        "same_number": list(handover.same_number(user, conversation)[:5]) if allowed and not person else [],
        "conversation_referrals": list(
            Referral.objects.visible_to(user).filter(conversation=conversation).order_by("-created_at")
        ),
        "person_form": form or (PersonLinkForm(user=user, conversation=conversation) if allowed else None),
    }


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    return _detail(request, _conversation(request, pk, purpose="inbox"))


def _refused(
    request: HttpRequest,
    conversation: Conversation,
    action: _Action,
    form: forms.Form,
    error: inbox.InboxError,
) -> HttpResponse:
    """A refusal next to its field on the conversation page, or as a message when about the whole."""
    if isinstance(error, inbox.InboxPermissionError):
        raise PermissionDenied
    if action.shown and error.field in form.fields:
        form.add_error(error.field, str(error))
        return _detail(request, conversation, status=422, **{action.form_name: form})
    messages.error(request, str(error))
    return redirect("inbox:detail", conversation.pk)


def _after_change(request: HttpRequest, conversation: Conversation, done: str) -> HttpResponse:
    """Back to the conversation, or to the list when the change took it out of the user's sight."""
    if inbox.may_handle(request.user, conversation):
        messages.success(request, done)
        return redirect("inbox:detail", conversation.pk)
    if conversation.category == Category.SENSITIVE:
        gone = _(
            "The conversation is now a sensitive complaint: only the designated focal points can open it."
        )
    else:
        gone = _("The conversation is handed over: it is no longer in your inbox.")
    messages.success(request, gone)
    return redirect("inbox:list")


@dataclass(frozen=True)
class _Action:
    """One change on the conversation page: its form, the service call, and what to say when done."""

    form_name: str
    form: Callable[[HttpRequest, Conversation], forms.Form]
    apply: Callable[[Conversation, dict[str, Any], Any], object]
    done: Callable[[Conversation], str]
    shown: bool = True  # the form is on the page (else a refusal is a message above it)
    needs: Permission | None = None  # beyond handling messages, checked before the conversation is read


def _assign_form(request: HttpRequest, conversation: Conversation) -> forms.Form:
    sensitive = conversation.category == Category.SENSITIVE
    return AssignForm(request.POST, staff=inbox.assignable(conversation.organisation_id, sensitive=sensitive))


def _person_form(request: HttpRequest, conversation: Conversation) -> forms.Form:
    return PersonLinkForm(request.POST, user=request.user, conversation=conversation)


ACTIONS: dict[str, _Action] = {
    "triage": _Action(
        "triage_form",
        lambda request, _c: TriageForm(request.POST),
        lambda c, data, user: inbox.triage(c, by=user, **data),
        lambda _c: _("The triage is saved."),
    ),
    "assign": _Action(
        "assign_form",
        _assign_form,
        lambda c, data, user: inbox.assign(c, to=data["assigned_to"], by=user),
        lambda _c: _("The assignment is saved."),
    ),
    "status": _Action(
        "status_form",
        lambda request, _c: StatusForm(request.POST),
        lambda c, data, user: inbox.set_status(c, data["status"], by=user),
        lambda c: _("Status: %(status)s.") % {"status": ConversationStatus(c.status).label},
        shown=False,
    ),
    "note": _Action(
        "note_form",
        lambda request, _c: NoteForm(request.POST),
        lambda c, data, user: inbox.add_note(c, data["text"], by=user),
        lambda _c: _("The note is added."),
    ),
    "reply": _Action(
        "reply_form",
        lambda request, _c: ReplyForm(request.POST),
        lambda c, data, user: inbox.reply(c, data["text"], by=user),
        lambda _c: _("The answer is on its way."),
    ),
    "person": _Action(
        "person_form",
        _person_form,
        lambda c, data, user: handover.link_person(c, data["person"], by=user),
        lambda c: (
            _("The conversation is linked to %(reference)s.") % {"reference": c.person.reference}
            if c.person is not None
            else _("The conversation is no longer linked to a record.")
        ),
        needs=Permission.EDIT_PERSONAL_DATA,
    ),
}


def _act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Check the form, call the service; a refusal is shown next to its field with nothing changed."""
    _require(request)
    action = ACTIONS[name]
    if action.needs is not None and not scope_for(request.user).has(action.needs):
        raise PermissionDenied
    conversation = _conversation(request, pk, purpose=name)
    form = action.form(request, conversation)
    if not form.is_valid():
        if not action.shown:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect("inbox:detail", conversation.pk)
        return _detail(request, conversation, status=422, **{action.form_name: form})
    try:
        action.apply(conversation, form.cleaned_data, request.user)
    except inbox.InboxError as error:
        return _refused(request, conversation, action, form, error)
    return _after_change(request, conversation, str(action.done(conversation)))


def _action_view(name: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return _act(request, pk, name)

    view.__name__ = view.__qualname__ = name
    return view


triage = _action_view("triage")
assign = _action_view("assign")
set_status = _action_view("status")
add_note = _action_view("note")
reply = _action_view("reply")
link_person = _action_view("person")
