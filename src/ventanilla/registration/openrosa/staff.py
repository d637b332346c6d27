"""The staff page "Phones": create a password for ODK Collect or KoboCollect (shown once), revoke it.

Only people who may register (edit_personal_data) at some site have phones; each sees only their own.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Site, User
from ventanilla.registration.models_openrosa import DeviceCredential
from ventanilla.registration.openrosa import credentials


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.organisation} — {obj.name}"


class DeviceForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the phone"),
        max_length=80,
        help_text=gettext_lazy("So you recognise it later, for example “Mobile team 2, blue phone”."),
    )
    site = SiteChoiceField(
        label=gettext_lazy("Site"),
        queryset=Site.objects.none(),
        help_text=gettext_lazy("People registered with this phone are registered at this site."),
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["site"]
        field.queryset = sites  # type: ignore[attr-defined]
        if len(sites) == 1:
            field.initial = sites[0].pk


def server_url(request: HttpRequest) -> str:
    """What to type in ODK Collect: the address the phone appends `formList` and `submission` to."""
    return request.build_absolute_uri(reverse("openrosa:form_list")).removesuffix("formList")


def collect_settings_qr(*, url: str, username: str, password: str, project: str) -> str:
    """ODK Collect's and KoboCollect's configuration QR code (JSON, zlib, base64), as an SVG data URI."""
    settings = {
        "general": {"server_url": url, "username": username, "password": password},
        "admin": {},
        "project": {"name": project},
    }
    payload = base64.b64encode(zlib.compress(json.dumps(settings).encode())).decode()
    return str(segno.make(payload, error="m").svg_data_uri(scale=4))


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    sites = credentials.registration_sites(user)
    if not sites.exists():
        raise PermissionDenied
    form = DeviceForm(request.POST or None, sites=sites)
    issued = None
    qr = ""
    url = server_url(request)
    if request.method == "POST" and form.is_valid():
        issued = credentials.create_device_credential(
            site=form.cleaned_data["site"], name=form.cleaned_data["name"], by=user
        )
        qr = collect_settings_qr(
            url=url,
            username=issued.credential.username,
            password=issued.password,
            project=f"Ventanilla — {issued.credential.site.name}",
        )
        form = DeviceForm(sites=sites)
    context = {
        "form": form,
        "issued": issued,
        "qr": qr,
        "server_url": url,
        "devices": DeviceCredential.objects.filter(user__pk=user.pk).select_related("site", "organisation"),
    }
    status = 422 if form.errors else 200
    return render(request, "registration/openrosa/devices.html", context, status=status)


@require_POST
@login_required
def revoke_device(request: HttpRequest, pk: int) -> HttpResponse:
    credential = DeviceCredential.objects.filter(pk=pk, user__pk=_user(request).pk).first()
    if credential is None:
        raise Http404
    credentials.revoke_device_credential(credential, by=_user(request))
    messages.success(request, _("The phone's password was revoked: it can no longer get forms or send them."))
    return redirect("openrosa_staff:devices")
