"""The public web feedback form (/<lang>/feedback/) and its thank-you page; no JavaScript needed.

Which organisation hears it: the web-form channel named by `?channel=<key>`, else the only active one
(404 when there is none). The spam guards are in `feedback`: honeypot, minimum time, rate per address.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ventanilla.core.http import client_address
from ventanilla.messaging import feedback as service
from ventanilla.messaging.forms_channels import FeedbackForm


def feedback(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("channel") or None
    gateway = service.form_channel(key)
    if gateway is None:
        raise Http404
    key = str(gateway.key) if key else None
    status = 200
    if request.method == "POST":
        shown = request.POST.get("shown", "")
        data = request.POST.copy()
        data["shown"] = service.stamp()  # a fresh one if the form is shown again
        form = FeedbackForm(data)
        # Staff signed in (a desk entering what people say) are not counted; visitors are, per address.
        if not request.user.is_authenticated and service.over_rate(client_address(request)):
            form.is_valid()
            form.add_error(None, _("Too many messages from your connection. Please wait a few minutes."))
            status = 429
        elif form.is_valid():
            elapsed = service.seconds_since(shown)
            if form.cleaned_data["website"]:
                return redirect(_thanks(key))  # a bot: thanked, nothing stored
            if elapsed is None:
                form.add_error(
                    None, _("This page was open too long. Please check your message and send it again.")
                )
            elif elapsed < service.MIN_SECONDS:
                form.add_error(None, _("Please take a moment to read your message, then send it again."))
            else:
                values = form.cleaned_data
                service.submit(
                    gateway,
                    category=values["category"],
                    text=values["text"],
                    phone=values["phone"],
                    language=values["language"],
                )
                return redirect(_thanks(key))
    else:
        form = FeedbackForm(initial={"shown": service.stamp(), "language": translation.get_language()})
    return render(request, "messaging/feedback.html", {"form": form}, status=status)


def _thanks(key: str | None) -> str:
    url = reverse("feedback_thanks")
    return f"{url}?channel={key}" if key else url


def thanks(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("channel") or ""
    back = reverse("feedback") + (f"?channel={key}" if service.form_channel(key or None) else "")
    return render(request, "messaging/feedback_thanks.html", {"back": back})
