"""The page a partner without an account opens from a referral link: /<language>/r/<token>/.

No sign-in: the signed token is the key, checked at every request (`links.resolve`). Whatever makes a
link unusable (stale, tampered, revoked, expired, the referral no longer active), the page says the
same thing and nothing more. A link with a one-time code shows nothing until this browser session
has given the code. Every use is an audit entry naming the referral and the link (`links.record_use`).

Responses are never stored (`Cache-Control: no-store`), never indexed, and never pass the token on in a
`Referer`: see `REFERRER_POLICY`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from ventanilla.referrals import links
from ventanilla.referrals.forms_partner import APPOINTMENT
from ventanilla.referrals.models import ReferralLink, ReferralStatus, Via
from ventanilla.referrals.views_partner import apply_answer, partner_context

SESSION_KEY = "referral_links_verified"  # ids of the links whose code this session has given
SESSION_KEEP = 20
# Not "no-referrer": with it, browsers send `Origin: null` on the page's own form posts and Django's
# CSRF check refuses them. "strict-origin" sends the origin only (never the path, so never the token),
# to this site and to any other, and nothing at all from HTTPS to HTTP.
REFERRER_POLICY = "strict-origin"
USES = frozenset({*ReferralStatus.values, APPOINTMENT})


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/link_gone.html", status=404)


def _verified(request: HttpRequest, link: ReferralLink) -> bool:
    return not links.needs_code(link) or link.pk in request.session.get(SESSION_KEY, [])


def _code(request: HttpRequest, link: ReferralLink) -> HttpResponse:
    """The code form, and the code given: right (remembered for this session) or wrong (one try less)."""
    if request.method != "POST":
        links.record_use(link, what="code_form")
        return render(request, "referrals/link_code.html")
    links.record_use(link, what="code")
    if "code" not in request.POST:
        messages.error(request, _("Enter the code you were sent."))
        return redirect(request.path)
    if links.check_code(link, request.POST["code"][:20]):
        request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []), link.pk][-SESSION_KEEP:]
        return redirect(request.path)
    if link.revoked_at is not None:
        return _gone(request)
    left = links.MAX_CODE_ATTEMPTS - link.code_attempts
    messages.error(
        request,
        ngettext(
            "That code is not right. You can try %(left)s more time.",
            "That code is not right. You can try %(left)s more times.",
            left,
        )
        % {"left": left},
    )
    return redirect(request.path)


@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = links.resolve(token)
    except links.LinkUnusable:
        return _private(_gone(request))
    if not _verified(request, link):
        return _private(_code(request, link))
    referral = link.referral
    if request.method == "POST":
        action = request.POST.get("action", "")
        links.record_use(link, what=action if action in USES else "unknown")
        apply_answer(request, referral, by=None, via=Via.LINK, link=link)
        return _private(redirect(request.path))
    links.record_use(link, what="view")
    return _private(
        render(request, "referrals/link_page.html", partner_context(referral, action_url=request.path))
    )
