"""Configuring an organisation's channels and designating its complaint focal points.

Administrators (manage_organisation) add and change channels. Credentials are entered as separate
values per kind of channel, stored as encrypted JSON and never shown again: a page or the API says only
which are set. A value left blank keeps the stored one; a shared secret left blank when there is none is
generated, and handed back this once so it can be entered at the provider. The webhook address holds the
channel's `key`; rotating it makes the old address stop working at once.

Every change is audited with field names and credential *names*, never a value.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ventanilla.accounts.models import Membership, Organisation, Site
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, roles_with
from ventanilla.core.scoping import forget_scope, scope_for
from ventanilla.messaging.gateways import adapter_for
from ventanilla.messaging.models_inbox import Gateway, GatewayKind, Medium


class ChannelError(ValueError):
    """A change refused; `field` names what to correct ("" when the actor may not make it at all)."""

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


class ChannelPermissionError(ChannelError):
    """The actor does not administer the channel's organisation."""


class ChannelInvalid(ChannelError):
    """Several fields are wrong at once: `errors` maps each field to its message. Nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()), field=next(iter(errors), ""))


@dataclass(frozen=True)
class Credential:
    """One value a kind of channel needs from its provider."""

    name: str
    label: Promise
    help_text: Promise
    generated: bool = False  # made up here when left blank (the provider is then told it)


CREDENTIALS: dict[str, tuple[Credential, ...]] = {
    GatewayKind.TWILIO: (
        Credential(
            "account_sid",
            gettext_lazy("Account SID"),
            gettext_lazy("Starts with AC; on the provider's console."),
        ),
        Credential(
            "auth_token",
            gettext_lazy("Auth token"),
            gettext_lazy("Signs the provider's webhooks (X-Twilio-Signature) and authorises sending."),
        ),
    ),
    GatewayKind.GENERIC_JSON: (
        Credential(
            "secret",
            gettext_lazy("Shared secret"),
            gettext_lazy("Sent as 'Authorization: Token <secret>' both ways. Left blank, one is generated."),
            generated=True,
        ),
    ),
    GatewayKind.WHATSAPP_CLOUD: (
        Credential(
            "app_secret",
            gettext_lazy("App secret"),
            gettext_lazy("Signs the webhooks (X-Hub-Signature-256); in the Meta app's basic settings."),
        ),
        Credential(
            "access_token",
            gettext_lazy("Access token"),
            gettext_lazy("A system user's permanent token, for sending."),
        ),
        Credential(
            "verify_token",
            gettext_lazy("Verify token"),
            gettext_lazy("Meta asks for it when the webhook is set up. Left blank, one is generated."),
            generated=True,
        ),
    ),
}

# What each kind of channel may carry (the first is the default).
MEDIUMS: dict[str, tuple[str, ...]] = {
    GatewayKind.TWILIO: (Medium.SMS, Medium.WHATSAPP),
    GatewayKind.GENERIC_JSON: (Medium.SMS, Medium.WHATSAPP),
    GatewayKind.WHATSAPP_CLOUD: (Medium.WHATSAPP,),
    GatewayKind.WEB_FORM: (Medium.WEB,),
    GatewayKind.HOTLINE: (Medium.HOTLINE,),
    GatewayKind.SOCIAL: (Medium.SOCIAL,),
}
# Kinds whose provider needs our sender (a number, or WhatsApp's phone number id) and a sending address.
NEEDS_ADDRESS = {GatewayKind.TWILIO, GatewayKind.WHATSAPP_CLOUD}
NEEDS_SEND_URL = {GatewayKind.GENERIC_JSON}
FIELDS = ("name", "kind", "medium", "site", "address", "send_url", "is_active")


def credentials_for(kind: str) -> tuple[Credential, ...]:
    return CREDENTIALS.get(kind, ())


@dataclass
class ChannelInput:
    """What an administrator sets on a channel; `credentials` holds only the values typed in."""

    name: str
    kind: str
    medium: str = ""
    site: Site | None = None
    address: str = ""
    send_url: str = ""
    is_active: bool = True
    credentials: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SavedChannel:
    gateway: Gateway
    # Values generated on this save (name → value): shown once, never again.
    generated: dict[str, str]


# --- Who may do what -----------------------------------------------------------------------------------


def managed_organisations(user: Any) -> QuerySet[Organisation]:
    """The organisations whose channels `user` configures (manage_organisation)."""
    ids = scope_for(user).organisations(Permission.MANAGE_ORGANISATION)
    return Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name")


def channels_for(user: Any) -> QuerySet[Gateway]:
    """Channels of the organisations `user` administers (a channel elsewhere is not there: 404)."""
    ids = scope_for(user).organisations(Permission.MANAGE_ORGANISATION)
    return Gateway.objects.filter(organisation_id__in=ids).select_related("organisation", "site")


def _require_manager(by: Any, organisation_id: int) -> None:
    if organisation_id not in scope_for(by).organisations(Permission.MANAGE_ORGANISATION):
        raise ChannelPermissionError(_("Only an administrator of the organisation may change its channels."))


# --- Reading -------------------------------------------------------------------------------------------


def stored_credentials(gateway: Gateway) -> dict[str, str]:
    try:
        value = json.loads(gateway.credentials or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def credentials_set(gateway: Gateway) -> dict[str, bool]:
    """Which of the kind's credentials hold a value (the values themselves are never shown)."""
    stored = stored_credentials(gateway)
    return {item.name: bool(stored.get(item.name)) for item in credentials_for(gateway.kind)}


def webhook_url(gateway: Gateway) -> str:
    """Where the provider posts (SMS and WhatsApp gateways); "" for channels that take no webhooks."""
    if adapter_for(gateway.kind) is None:
        return ""
    return settings.PUBLIC_BASE_URL + reverse("messaging_hook", kwargs={"key": gateway.key})


def public_form_url(gateway: Gateway) -> str:
    """The web feedback form of a web-form channel, in the current language ("" for other kinds)."""
    if gateway.kind != GatewayKind.WEB_FORM:
        return ""
    return f"{settings.PUBLIC_BASE_URL}{reverse('feedback')}?channel={gateway.key}"


# --- Writing -------------------------------------------------------------------------------------------


def _check(gateway: Gateway | None, organisation_id: int, data: ChannelInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("Give the channel a name.")
    if data.kind not in GatewayKind.values:
        errors["kind"] = _("Choose a type of channel.")
        return errors
    if gateway is not None and data.kind != gateway.kind:
        errors["kind"] = _("A channel keeps its type; add a new channel for another provider.")
    allowed = MEDIUMS[data.kind]
    if data.medium and data.medium not in allowed:
        errors["medium"] = _("This type of channel carries: %(allowed)s.") % {
            "allowed": ", ".join(str(Medium(value).label) for value in allowed)
        }
    if data.site is not None and data.site.organisation_id != organisation_id:
        errors["site"] = _("Choose a site of the channel's organisation.")
    if data.kind in NEEDS_ADDRESS and not data.address.strip():
        errors["address"] = _("Give the number (or WhatsApp phone number id) the channel sends from.")
    if data.kind in NEEDS_SEND_URL and not data.send_url.strip():
        errors["send_url"] = _("Give the address where the gateway takes messages to send.")
    if data.send_url and not data.send_url.startswith(("https://", "http://")):
        errors["send_url"] = _("The sending address must start with https://.")
    known = {item.name for item in credentials_for(data.kind)}
    for name in sorted(set(data.credentials) - known):
        errors[f"credentials.{name}"] = _("This type of channel takes no such credential.")
    return errors


def _merged_credentials(
    gateway: Gateway | None, data: ChannelInput, errors: dict[str, str]
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """The credentials to store, the names replaced, and the values generated now."""
    stored = stored_credentials(gateway) if gateway is not None else {}
    result: dict[str, str] = {}
    replaced: list[str] = []
    generated: dict[str, str] = {}
    for item in credentials_for(data.kind):
        typed = (data.credentials.get(item.name) or "").strip()
        if typed:
            result[item.name] = typed
            if typed != stored.get(item.name):
                replaced.append(item.name)
        elif stored.get(item.name):
            result[item.name] = stored[item.name]
        elif item.generated:
            result[item.name] = generated[item.name] = secrets.token_urlsafe(24)
            replaced.append(item.name)
        else:
            errors[f"credentials.{item.name}"] = _("%(name)s is needed for this channel.") % {
                "name": item.label
            }
    return result, replaced, generated


@transaction.atomic
def save_channel(
    gateway: Gateway | None,
    data: ChannelInput,
    *,
    by: Any,
    organisation: Organisation | None = None,
) -> SavedChannel:
    """Add a channel to `organisation` (gateway None) or change one; audited, credentials never logged."""
    if gateway is not None:
        gateway = Gateway.objects.select_for_update().get(pk=gateway.pk)
        organisation_id = gateway.organisation_id
    elif organisation is not None:
        organisation_id = organisation.pk
    else:
        raise ChannelError(_("Choose the organisation the channel belongs to."), field="organisation")
    _require_manager(by, organisation_id)
    errors = _check(gateway, organisation_id, data)
    credentials, replaced, generated = (
        _merged_credentials(gateway, data, errors) if "kind" not in errors else ({}, [], {})
    )
    if errors:
        raise ChannelInvalid(errors)
    values: dict[str, Any] = {
        "name": data.name.strip(),
        "kind": data.kind,
        "medium": data.medium or MEDIUMS[data.kind][0],
        "site": data.site,
        "address": data.address.strip(),
        "send_url": data.send_url.strip(),
        "is_active": data.is_active,
    }
    adding = gateway is None
    if gateway is None:
        gateway = Gateway(organisation_id=organisation_id)
        changed = [name for name in FIELDS if values[name] not in ("", None)]
    else:
        changed = [name for name in FIELDS if getattr(gateway, name) != values[name]]
    for name, value in values.items():
        setattr(gateway, name, value)
    if replaced or adding:
        gateway.credentials = json.dumps(credentials, sort_keys=True)
    if replaced:
        changed.append("credentials")
    gateway.save()
    detail: dict[str, Any] = {"kind": gateway.kind}
    if replaced:
        detail["credentials"] = sorted(replaced)  # names only
    audit.record_change(
        AuditAction.CREATE if adding else AuditAction.UPDATE, gateway, by=by, fields=changed, detail=detail
    )
    return SavedChannel(gateway, generated)


@transaction.atomic
def rotate_key(gateway: Gateway, *, by: Any) -> Gateway:
    """A new webhook address for the channel; the old one stops working at once."""
    _require_manager(by, gateway.organisation_id)
    gateway = Gateway.objects.select_for_update().get(pk=gateway.pk)
    gateway.key = uuid.uuid4()
    gateway.save(update_fields=["key"])
    audit.record_change(AuditAction.KEY_ROTATION, gateway, by=by, fields=["key"])
    return gateway


# --- Complaint focal points ----------------------------------------------------------------------------


def focal_point_candidates(organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's active memberships whose role handles messages: who may be designated."""
    return (
        Membership.objects.filter(
            organisation=organisation, is_active=True, role__in=roles_with(Permission.HANDLE_MESSAGES)
        )
        .select_related("user")
        .order_by("user__username", "role")
    )


@transaction.atomic
def set_complaint_focal_points(organisation: Organisation, *, designated: Iterable[int], by: Any) -> int:
    """Designate exactly these memberships (ids) as readers of sensitive complaints; returns how many
    memberships changed. Each change is a ROLE_CHANGE entry naming the membership and the new value."""
    _require_manager(by, organisation.pk)
    wanted = {int(pk) for pk in designated}
    candidates = list(focal_point_candidates(organisation).select_for_update())
    unknown = wanted - {membership.pk for membership in candidates}
    if unknown:
        raise ChannelError(
            _("Only staff of the organisation who handle messages can be designated."), field="memberships"
        )
    changed = 0
    for membership in candidates:
        value = membership.pk in wanted
        if membership.handles_sensitive_complaints == value:
            continue
        membership.handles_sensitive_complaints = value
        membership.save(update_fields=["handles_sensitive_complaints"])
        audit.record(
            AuditAction.ROLE_CHANGE,
            by=by,
            obj=membership,
            fields=["handles_sensitive_complaints"],
            detail={"user": membership.user_id, "change": "complaints", "designated": value},
        )
        forget_scope(membership.user)
        changed += 1
    return changed
