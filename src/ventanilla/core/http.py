"""Request helpers shared by apps."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only for the configured number of proxies.

    Behind a reverse proxy REMOTE_ADDR is the proxy, so throttling by it would lock every user out at
    once. With TRUSTED_PROXY_COUNT=N the Nth address from the right of X-Forwarded-For is taken (the
    one our own outermost proxy saw); addresses further left are client-supplied and never trusted.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        return remote
    return chain[-proxies]
