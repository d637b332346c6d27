"""Caseworker pages: register with the form, find people, see a person's record, decide on duplicates,
withdraw consent, print the consent receipt, correct answers, erase.

Every person is reached through the scoping layer (`get_for` audits the read); lists are audited once
with their size. Names never go into URLs: a person's address is the pseudonymous reference.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Site, User
from ventanilla.cases import services as case_services
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import Category
from ventanilla.messaging import handover
from ventanilla.questionnaires import engine, filling
from ventanilla.questionnaires.display import answer_text, in_words
from ventanilla.questionnaires.models import FormVersion, Questionnaire
from ventanilla.questionnaires.schema import FormSchema
from ventanilla.questionnaires.services import InvalidSubmission
from ventanilla.referrals import services as referral_services
from ventanilla.registration import receipts, screening, services
from ventanilla.registration.forms import PeopleFilterForm
from ventanilla.registration.models import (
    Consent,
    DuplicateCandidate,
    DuplicateDecision,
    Flag,
    Person,
    PersonLink,
    Registration,
)

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _require(request: HttpRequest, permission: Permission) -> None:
    if not scope_for(request.user).has(permission):
        raise PermissionDenied


def _person(request: HttpRequest, reference: str, *, purpose: str = "") -> Person:
    pk = (
        Person.objects.visible_to(request.user)
        .filter(reference=reference)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise Http404
    person: Person = Person.objects.get_for(request.user, pk, purpose=purpose)
    return person


def registration_sites(user: Any) -> QuerySet[Site]:
    """Sites where the user may register people: every site of an org-wide grant, else their own."""
    condition = scope_for(user).site_q(Permission.EDIT_PERSONAL_DATA, organisation="organisation", site="pk")
    return (
        Site.objects.filter(condition, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    form = PeopleFilterForm(request.GET, sites=registration_sites(request.user) | _visible_sites(request))
    people = services.people(request.user)
    if form.is_valid():
        people = services.filter_people(people, **form.cleaned_data)
    people = people.select_related("site").annotate(
        open_flags=Count("flags", filter=Q(flags__dismissed_at__isnull=True), distinct=True),
        pending_duplicates=Count(
            "duplicate_candidates",
            filter=Q(duplicate_candidates__decision=DuplicateDecision.PENDING),
            distinct=True,
        ),
    )
    page = Paginator(people.order_by("-registered_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    flags: dict[int, list[str]] = {}
    for person_id, code in Flag.objects.filter(person__in=rows, dismissed_at__isnull=True).values_list(
        "person_id", "code"
    ):
        flags.setdefault(person_id, []).append(code)
    labels = {
        rule.code: rule.text(translation.get_language() or "en") for rule in screening.active_ruleset().rules
    }
    for person in rows:
        person.flag_labels = [labels.get(code, code) for code in flags.get(person.pk, [])]  # type: ignore[attr-defined]
    if rows:
        audit.record(
            AuditAction.READ,
            by=request.user,
            object_type="registration.Person",
            detail={"list": True, "count": len(rows)},
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registration/person_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "may_register": registration_sites(request.user).exists(),
        },
    )


def _visible_sites(request: HttpRequest) -> QuerySet[Site]:
    scope = scope_for(request.user)
    return Site.objects.filter(
        scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="pk")
    )


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """Choose the form and site (skipped when there is one of each), then fill it page by page."""
    _require(request, Permission.EDIT_PERSONAL_DATA)
    sites = registration_sites(request.user)
    forms = list(services.registration_forms(request.user))
    if not forms:
        services.shipped_form()
        forms = list(services.registration_forms(request.user))
    site = _chosen(sites, request.GET.get("site") or request.POST.get("_site"))
    questionnaire = _chosen_form(forms, request.GET.get("form") or request.POST.get("_form"))
    together_with = None
    reference = request.GET.get("with") or request.POST.get("_with") or ""
    if reference:
        together_with = _person(request, reference, purpose="register_companion")
    # Started from an inbox conversation: the new record is linked to it (`messaging.handover`).
    conversation_id = request.GET.get("conversation") or request.POST.get("_conversation") or ""
    conversation = handover.for_registration(request.user, conversation_id) if conversation_id else None
    if conversation is not None:
        sites = sites.filter(organisation_id=conversation.organisation_id)
        site = _chosen(sites, request.GET.get("site") or request.POST.get("_site"))
    if site is None or questionnaire is None:
        return render(
            request,
            "registration/register_choose.html",
            {"sites": sites, "forms": forms, "with": reference, "conversation": conversation},
        )
    version = questionnaire.current
    assert version is not None
    relationship = (request.POST.get("_relationship") or request.GET.get("relationship") or "")[:30]

    def done(answers: dict[str, Any], language: str) -> HttpResponse | dict[str, str]:
        try:
            outcome = services.register(
                version,
                answers,
                organisation=site.organisation,
                site=site,
                by=_user(request),
                language=language,
                together_with=together_with,
                relationship=relationship,
            )
        except InvalidSubmission as error:
            return error.errors
        except services.AlreadyReceived:
            return {"_": _("This form was already submitted.")}
        if outcome.person is not None:
            messages.success(
                request, _("%(reference)s is registered.") % {"reference": outcome.person.reference}
            )
            if conversation is not None:
                handover.link_person(conversation, outcome.person, by=_user(request))
                return redirect("inbox:detail", conversation.pk)
            return redirect("registration:person_detail", outcome.person.reference)
        return render(request, "registration/register_done.html", {"outcome": outcome})

    return filling.fill(
        request,
        version,
        on_complete=done,
        template="registration/register_fill.html",
        initial=(
            {
                **engine.initial_answers(version.schema),
                **handover.initial_answers(conversation, version.schema),
            }
            if conversation is not None
            else None
        ),
        context={
            "conversation": conversation,
            "site": site,
            "questionnaire": questionnaire,
            "together_with": together_with,
            "relationship": relationship,
            "relationships": RELATIONSHIPS,
        },
    )


CATEGORY_LABELS = dict(Category.choices)


def _journey_in_words(schema: FormSchema, legs: Any, language: str) -> list[dict[str, Any]]:
    """Each leg with its transport and organiser in words, from the labels of the form it came from."""
    words = []
    for leg in legs:
        entry: dict[str, Any] = {"leg": leg, "transport": leg.transport, "organised_by": leg.organised_by}
        for field_name, question in (("transport", "leg_transport"), ("organised_by", "leg_organised_by")):
            node = schema.node_named(question)
            if node is not None and entry[field_name]:
                entry[field_name] = answer_text(schema, node, entry[field_name], language)
        words.append(entry)
    return words


RELATIONSHIPS = ["spouse_partner", "child", "parent", "sibling", "other_relative", "friend", "unrelated"]


def _chosen(sites: QuerySet[Site], value: str | None) -> Site | None:
    if value:
        try:
            return sites.filter(pk=int(value)).first()
        except ValueError:
            return None
    return sites.first() if sites.count() == 1 else None


def _chosen_form(forms: list[Questionnaire], value: str | None) -> Questionnaire | None:
    if value:
        return next((f for f in forms if str(f.pk) == value), None)
    return forms[0] if len(forms) == 1 else None


@login_required
def person_detail(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    person = _person(request, reference, purpose="view")
    if person.merged_into_id:
        survivor = Person.objects.visible_to(request.user).filter(pk=person.merged_into_id).first()
        if survivor is not None:
            messages.info(
                request, _("This record was merged into %(reference)s.") % {"reference": survivor.reference}
            )
    language = translation.get_language() or "en"
    registrations = list(
        person.registrations.select_related(
            "site", "form_version", "submission", "registered_by"
        ).prefetch_related("legs")
    )
    for registration in registrations:
        schema = registration.form_version.schema
        lines = in_words(schema, registration.submission.answers, language) if registration.submission else []
        registration.lines = lines
        registration.journey = _journey_in_words(schema, registration.legs.all(), language)
    flags = list(
        person.flags.select_related("registration__form_version").order_by("dismissed_at", "severity", "code")
    )
    rules = {rule.code: rule for rule in screening.active_ruleset().rules}
    for flag in flags:
        rule = rules.get(flag.code)
        flag.label = rule.text(language) if rule else flag.code
        flag.explained = screening.explain(flag.registration.form_version.schema, flag.reasons, language)
        flag.category_labels = [str(CATEGORY_LABELS.get(code, code)) for code in flag.categories]
    duplicates = list(
        DuplicateCandidate.objects.filter(Q(person=person) | Q(candidate=person))
        .exclude(decision=DuplicateDecision.NOT_SAME)
        .select_related("person", "candidate")
    )
    links = list(person.links.select_related("other")) + list(
        PersonLink.objects.filter(other=person).select_related("person")
    )
    may_edit = scope_for(request.user).has(Permission.EDIT_PERSONAL_DATA)
    referrals = (
        list(
            referral_services.sent_referrals(request.user)
            .filter(person=person)
            .select_related("pathway__provider")
            .order_by("-created_at", "-pk")
        )
        if may_edit
        else []
    )
    cases = list(case_services.cases(request.user).filter(person=person).select_related("owner"))
    return render(
        request,
        "registration/person_detail.html",
        {
            "person": person,
            "registrations": registrations,
            "flags": flags,
            "duplicates": duplicates,
            "consents": person.consents.select_related("recorded_by").order_by("purpose"),
            "travelling": links,
            "may_edit": may_edit,
            "referrals": referrals,
            "relationships": RELATIONSHIPS,
            "open_case": next((case for case in cases if not case.is_closed), None),
            "closed_cases": [case for case in cases if case.is_closed],
            "may_open_case": case_services.may_edit_at(
                _user(request), person.organisation_id, person.site_id
            ),
        },
    )


@login_required
def consent_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.VIEW_PERSONAL_DATA)
    person = _person(request, reference, purpose="consent_receipt")
    registration = (
        person.registrations.order_by("-registered_at").select_related("site", "organisation").first()
    )
    if registration is None:
        raise Http404
    receipt = receipts.build(person, registration)
    return render(request, "registration/receipt.html", {"person": person, "receipt": receipt})


@login_required
@require_POST
def withdraw_consent(request: HttpRequest, reference: str, consent_id: int) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    person = _person(request, reference, purpose="withdraw_consent")
    consent = get_object_or_404(Consent, pk=consent_id, person=person)
    services.withdraw_consent(consent, by=_user(request))
    messages.success(request, _("The consent is withdrawn."))
    return redirect("registration:person_detail", reference)


@login_required
@require_POST
def decide_duplicate(request: HttpRequest, reference: str, candidate_id: int, decision: str) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    person = _person(request, reference, purpose="duplicates")
    candidate = get_object_or_404(
        DuplicateCandidate.objects.filter(Q(person=person) | Q(candidate=person)), pk=candidate_id
    )
    try:
        if decision == "merge":
            survivor = services.merge(candidate, by=_user(request))
            messages.success(request, _("The two records are merged."))
            return redirect("registration:person_detail", survivor.reference)
        if decision == "undo":
            services.undo_merge(candidate, by=_user(request))
            messages.success(request, _("The merge is undone."))
        elif decision == "not-same":
            services.mark_not_same(candidate, by=_user(request))
            messages.success(request, _("Marked as two different people."))
        else:
            raise Http404
    except (ValueError, services.RegistrationPermissionError) as error:
        messages.error(request, str(error))
    return redirect("registration:person_detail", reference)


@login_required
@require_POST
def dismiss_flag(request: HttpRequest, reference: str, flag_id: int) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    person = _person(request, reference, purpose="flags")
    flag = get_object_or_404(Flag, pk=flag_id, person=person)
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        messages.error(request, _("Say why the flag no longer applies."))
    else:
        services.dismiss_flag(flag, reason=reason, by=_user(request))
        messages.success(request, _("The flag is closed."))
    return redirect("registration:person_detail", reference)


@login_required
def erase(request: HttpRequest, reference: str) -> HttpResponse:
    _require(request, Permission.EDIT_PERSONAL_DATA)
    person = _person(request, reference, purpose="erase")
    if request.method == "POST":
        if request.POST.get("confirm") != person.reference:
            messages.error(request, _("Type the reference to confirm."))
        else:
            services.erase_person(person, by=_user(request), reason="request")
            messages.success(
                request, _("The personal data of %(reference)s is erased.") % {"reference": person.reference}
            )
            return redirect("registration:person_list")
    return render(request, "registration/erase.html", {"person": person})


@login_required
def correct(request: HttpRequest, reference: str, registration_id: int) -> HttpResponse:
    """Change answers with the same form and rules; a reason is required and kept."""
    _require(request, Permission.EDIT_PERSONAL_DATA)
    person = _person(request, reference, purpose="correct")
    registration = get_object_or_404(
        Registration.objects.select_related("submission", "form_version"), pk=registration_id, person=person
    )
    if registration.submission is None:
        raise Http404
    version: FormVersion = registration.form_version

    def done(answers: dict[str, Any], language: str) -> HttpResponse | dict[str, str]:
        reason = (request.POST.get("_reason") or "").strip()
        if not reason:
            return {"_reason": _("Say why the answers change.")}
        try:
            services.correct_answers(registration, answers, reason=reason, by=_user(request), replace=True)
        except InvalidSubmission as error:
            return error.errors
        messages.success(request, _("The answers are corrected."))
        return redirect("registration:person_detail", reference)

    return filling.fill(
        request,
        version,
        on_complete=done,
        initial=registration.submission.answers,
        template="registration/correct_fill.html",
        context={"person": person, "registration": registration, "reason": request.POST.get("_reason", "")},
    )
