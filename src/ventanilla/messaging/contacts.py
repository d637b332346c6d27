"""Changing a contact on behalf of a message handler: language, area, subscriptions, opt-out.

The actor must see the contact (`Contact.objects.visible_to`: handle_messages in its organisation).
Each change is checked as a whole before anything is written and audited with field names, never a
number or a text. Refusals are `inbox.InboxError`, as for conversations, so the pages and the API
show them the same way.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.messaging.inbox import UNSET, InboxError, InboxPermissionError
from ventanilla.messaging.models_inbox import Contact

MAX_SUBSCRIPTIONS = 20
_SUBSCRIPTION = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,39}$")


def mask(value: str, *, keep: int = 3, hidden: str = "*") -> str:
    """A number or handle as staff see it: all but the last `keep` characters hidden, a leading + or a
    "platform:" prefix kept (the page draws `hidden` as •, the API as *)."""
    if not value:
        return ""
    prefix = ""
    if value.startswith("+"):
        prefix, value = "+", value[1:]
    elif ":" in value:
        head, _sep, value = value.partition(":")
        prefix = head + ":"
    shown = value[-keep:] if len(value) > keep else ""
    return prefix + hidden * (len(value) - len(shown)) + shown


def _require_contact(by: Any, contact: Contact) -> None:
    if not Contact.objects.visible_to(by).filter(pk=contact.pk).exists():
        raise InboxPermissionError(_("You do not handle this organisation's contacts."))


@transaction.atomic
def update_contact(
    contact: Contact, *, by: Any, language: Any = UNSET, area: Any = UNSET, subscriptions: Any = UNSET
) -> Contact:
    _require_contact(by, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if language is not UNSET:
        if language and language not in {code for code, _name in settings.LANGUAGES}:
            errors["language"] = _("Choose a language.")
        values["language"] = language or ""
    if area is not UNSET:
        values["area"] = area
    if subscriptions is not UNSET:
        items = [str(item).strip().lower() for item in subscriptions or []]
        if len(items) > MAX_SUBSCRIPTIONS or not all(_SUBSCRIPTION.match(item) for item in items):
            errors["subscriptions"] = _(
                "Up to %(max)s codes of lower-case letters, digits and - _ . : (40 characters each)."
            ) % {"max": MAX_SUBSCRIPTIONS}
        values["subscriptions"] = sorted(set(items))
    if errors:
        raise InboxError(errors=errors)
    changed = [name for name, value in values.items() if getattr(contact, name) != value]
    for name in changed:
        setattr(contact, name, values[name])
    if changed:
        contact.save(update_fields=changed)
        audit.record_change(AuditAction.UPDATE, contact, by=by, fields=changed)
    return contact


@transaction.atomic
def opt_out(contact: Contact, *, by: Any) -> Contact:
    """The person asked (by phone, in person) to receive nothing more: effective at once, no message sent."""
    _require_contact(by, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.opted_out_at is None:
        contact.opted_out_at = timezone.now()
        contact.save(update_fields=["opted_out_at"])
        audit.record_change(
            AuditAction.UPDATE, contact, by=by, fields=["opted_out_at"], detail={"opted_out": True}
        )
    return contact
