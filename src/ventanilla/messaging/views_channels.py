"""Channel pages under /<language>/staff/channels/.

Administrators (manage_organisation) list, add and change their organisations' channels, rotate a
webhook key and designate the complaint focal points; message handlers (handle_messages) log hotline
calls and enter or import social media messages. Someone without the permission anywhere gets 403
before anything is looked up; a channel of an organisation they do not administer is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Organisation, Site
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import channels, entries, response_times
from ventanilla.messaging.channels import ChannelError, ChannelInvalid, ChannelPermissionError
from ventanilla.messaging.forms_channels import (
    CallForm,
    ChannelForm,
    ResponseTimesForm,
    SocialForm,
    SocialImportForm,
)
from ventanilla.messaging.inbox import InboxError, InboxPermissionError
from ventanilla.messaging.models_inbox import Gateway, GatewayKind

MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _require(request: HttpRequest, permission: Permission) -> None:
    if not scope_for(request.user).has(permission):
        raise PermissionDenied


def _channel(request: HttpRequest, pk: int) -> Gateway:
    """A channel of an organisation the user administers (403 for non-administrators, else 404)."""
    _require(request, Permission.MANAGE_ORGANISATION)
    gateway = channels.channels_for(request.user).filter(pk=pk).first()
    if gateway is None:
        raise Http404
    return gateway


# --- Configuration (manage_organisation) ---------------------------------------------------------------


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.MANAGE_ORGANISATION)
    rows = [
        {
            "gateway": gateway,
            "webhook": channels.webhook_url(gateway),
            "form_url": channels.public_form_url(gateway),
        }
        for gateway in channels.channels_for(request.user).order_by("organisation__name", "name")
    ]
    return render(request, "messaging/channels_list.html", {"rows": rows})


def _sites(organisations: QuerySet[Organisation]) -> QuerySet[Site]:
    return Site.objects.filter(organisation__in=organisations).select_related("organisation")


@login_required
def channel_create(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.MANAGE_ORGANISATION)
    organisations = channels.managed_organisations(request.user)
    kind = (request.POST.get("kind") if request.method == "POST" else request.GET.get("kind")) or ""
    if kind not in GatewayKind.values:
        return render(request, "messaging/channels_kind.html", {"kinds": GatewayKind.choices})
    form = ChannelForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        organisations=organisations if organisations.count() > 1 else None,
        sites=_sites(organisations),
        initial={"is_active": True},
    )
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data.get("organisation") or organisations.first()
        result = _save(request, form, None, organisation=organisation)
        if result is not None:
            return result
    return render(
        request, "messaging/channels_form.html", {"form": form, "kind": GatewayKind(kind), "gateway": None}
    )


@login_required
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    gateway = _channel(request, pk)
    organisations = Organisation.objects.filter(pk=gateway.organisation_id)
    form = ChannelForm(
        request.POST if request.method == "POST" else None,
        kind=gateway.kind,
        organisations=None,
        sites=_sites(organisations),
        stored=channels.credentials_set(gateway),
        initial={
            "name": gateway.name,
            "medium": gateway.medium,
            "site": gateway.site_id,
            "address": gateway.address,
            "send_url": gateway.send_url,
            "is_active": gateway.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        result = _save(request, form, gateway)
        if result is not None:
            return result
    context = {
        "form": form,
        "kind": GatewayKind(gateway.kind),
        "gateway": gateway,
        "webhook": channels.webhook_url(gateway),
        "form_url": channels.public_form_url(gateway),
    }
    return render(request, "messaging/channels_form.html", context)


def _save(
    request: HttpRequest, form: ChannelForm, gateway: Gateway | None, *, organisation: Any = None
) -> HttpResponse | None:
    try:
        saved = channels.save_channel(gateway, form.to_input(), by=request.user, organisation=organisation)
    except ChannelPermissionError:
        raise PermissionDenied from None
    except ChannelInvalid as error:
        form.add_service_errors(error.errors)
        return None
    except ChannelError as error:
        form.add_service_errors({error.field: str(error)})
        return None
    if saved.generated:
        # Shown this once (not redirected: a page that could be reloaded would show it again).
        labels = {item.name: item.label for item in channels.credentials_for(saved.gateway.kind)}
        context = {
            "gateway": saved.gateway,
            "generated": [(labels[name], value) for name, value in saved.generated.items()],
            "webhook": channels.webhook_url(saved.gateway),
        }
        return render(request, "messaging/channels_saved.html", context)
    messages.success(request, _("The channel %(name)s is saved.") % {"name": saved.gateway.name})
    return redirect("channels:edit", pk=saved.gateway.pk)


@login_required
@require_POST
def rotate_key(request: HttpRequest, pk: int) -> HttpResponse:
    gateway = _channel(request, pk)
    try:
        channels.rotate_key(gateway, by=request.user)
    except ChannelPermissionError:
        raise PermissionDenied from None
    messages.success(
        request,
        _(
            "The channel has a new webhook address; the old one no longer works. "
            "Enter the new one at the provider."
        ),
    )
    return redirect("channels:edit", pk=gateway.pk)


@login_required
def focal_points(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.MANAGE_ORGANISATION)
    organisations = list(channels.managed_organisations(request.user))
    if request.method == "POST":
        chosen = next((o for o in organisations if str(o.pk) == request.POST.get("organisation")), None)
        if chosen is None:
            raise Http404
        try:
            ids = [int(value) for value in request.POST.getlist("membership")]
        except ValueError:
            raise Http404 from None  # not a membership id
        try:
            count = channels.set_complaint_focal_points(chosen, designated=ids, by=request.user)
        except ChannelPermissionError:
            raise PermissionDenied from None
        except ChannelError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Focal points saved (%(count)s change(s)).") % {"count": count})
        return redirect("channels:focal_points")
    sections = [
        (organisation, list(channels.focal_point_candidates(organisation))) for organisation in organisations
    ]
    return render(request, "messaging/channels_focal_points.html", {"sections": sections})


@login_required
def response_times_page(request: HttpRequest) -> HttpResponse:
    """Each administered organisation's answer targets, one form each (the one posted is checked)."""
    _require(request, Permission.MANAGE_ORGANISATION)
    organisations = list(channels.managed_organisations(request.user))
    posted = None
    if request.method == "POST":
        posted = next((o for o in organisations if str(o.pk) == request.POST.get("organisation")), None)
        if posted is None:
            raise Http404
    forms_: list[ResponseTimesForm] = []
    for organisation in organisations:
        if organisation == posted:
            form = ResponseTimesForm(request.POST, organisation=organisation)
            if form.is_valid():
                try:
                    response_times.set_targets(organisation, by=request.user, **form.targets())
                except InboxPermissionError:
                    raise PermissionDenied from None
                except InboxError as error:
                    for field, text in error.errors.items():
                        form.add_error(field if field in form.fields else None, text)
                else:
                    messages.success(
                        request, _("Response times saved for %(name)s.") % {"name": organisation.name}
                    )
                    return redirect("channels:response_times")
        else:
            form = ResponseTimesForm(
                organisation=organisation,
                initial=ResponseTimesForm.initial_for(response_times.targets_for(organisation.pk)),
            )
        forms_.append(form)
    status = 422 if posted is not None else 200
    return render(request, "messaging/channels_response_times.html", {"forms": forms_}, status=status)


# --- Entries by staff (handle_messages) ----------------------------------------------------------------


def _put_errors(form: Any, error: ChannelError) -> None:
    errors = error.errors if isinstance(error, ChannelInvalid) else {error.field: str(error)}
    for name, message in errors.items():
        form.add_error(name if name in form.fields else None, message)


@login_required
def call_new(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.HANDLE_MESSAGES)
    hotlines = entries.hotlines_for(request.user)
    form = CallForm(request.POST if request.method == "POST" else None, hotlines=hotlines)
    if request.method == "POST" and form.is_valid():
        try:
            message = entries.log_call(form.cleaned_data["channel"], form.to_input(), by=request.user)
        except ChannelError as error:
            _put_errors(form, error)
        else:
            messages.success(
                request,
                _("The call is logged (conversation %(number)s).") % {"number": message.conversation_id},
            )
            return redirect("channels:call_new")
    return render(request, "messaging/channels_call.html", {"form": form, "has_channels": hotlines.exists()})


@login_required
def social_new(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.HANDLE_MESSAGES)
    social = entries.social_channels_for(request.user)
    form = SocialForm(request.POST if request.method == "POST" else None, social=social)
    if request.method == "POST" and form.is_valid():
        try:
            message = entries.record_social(form.cleaned_data["channel"], form.to_input(), by=request.user)
        except ChannelError as error:
            _put_errors(form, error)
        else:
            messages.success(
                request,
                _("The message is recorded (conversation %(number)s).") % {"number": message.conversation_id},
            )
            return redirect("channels:social_new")
    return render(request, "messaging/channels_social.html", {"form": form, "has_channels": social.exists()})


@login_required
def social_import(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.HANDLE_MESSAGES)
    social = entries.social_channels_for(request.user)
    form = SocialImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        social=social,
    )
    problems: list[entries.Problem] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            form.add_error("file", _("The file is too large (2 MB at most)."))
        else:
            try:
                count = entries.import_social(form.cleaned_data["channel"], upload.read(), by=request.user)
            except entries.ImportRefused as error:
                problems = error.problems
                form.add_error(None, str(error))
            except ChannelError as error:
                _put_errors(form, error)
            else:
                messages.success(request, _("%(count)s message(s) imported.") % {"count": count})
                return redirect("channels:social_import")
    context = {
        "form": form,
        "problems": problems,
        "has_channels": social.exists(),
        "columns": entries.IMPORT_COLUMNS,
    }
    return render(request, "messaging/channels_social_import.html", context)
