"""The sending side: the referrals a site's case staff follow, a new referral, and its page.

Referrals are reached through `services.sent_referrals` (the user's sites, never a partner's inbox)
and read with `get_for`, which audits the read. Every change goes through `services`/`links`; their
refusals come back as messages (actions) or next to the field (the new referral form).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Site, User
from ventanilla.cases.models import Case
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import Category
from ventanilla.messaging import handover
from ventanilla.messaging.models import Channel
from ventanilla.referrals import lifecycle, links, projection, services
from ventanilla.referrals.forms import ALL, OPEN, LinkForm, ReferralFilterForm, ReferralForm, StatusForm
from ventanilla.referrals.lifecycle import Side
from ventanilla.referrals.models import (
    FocalPoint,
    Pathway,
    Referral,
    ReferralStatus,
    Urgency,
    Via,
)
from ventanilla.registration.models import Flag, FlagSeverity, Person

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _require(request: HttpRequest, permission: Permission) -> None:
    if not scope_for(request.user).has(permission):
        raise PermissionDenied


def _referral(request: HttpRequest, reference: str, *, purpose: str) -> Referral:
    """A referral of the user's sites (else 404), read through `get_for` (audited)."""
    pk = (
        services.sent_referrals(request.user).filter(reference=reference).values_list("pk", flat=True).first()
    )
    if pk is None:
        raise Http404
    referral: Referral = Referral.objects.select_related(
        "person", "pathway__provider", "service_point", "organisation", "site", "case"
    ).get_for(request.user, pk, purpose=purpose)
    return referral


def _person(request: HttpRequest, reference: str) -> Person:
    pk = (
        Person.objects.visible_to(request.user)
        .filter(reference=reference)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise Http404
    person: Person = Person.objects.get_for(request.user, pk, purpose="refer")
    return person


# --- the list --------------------------------------------------------------------------------------


@login_required
def referral_list(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    scope = scope_for(request.user)
    sites = Site.objects.filter(
        scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="pk")
    )
    form = ReferralFilterForm(request.GET, sites=sites)
    referrals = services.sent_referrals(request.user)
    status = OPEN
    if form.is_valid():
        status = form.cleaned_data["status"] or OPEN
        if form.cleaned_data["category"]:
            referrals = referrals.filter(category=form.cleaned_data["category"])
        if form.cleaned_data["site"]:
            referrals = referrals.filter(site=form.cleaned_data["site"])
    if status == OPEN:
        referrals = referrals.filter(status__in=lifecycle.OPEN)
    elif status != ALL:
        referrals = referrals.filter(status=status)
    referrals = referrals.select_related("person", "pathway__provider", "site").order_by("-created_at", "-pk")
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    now = timezone.now()
    for referral in rows:
        referral.is_overdue = (  # type: ignore[attr-defined]
            referral.status == ReferralStatus.SENT
            and referral.respond_by is not None
            and referral.respond_by < now
        )
    if rows:
        audit.record(
            AuditAction.READ,
            by=request.user,
            object_type="referrals.Referral",
            detail={"list": True, "count": len(rows)},
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/sender_list.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


# --- a new referral --------------------------------------------------------------------------------


def _field_labels(names: list[str]) -> list[str]:
    return [str(projection.FIELDS[name][0]) for name in names]


def _choices(person: Person, options: list[services.Option]) -> list[dict[str, Any]]:
    """Per option: the fields shared (with the values the partner would read) and those not shared."""
    today = timezone.localdate()
    computed: dict[tuple[str, tuple[str, ...], str], list[projection.Item]] = {}
    choices = []
    for option in options:
        fields = projection.fields_for(option.category, option.pathway.shared_fields)
        key = (option.category, tuple(fields), option.pathway.language)
        if key not in computed:
            computed[key] = projection.compute(
                person, category=option.category, fields=fields, language=option.pathway.language, today=today
            )
        choices.append(
            {
                "value": f"{option.pathway.pk}:{option.category}",
                "option": option,
                "fields": _field_labels(fields),
                "items": computed[key],
                "not_shared": _field_labels([name for name in projection.FIELDS if name not in fields]),
            }
        )
    return choices


def _service_errors(form: ReferralForm, error: services.ReferralError) -> None:
    """Put a refusal next to the input it is about (the pathway and service are one choice here)."""
    target = {
        "pathway": "option",
        "category": "option",
        "service_point": "service_point",
        "case": "case",
        "focal_point": "link_to",
        "channel": "link_channel",
        "with_code": "link_with_code",
    }.get(error.field)
    form.add_error(target, str(error))


@login_required
def create(request: HttpRequest, person_reference: str) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    person = _person(request, person_reference)
    if person.erased_at is not None or person.merged_into_id is not None:
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    flag: Flag | None = None
    if params.get("flag"):
        try:
            flag = person.flags.filter(dismissed_at__isnull=True).get(pk=int(params["flag"]))
        except (ValueError, Flag.DoesNotExist):
            raise Http404 from None
    # Made from an inbox conversation linked to this person (`messaging.handover`): recorded on it.
    conversation = (
        handover.for_referral(request.user, params["conversation"], person)
        if params.get("conversation")
        else None
    )
    wanted: list[str] | None = None
    if flag is not None and flag.categories:
        wanted = list(flag.categories)
    if params.get("category") in Category.values:
        wanted = [params["category"]]
    options = services.options_for(person, categories=wanted)
    narrowed = wanted is not None
    if narrowed and not options:
        messages.info(request, _("No pathway covers the suggested services; all pathways are shown."))
        options = services.options_for(person)
        narrowed = False
    option_choices = [
        (
            f"{option.pathway.pk}:{option.category}",
            f"{option.category_label} — {option.pathway.provider.name} ({option.pathway.name})",
        )
        for option in options
    ]
    points = []
    for option in options:
        choices = [
            (str(point.pk), point.name)
            for point in services.service_points_for(option.pathway, option.category)
        ]
        if choices:
            points.append((f"{option.category_label} — {option.pathway.provider.name}", choices))
    pathways = list(dict.fromkeys(option.pathway for option in options))
    focal_points = [
        (pathway.name, [(str(fp.pk), _focal_point_label(fp)) for fp in pathway.focal_points.all()])
        for pathway in pathways
    ]
    focal_points = [group for group in focal_points if group[1]]
    cases = list(Case.objects.visible_to(request.user).filter(person=person).order_by("-opened_at"))
    case_choices = [(case.reference, f"{case.reference} · {case.get_status_display()}") for case in cases]
    may_contact = services.may_contact(person)
    initial_case = params.get("case") or next((c.reference for c in cases if not c.is_closed), "")
    form = ReferralForm(
        request.POST if request.method == "POST" else None,
        options=option_choices,
        points=points,
        cases=case_choices,
        focal_points=focal_points,
        may_contact=may_contact,
        initial={
            "option": option_choices[0][0] if len(option_choices) == 1 else None,
            "urgency": Urgency.URGENT
            if flag is not None and flag.severity == FlagSeverity.CRITICAL
            else Urgency.NORMAL,
            "case": initial_case,
            "link_channel": Channel.EMAIL,
        },
    )
    if request.method == "POST" and form.is_valid():
        response = _create(request, form, person, flag, cases, conversation)
        if response is not None:
            return response
    return render(
        request,
        "referrals/sender_create.html",
        {
            "person": person,
            "flag": flag,
            "conversation": conversation,
            "form": form,
            "options": options,
            "narrowed": narrowed,
            "choices": _choices(person, options),
            "may_contact": may_contact,
            "has_consent": services.has_referral_consent(person),
        },
    )


def _focal_point_label(point: FocalPoint) -> str:
    addresses = " · ".join(a for a in (point.email, point.phone) if a)
    return f"{point.name} ({addresses})" if addresses else point.name


def _create(
    request: HttpRequest,
    form: ReferralForm,
    person: Person,
    flag: Flag | None,
    cases: list[Case],
    conversation: Any = None,
) -> HttpResponse | None:
    data = form.cleaned_data
    pathway_id, category = data["option"]
    pathway = Pathway.objects.filter(pk=pathway_id, organisation_id=person.organisation_id).first()
    if pathway is None:
        form.add_error("option", _("Choose one of the partners offered."))
        return None
    service_point = None
    if data["service_point"]:
        service_point = (
            services.service_points_for(pathway, category).filter(pk=data["service_point"]).first()
        )
        if service_point is None:
            form.add_error("service_point", _("That service point is not part of this pathway."))
            return None
    case = next((c for c in cases if c.reference == data["case"]), None) if data["case"] else None
    link = None
    if data["link_to"] == ReferralForm.LINK_SHOWN:
        link = services.LinkRequest(focal_point=None, with_code=data["link_with_code"])
    elif data["link_to"]:
        focal_point = FocalPoint.objects.filter(pk=data["link_to"], pathway=pathway).first()
        if focal_point is None:
            form.add_error("link_to", _("That focal point is not on this pathway."))
            return None
        link = services.LinkRequest(
            focal_point=focal_point,
            channel=data["link_channel"] or Channel.EMAIL,
            with_code=data["link_with_code"],
        )
    try:
        referral, issued = services.create_and_share(
            person,
            link=link,
            pathway=pathway,
            category=category,
            by=_user(request),
            need=data["need"],
            service_point=service_point,
            flag=flag,
            case=case,
            conversation=conversation,
            urgency=data["urgency"],
            appointment=data["appointment"],
            tell_person=bool(data.get("tell_person")),
        )
    except services.ReferralPermissionError:
        raise PermissionDenied from None
    except services.ReferralError as error:
        _service_errors(form, error)
        return None
    messages.success(request, _("Referral %(reference)s is sent.") % {"reference": referral.reference})
    if issued is not None:
        _announce_link(request, issued)
    return redirect("referrals:detail", referral.reference)


def _announce_link(request: HttpRequest, issued: links.IssuedLink) -> None:
    """A link handed to a focal point is sent; one with nobody to send to is shown once, here."""
    if issued.link.sent_to is not None:
        messages.success(
            request,
            _("A link was sent to %(name)s.") % {"name": issued.link.sent_to.name},
        )
        return
    messages.warning(
        request,
        _("Pass this link to the partner; it is shown only once: %(url)s") % {"url": issued.url},
    )
    if issued.code:
        messages.warning(
            request,
            _("Give the partner this one-time code by another way (a call, in person): %(code)s")
            % {"code": issued.code},
        )


# --- one referral ----------------------------------------------------------------------------------


@login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    referral = _referral(request, reference, purpose="view")
    side = services.side_of(_user(request), referral)
    events = list(referral.events.select_related("by", "link"))
    for event in events:
        event.reason_label = lifecycle.reason_label(event.to_status, event.reason) if event.reason else ""  # type: ignore[attr-defined]
    referral_links = list(referral.links.select_related("sent_to", "created_by"))
    actions = lifecycle.next_statuses(referral.status, Side.SENDER) if side == Side.SENDER else []
    focal_points = list(referral.pathway.focal_points.all())
    link_form = LinkForm(
        focal_points=[(str(fp.pk), _focal_point_label(fp)) for fp in focal_points],
        initial={"channel": Channel.EMAIL},
    )
    now = timezone.now()
    return render(
        request,
        "referrals/sender_detail.html",
        {
            "referral": referral,
            "events": events,
            "shared": projection.loads(referral.shared),
            "referral_links": referral_links,
            "now": now,
            "is_overdue": referral.status == ReferralStatus.SENT
            and referral.respond_by is not None
            and referral.respond_by < now,
            "may_act": side == Side.SENDER,
            "actions": [(status, ReferralStatus(status).label) for status in actions],
            "withdraw_reasons": list(lifecycle.WITHDRAW_REASONS.items()),
            "may_share": side == Side.SENDER and referral.status in lifecycle.PARTNER_VISIBLE,
            "link_form": link_form,
            "decision_reason": lifecycle.reason_label(referral.status, referral.reason)
            if referral.reason
            else "",
        },
    )


def _refuse(request: HttpRequest, error: services.ReferralError) -> None:
    if isinstance(error, services.ReferralPermissionError):
        raise PermissionDenied
    messages.error(request, str(error))


@login_required
@require_POST
def change_status(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    referral = _referral(request, reference, purpose="change_status")
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to do, and a reason where one is asked."))
        return redirect("referrals:detail", reference)
    to = form.cleaned_data["to"]
    try:
        services.transition(
            referral,
            to,
            by=_user(request),
            via=Via.STAFF,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except services.ReferralError as error:
        _refuse(request, error)
    else:
        messages.success(
            request,
            _("Referral %(reference)s: %(status)s.")
            % {"reference": referral.reference, "status": ReferralStatus(to).label},
        )
    return redirect("referrals:detail", reference)


@login_required
@require_POST
def issue_link(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    referral = _referral(request, reference, purpose="share")
    focal_points = {str(fp.pk): fp for fp in referral.pathway.focal_points.all()}
    form = LinkForm(request.POST, focal_points=[(pk, fp.name) for pk, fp in focal_points.items()])
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("referrals:detail", reference)
    data = form.cleaned_data
    try:
        issued = links.issue(
            referral,
            by=_user(request),
            focal_point=focal_points.get(data["focal_point"]),
            channel=data["channel"],
            with_code=data["with_code"],
            days=data["days"],
        )
    except services.ReferralError as error:
        _refuse(request, error)
    else:
        _announce_link(request, issued)
    return redirect("referrals:detail", reference)


@login_required
@require_POST
def revoke_link(request: HttpRequest, reference: str, link_id: int) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    referral = _referral(request, reference, purpose="revoke_link")
    link = get_object_or_404(referral.links.select_related("referral"), pk=link_id)
    try:
        links.revoke(link, by=_user(request))
    except services.ReferralError as error:
        _refuse(request, error)
    else:
        messages.success(request, _("The link is revoked; it shows nothing any more."))
    return redirect("referrals:detail", reference)
