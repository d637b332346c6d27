"""HTTP Digest authentication (RFC 7616) as ODK Collect and KoboCollect speak it: MD5, qop=auth.

The nonce is a random value signed with a timestamp (Django's signing), so the server keeps no state
to issue or check it; it expires after NONCE_SECONDS and the phone is then told `stale=true` and
retries without asking the person for the password again. Replays of one exact request (same nonce,
client nonce and count) are refused through the cache: complete with a shared cache (Redis, the
served shape), per process with the local-memory cache (the embedded shape, a single process).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

from ventanilla.registration.models_openrosa import DeviceCredential
from ventanilla.registration.openrosa.credentials import REALM

NONCE_SECONDS = 300
_NONCE_SALT = "ventanilla.openrosa.nonce"
_PARAM = re.compile(r'([a-zA-Z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')
_NC = re.compile(r"^[0-9a-fA-F]{8}$")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def new_nonce() -> str:
    return signing.TimestampSigner(salt=_NONCE_SALT).sign(secrets.token_urlsafe(16))


def challenge(*, stale: bool = False) -> str:
    """The WWW-Authenticate value of a 401."""
    header = f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{new_nonce()}"'
    return header + (", stale=true" if stale else "")


def parse(header: str) -> dict[str, str] | None:
    """The parameters of a `Digest ...` Authorization header, or None for another scheme."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    for key, value in _PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key.lower()] = value
    return params


def response_for(
    ha1: str, *, method: str, uri: str, nonce: str, nc: str, cnonce: str, qop: str = "auth"
) -> str:
    """The `response` a client computes: MD5(HA1:nonce:nc:cnonce:qop:MD5(method:uri))."""
    ha2 = _md5(f"{method}:{uri}")
    return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


@dataclass(frozen=True)
class Check:
    """What the Authorization header said: a credential, or why not."""

    credential: DeviceCredential | None = None
    username: str = ""
    failed: bool = False  # a wrong or malformed answer: counts towards throttling
    stale: bool = False  # right password, expired nonce: ask again with a fresh one


def _same_uri(uri: str, request: HttpRequest) -> bool:
    parts = urlsplit(uri)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path == request.get_full_path()


def check(request: HttpRequest) -> Check:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    params = parse(header) if header else None
    if params is None:
        return Check()
    username = params.get("username", "")
    required = ("username", "realm", "nonce", "uri", "response", "nc", "cnonce")
    if (
        any(not params.get(key) for key in required)
        or params.get("qop") != "auth"
        or params.get("algorithm", "MD5").upper() != "MD5"
        or params["realm"] != REALM
        or not _NC.match(params["nc"])
        or not _same_uri(params["uri"], request)
    ):
        return Check(username=username, failed=True)
    credential = (
        DeviceCredential.objects.select_related("user", "site", "organisation")
        .filter(username=username, revoked_at__isnull=True)
        .first()
    )
    if credential is None or not credential.user.is_active:
        return Check(username=username, failed=True)
    expected = response_for(
        credential.ha1,
        method=request.method or "GET",
        uri=params["uri"],
        nonce=params["nonce"],
        nc=params["nc"],
        cnonce=params["cnonce"],
    )
    if not hmac.compare_digest(expected, params["response"].lower()):
        return Check(username=username, failed=True)
    try:
        signing.TimestampSigner(salt=_NONCE_SALT).unsign(params["nonce"], max_age=NONCE_SECONDS)
    except signing.SignatureExpired:
        return Check(username=username, stale=True)
    except signing.BadSignature:
        return Check(username=username, failed=True)
    seen = (
        "openrosa:nc:"
        + hashlib.sha256(f"{params['nonce']}|{params['cnonce']}|{params['nc']}".encode()).hexdigest()
    )
    if not cache.add(seen, 1, timeout=NONCE_SECONDS + 60):
        return Check(username=username, failed=True)  # the same request again: a replay
    return Check(credential=credential, username=username)
