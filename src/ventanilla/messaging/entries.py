"""Messages staff enter by hand: hotline calls logged by operators, social media messages typed in or
imported from a CSV file.

Each goes through `ingest.record_inbound` like any message (contact, conversation, language, urgent
flag), inside one transaction with what the operator adds (call minutes and outcome, category, topics),
so nothing is half-written. A CSV import checks every row first and reports every problem with its row
(the header is row 1) and column; nothing is written unless every row is valid.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ventanilla.core import audit
from ventanilla.core.import_problems import Problem
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import ingest
from ventanilla.messaging.channels import ChannelError, ChannelInvalid
from ventanilla.messaging.models_inbox import Category, Gateway, GatewayKind, Medium, Message
from ventanilla.messaging.topics import TopicsInvalid, clean_topics

CALL_OUTCOMES = [
    ("answered", gettext_lazy("Answered")),
    ("referred", gettext_lazy("Referred")),
    ("escalated", gettext_lazy("Escalated")),
    ("dropped", gettext_lazy("Dropped")),
]
PLATFORMS = [
    ("facebook", "Facebook"),
    ("instagram", "Instagram"),
    ("tiktok", "TikTok"),
    ("x", "X"),
    ("telegram", "Telegram"),
    ("youtube", "YouTube"),
    ("other", gettext_lazy("Other")),
]
MAX_CALL_MINUTES = 600
MAX_TEXT = 4000
MAX_HANDLE = 100
MAX_IMPORT_ROWS = 2000
IMPORT_COLUMNS = ("platform", "handle", "text", "date")


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def hotlines_for(user: Any) -> Any:
    """Active hotline channels of the organisations where `user` handles messages."""
    ids = scope_for(user).organisations(Permission.HANDLE_MESSAGES)
    return Gateway.objects.filter(
        organisation_id__in=ids, kind=GatewayKind.HOTLINE, is_active=True
    ).select_related("organisation")


def social_channels_for(user: Any) -> Any:
    ids = scope_for(user).organisations(Permission.HANDLE_MESSAGES)
    return Gateway.objects.filter(
        organisation_id__in=ids, kind=GatewayKind.SOCIAL, is_active=True
    ).select_related("organisation")


def _require_handler(by: Any, gateway: Gateway, kind: str) -> None:
    if gateway.organisation_id not in scope_for(by).organisations(Permission.HANDLE_MESSAGES):
        raise ChannelError(_("Choose a channel of your organisation."), field="channel")
    if gateway.kind != kind or not gateway.is_active:
        raise ChannelError(_("Choose an active channel of this type."), field="channel")


# --- Hotline calls -------------------------------------------------------------------------------------


@dataclass
class CallInput:
    caller: str = ""
    language: str = ""
    topics: list[str] | None = None
    category: str = ""
    minutes: int | None = None
    outcome: str = "answered"
    notes: str = ""


def _check_call(data: CallInput) -> tuple[dict[str, str], str]:
    errors: dict[str, str] = {}
    number = ""
    if data.caller.strip():
        number = ingest.e164(data.caller.strip())
        if not number:
            errors["caller"] = _(
                "This is not a phone number. Write it with its country code, for example +52 962 123 4567."
            )
    if data.language and data.language not in language_codes():
        errors["language"] = _("Choose one of the listed languages.")
    if data.category not in Category.values:
        errors["category"] = _("Choose one of the listed categories.")
    if data.minutes is not None and not 0 <= data.minutes <= MAX_CALL_MINUTES:
        errors["minutes"] = _("Give the call's length in minutes (0 to %(max)s).") % {"max": MAX_CALL_MINUTES}
    if data.outcome not in dict(CALL_OUTCOMES):
        errors["outcome"] = _("Choose how the call ended.")
    try:
        data.topics = clean_topics(data.topics or [])
    except TopicsInvalid as error:
        errors["topics"] = str(error)
    if len(data.notes) > MAX_TEXT:
        errors["notes"] = _("Keep the notes under %(max)s characters.") % {"max": MAX_TEXT}
    return errors, number


@transaction.atomic
def log_call(gateway: Gateway, data: CallInput, *, by: Any) -> Message:
    """An operator's record of one call: a received message (the notes) in the caller's conversation,
    with the call's minutes and outcome, and the conversation triaged as the operator says."""
    _require_handler(by, gateway, GatewayKind.HOTLINE)
    errors, number = _check_call(data)
    if errors:
        raise ChannelInvalid(errors)
    message = ingest.record_inbound(
        gateway, sender=number, text=data.notes.strip(), medium=Medium.HOTLINE, by=by
    )
    assert message is not None  # hotlines take no command words
    message.call_minutes = data.minutes
    message.call_outcome = data.outcome
    message.save(update_fields=["call_minutes", "call_outcome"])
    conversation = message.conversation
    ingest.classify_on_arrival(
        conversation, category=data.category, topics=data.topics or [], language=data.language
    )
    audit.record(
        AuditAction.CREATE,
        by=by,
        obj=message,
        organisation_id=gateway.organisation_id,
        fields=["body", "call_minutes", "call_outcome"],
        detail={"conversation": conversation.pk, "medium": Medium.HOTLINE, "caller_given": bool(number)},
    )
    return message


# --- Social media --------------------------------------------------------------------------------------


@dataclass
class SocialInput:
    platform: str
    handle: str
    text: str
    at: datetime.datetime | None


def normalise_handle(value: str) -> str:
    return value.strip().lstrip("@").strip().lower()


def parse_when(value: str) -> datetime.datetime | None:
    """A date (midday, local time) or an ISO 8601 date and time (local when it gives no offset)."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                return None
            moment = datetime.datetime.combine(day, datetime.time(12, 0))
    except ValueError:  # well formed, but no such day or hour
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _check_social(data: SocialInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.platform not in dict(PLATFORMS):
        errors["platform"] = _("Use one of: %(values)s.") % {"values": ", ".join(dict(PLATFORMS))}
    handle = normalise_handle(data.handle)
    if not handle:
        errors["handle"] = _("Write the account's handle.")
    elif len(handle) > MAX_HANDLE:
        errors["handle"] = _("A handle has at most %(max)s characters.") % {"max": MAX_HANDLE}
    if not data.text.strip():
        errors["text"] = _("Write the message.")
    elif len(data.text) > MAX_TEXT:
        errors["text"] = _("A message has at most %(max)s characters.") % {"max": MAX_TEXT}
    if data.at is None:
        errors["date"] = _("Give the date as YYYY-MM-DD (a time may follow: YYYY-MM-DD HH:MM).")
    elif data.at > timezone.now() + datetime.timedelta(minutes=5):
        errors["date"] = _("The date is in the future.")
    return errors


def _store_social(gateway: Gateway, data: SocialInput, *, by: Any) -> Message:
    sender = f"{data.platform}:{normalise_handle(data.handle)}"
    message = ingest.record_inbound(
        gateway, sender=sender, text=data.text.strip(), medium=Medium.SOCIAL, at=data.at, by=by
    )
    assert message is not None  # social channels take no command words
    return message


@transaction.atomic
def record_social(gateway: Gateway, data: SocialInput, *, by: Any) -> Message:
    """One social media message typed in by staff."""
    _require_handler(by, gateway, GatewayKind.SOCIAL)
    errors = _check_social(data)
    if errors:
        raise ChannelInvalid(errors)
    message = _store_social(gateway, data, by=by)
    audit.record(
        AuditAction.CREATE,
        by=by,
        obj=message,
        organisation_id=gateway.organisation_id,
        fields=["body"],
        detail={"conversation": message.conversation_id, "medium": Medium.SOCIAL, "platform": data.platform},
    )
    return message


class ImportRefused(Exception):
    """The file has problems (`problems`, every one of them); nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            _("%(count)s problem(s) in the file; nothing was imported.") % {"count": len(problems)}
        )


def read_social_csv(content: bytes) -> list[tuple[int, SocialInput]]:
    """Every row of the file checked; raises ImportRefused listing all problems."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(
            [Problem(0, "file", _("The file is not UTF-8 text; save it as CSV UTF-8."))]
        ) from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [name.strip().lower() for name in (reader.fieldnames or [])]
    except csv.Error:
        raise ImportRefused([Problem(0, "file", _("The file is not a CSV file."))]) from None
    missing = [name for name in IMPORT_COLUMNS if name not in header]
    if missing:
        raise ImportRefused([Problem(1, name, _("This column is missing.")) for name in missing])
    reader.fieldnames = header
    problems: list[Problem] = []
    rows: list[tuple[int, SocialInput]] = []
    try:
        for number, raw in enumerate(reader, start=2):
            values = {key: (value or "").strip() for key, value in raw.items() if isinstance(key, str)}
            if not any(values.values()):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                problems.append(
                    Problem(0, "file", _("At most %(max)s rows per file.") % {"max": MAX_IMPORT_ROWS})
                )
                break
            data = SocialInput(
                platform=values.get("platform", "").lower(),
                handle=values.get("handle", ""),
                text=values.get("text", ""),
                at=parse_when(values.get("date", "")),
            )
            for column, message in _check_social(data).items():
                problems.append(Problem(number, column, message))
            rows.append((number, data))
    except csv.Error:
        problems.append(Problem(0, "file", _("The file is not a CSV file.")))
    if not rows and not problems:
        problems.append(Problem(0, "file", _("The file has no rows.")))
    if problems:
        raise ImportRefused(problems)
    return rows


@transaction.atomic
def import_social(gateway: Gateway, content: bytes, *, by: Any) -> int:
    """Import a CSV of social media messages (platform, handle, text, date): all rows or none."""
    _require_handler(by, gateway, GatewayKind.SOCIAL)
    rows = read_social_csv(content)
    # Oldest first, so each conversation's last message is the newest one.
    for _number, data in sorted(rows, key=lambda row: (row[1].at or timezone.now(), row[0])):
        _store_social(gateway, data, by=by)
    audit.record(
        AuditAction.CREATE,
        by=by,
        object_type="messaging.message",
        organisation_id=gateway.organisation_id,
        fields=["body"],
        detail={"gateway": gateway.pk, "medium": Medium.SOCIAL, "count": len(rows), "import": "csv"},
    )
    return len(rows)
