"""Webhook endpoints of SMS and WhatsApp gateways: /hooks/<key>/ (outside the language prefix).

The view does only what must happen in the request (check and store, see `ingest.receive`) and answers
at once; refusals give the status and a short reason and never echo or store the body.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ventanilla.messaging import ingest
from ventanilla.messaging.gateways.base import Request
from ventanilla.messaging.models_inbox import Gateway


def _request(request: HttpRequest) -> Request:
    body = request.body  # read first: the form is parsed from it
    form: dict[str, str] = {}
    if request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = {key: request.POST.get(key, "") for key in request.POST}
    return Request(
        url=request.build_absolute_uri(),
        headers={key.lower(): value for key, value in request.headers.items()},
        body=body,
        form=form,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def hook(request: HttpRequest, key: str) -> HttpResponse:
    gateway = Gateway.for_webhook(key)
    if request.method == "GET":
        # The WhatsApp Cloud API checks a webhook by asking it to echo a challenge with its verify token.
        if gateway is not None and gateway.kind == "whatsapp_cloud":
            token = str(ingest.credentials(gateway).get("verify_token", ""))
            if token and request.GET.get("hub.verify_token") == token:
                return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return JsonResponse({"error": "not found"}, status=404)
    if int(request.headers.get("Content-Length") or 0) > ingest.MAX_BODY:
        return JsonResponse({"error": "body too large"}, status=413)
    try:
        received = ingest.receive(gateway, _request(request))
    except ingest.Refused as refusal:
        return JsonResponse({"error": refusal.reason}, status=refusal.status)
    if gateway is not None and gateway.kind == "twilio":
        return HttpResponse("<Response/>", content_type="text/xml")
    return HttpResponse(
        json.dumps({"new": received.new, "repeated": received.repeated}), content_type="application/json"
    )
