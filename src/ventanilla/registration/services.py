"""Registering people with their consent, screening them, finding duplicates, and forgetting them.

`register` is the one path every channel takes (the web form, ODK Collect through OpenRosa, the API):
validate against the form → consent decides what may be stored → person (encrypted) → journey and
de-identified facts → screening flags → duplicate candidates, all in one transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, Site, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.questionnaires import engine
from ventanilla.questionnaires.models import FormVersion, Purpose, Questionnaire, Source, Submission
from ventanilla.questionnaires.services import InvalidSubmission, _instance_uuid, forms_for, upload_form
from ventanilla.registration import mapping, matching, screening
from ventanilla.registration.models import (
    AnswerCorrection,
    Consent,
    ConsentPurpose,
    DuplicateCandidate,
    DuplicateDecision,
    Flag,
    JourneyLeg,
    LinkKind,
    MatchKey,
    Person,
    PersonLink,
    Registration,
    age_band,
)


class RegistrationPermissionError(PermissionError):
    pass


class AlreadyReceived(ValueError):
    """The same instance (OpenRosa instanceID) was stored before: a resend, not a new person."""

    def __init__(self, registration: Registration | None):
        self.registration = registration
        super().__init__("already received")


@dataclass
class Outcome:
    stored: str  # "personal", "anonymous" or "nothing"
    registration: Registration | None = None
    person: Person | None = None
    flags: list[Flag] = field(default_factory=list)
    duplicates: list[DuplicateCandidate] = field(default_factory=list)


def _require(by: User | None, organisation: Organisation, site: Site | None, permission: Permission) -> None:
    scope = scope_for(by)
    if scope.is_superuser:
        return
    if scope.holds_at(permission, organisation.pk, site.pk if site is not None else None):
        return
    raise RegistrationPermissionError(_("You cannot register people for this organisation or site."))


def people(user: Any) -> QuerySet[Person]:
    """The people this user may see (merged duplicates are reached through their survivor)."""
    return Person.objects.visible_to(user).filter(merged_into__isnull=True)


@transaction.atomic
def register(
    version: FormVersion,
    answers: dict[str, Any],
    *,
    organisation: Organisation,
    site: Site | None,
    by: User | None,
    language: str = "",
    source: str = Source.WEB,
    instance_id: str | None = None,
    together_with: Person | None = None,
    relationship: str = "",
    today: datetime.date | None = None,
) -> Outcome:
    """Register one person from a filled form; `InvalidSubmission` names each bad answer."""
    _require(by, organisation, site, Permission.EDIT_PERSONAL_DATA)
    schema = version.schema
    missing = [name for name in mapping.REQUIRED_QUESTIONS if schema.node_named(name) is None]
    if missing:
        raise InvalidSubmission({name: _("A registration form must ask this question.") for name in missing})
    state = engine.evaluate(schema, answers, language=language, today=today)
    if not state.is_valid:
        raise InvalidSubmission(state.errors)
    clean = state.answers()
    instance_uuid = _instance_uuid(instance_id or clean.get("instanceID"))
    if (
        Registration.objects.filter(instance_uuid=instance_uuid).exists()
        or Submission.objects.filter(uuid=instance_uuid).exists()
    ):
        raise AlreadyReceived(Registration.objects.filter(instance_uuid=instance_uuid).first())
    consent = mapping.consent(clean, language)
    if not consent.registration and not consent.statistics:
        audit.record(
            AuditAction.CREATE,
            by=by,
            object_type="registration.Registration",
            organisation_id=organisation.pk,
            detail={"stored": "nothing", "source": source},
        )
        return Outcome(stored="nothing")

    age = mapping.age_of(clean)
    registration = Registration(
        organisation=organisation,
        site=site,
        form_version=version,
        registered_by=by,
        language=language[:12],
        instance_uuid=instance_uuid,
        anonymous=not consent.registration,
        age_band=age_band(age),
        statistics=mapping.statistics(clean),
        country_of_origin=str(clean.get("country_of_origin") or "")[:2].upper(),
        destination_country=str(clean.get("destination_country") or "")[:2].upper(),
    )
    person: Person | None = None
    if consent.registration:
        found = mapping.person(clean)
        registration.sex = found.sex
        registration.nationality = found.nationality
        person = Person(organisation=organisation, site=site)
        _set_identity(person, found, today)
        person.save()
        _file_match_keys(person)
        submission = Submission(
            uuid=instance_uuid,
            form_version=version,
            organisation=organisation,
            site=site,
            submitted_by=by,
            source=source,
            language=language[:12],
        )
        submission.answers = clean
        submission.save()
        registration.person = person
        registration.submission = submission
    else:
        # Statistics only: the de-identified facts, nothing that says who.
        registration.sex, band = mapping.anonymous_facts(clean)
        registration.age_band = band or registration.age_band
    registration.save()
    _write_journey(registration, clean)
    for purpose, given in consent.purposes().items():
        if person is None and purpose != ConsentPurpose.STATISTICS:
            continue
        Consent.objects.create(
            organisation=organisation,
            site=site,
            person=person,
            registration=registration,
            purpose=purpose,
            given=given,
            method=consent.method,
            language=consent.language,
            recorded_by=by,
        )
    outcome = Outcome(stored="personal" if person else "anonymous", registration=registration, person=person)
    if person is not None:
        outcome.flags = _raise_flags(state, registration, person)
        outcome.duplicates = find_duplicates(person, record=True)
        if together_with is not None:
            link_people(person, together_with, relationship=relationship, by=by, child_age=age)
        audit.record_change(AuditAction.CREATE, person, by=by, detail={"source": source})
    audit.record_change(
        AuditAction.CREATE,
        registration,
        by=by,
        detail={"stored": outcome.stored, "source": source, "flags": len(outcome.flags)},
    )
    return outcome


def _set_identity(person: Person, found: mapping.PersonAnswers, today: datetime.date | None) -> None:
    """The person's fields from the form's answers: one mapping for registering and for correcting."""
    for name in ("given_name", "family_name", "other_names", "date_of_birth", "sex", "nationality", "phone"):
        setattr(person, name, getattr(found, name))
    person.age_estimate = found.age if found.age_estimated else None
    person.birth_year = _birth_year(found, today)
    person.documents = json.dumps(found.documents, ensure_ascii=False) if found.documents else ""


def _write_journey(registration: Registration, answers: dict[str, Any]) -> None:
    JourneyLeg.objects.bulk_create(
        JourneyLeg(registration=registration, order=number, **vars(leg))
        for number, leg in enumerate(mapping.legs(answers), start=1)
    )


def _birth_year(found: mapping.PersonAnswers, today: datetime.date | None) -> int | None:
    if found.date_of_birth:
        return found.date_of_birth.year
    if found.age is not None:
        return (today or timezone.localdate()).year - found.age
    return None


def identity(person: Person) -> matching.Identity:
    return matching.Identity(
        given_name=person.given_name or "",
        family_name=person.family_name or "",
        birth_year=person.birth_year,
        date_of_birth=person.date_of_birth,
        estimated=person.date_of_birth is None,
        nationality=person.nationality,
        sex=person.sex,
        phone_index=person.phone_index,
    )


def _file_match_keys(person: Person) -> None:
    MatchKey.objects.filter(person=person).delete()
    keys = matching.match_keys(identity(person)) | matching.match_keys(
        identity(person), years=[], search_names=True
    )
    MatchKey.objects.bulk_create(MatchKey(person=person, key=key) for key in sorted(keys))


def _raise_flags(state: engine.FormState, registration: Registration, person: Person) -> list[Flag]:
    ruleset = screening.active_ruleset()
    flags = [
        Flag(
            organisation_id=registration.organisation_id,
            site_id=registration.site_id,
            registration=registration,
            person=person,
            code=result.rule.code,
            severity=result.rule.severity,
            ruleset_version=ruleset.version,
            reasons=result.reasons,
            categories=list(result.rule.categories),
        )
        for result in screening.screen(state, ruleset)
    ]
    return Flag.objects.bulk_create(flags)


def candidate_ids(person: Person) -> list[int]:
    """Blocking: people of the same organisation sharing the phone or match keys with `person`, those
    sharing the most keys first, at most `matching.MAX_CANDIDATES`.

    Common names make large blocks (thousands share "hernández" and a birth year among a million), so
    the cost must not grow with the block: each key is read from the (key, person) index with its own
    limit, newest first, in one query, and people are ranked by how many keys they share — the same
    name *and* year ahead of people who share only one of them. Only the best-ranked ids are then
    checked against the organisation, merges and erasure.
    """
    ident = identity(person)
    weights = matching.weighted_match_keys(ident, years=matching.search_years(ident))
    keys = sorted(weights)
    live = Person.objects.filter(
        organisation_id=person.organisation_id, merged_into__isnull=True, erased_at__isnull=True
    ).exclude(pk=person.pk)
    found: list[int] = []
    if person.phone_index:
        found = list(
            live.filter(phone_index=person.phone_index)
            .order_by("-pk")
            .values_list("pk", flat=True)[: matching.MAX_CANDIDATES]
        )
    if not keys or len(found) >= matching.MAX_CANDIDATES:
        return found
    shared: Counter[int] = Counter()
    for person_id, key in _block_members(keys, exclude=person.pk):
        shared[person_id] += weights.get(key, 1)
    ranked = [pk for pk, _count in sorted(shared.items(), key=lambda item: (-item[1], -item[0]))]
    ranked = ranked[: matching.MAX_CANDIDATES * CANDIDATE_OVERSCAN]
    if not ranked:
        return found
    allowed = set(live.filter(pk__in=ranked).order_by().values_list("pk", flat=True))  # no sort
    seen = set(found)
    for pk in ranked:
        if pk in allowed and pk not in seen:
            found.append(pk)
            if len(found) >= matching.MAX_CANDIDATES:
                break
    return found


# Ranked ids read before the organisation filter: other organisations' people with the same names take
# places in the ranking, so read several times the limit (a small organisation beside a large one).
CANDIDATE_OVERSCAN = 4
# People read per match key: bounds the work for the most common names.
PER_KEY = 300


def _block_members(keys: list[str], *, exclude: int) -> list[tuple[int, str]]:
    """Person ids filed under each key, at most PER_KEY per key, in one round trip (SQLite and PostgreSQL)."""
    table = connection.ops.quote_name(MatchKey._meta.db_table)
    # The table name is the model's and the limit an int: nothing from outside goes into the text.
    block = f"SELECT person_id, key FROM {table} WHERE key = %s ORDER BY person_id DESC LIMIT {PER_KEY:d}"  # noqa: S608
    one = f"SELECT person_id, key FROM ({block}) AS b"  # noqa: S608
    sql = " UNION ALL ".join([one] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(sql, keys)
        return [(row[0], row[1]) for row in cursor.fetchall() if row[0] != exclude]


def find_duplicates(person: Person, *, record: bool = False) -> list[DuplicateCandidate]:
    """Score the candidates; with `record`, keep those above the threshold for a caseworker to decide."""
    ids = candidate_ids(person)
    if not ids:
        return []
    decided = set(
        DuplicateCandidate.objects.filter(person=person)
        .exclude(decision=DuplicateDecision.PENDING)
        .values_list("candidate_id", flat=True)
    )
    new = identity(person)
    found: list[DuplicateCandidate] = []
    # Only what scoring reads: every encrypted column loaded is a decryption.
    scored_fields = (
        "pk",
        "given_name",
        "family_name",
        "date_of_birth",
        "birth_year",
        "nationality",
        "sex",
        "phone_index",
    )
    for other in Person.objects.filter(pk__in=ids).exclude(pk__in=decided).only(*scored_fields):
        result = matching.score(new, identity(other))
        if result.value < matching.THRESHOLD:
            continue
        found.append(
            DuplicateCandidate(
                organisation_id=person.organisation_id,
                site_id=person.site_id,
                person=person,
                candidate=other,
                score=result.value,
                reasons=result.reasons,
            )
        )
    found.sort(key=lambda c: -c.score)
    if record and found:
        DuplicateCandidate.objects.bulk_create(found, ignore_conflicts=True)
        found = list(
            DuplicateCandidate.objects.filter(
                person=person, decision=DuplicateDecision.PENDING
            ).select_related("candidate")
        )
    return found


def link_people(
    person: Person, other: Person, *, relationship: str, by: User | None, child_age: int | None = None
) -> PersonLink:
    """Link two people travelling together; a child's link to an adult says who accompanies the child."""
    if person.pk == other.pk or person.organisation_id != other.organisation_id:
        raise ValueError(_("Only two different people of the same organisation can be linked."))
    family = relationship in {"spouse_partner", "child", "parent", "sibling", "other_relative"}
    kind = LinkKind.FAMILY if family else LinkKind.GROUP
    if child_age is not None and child_age < 18:
        kind = LinkKind.ACCOMPANYING_ADULT
    link, _created = PersonLink.objects.get_or_create(
        person=person,
        other=other,
        kind=kind,
        defaults={
            "organisation_id": person.organisation_id,
            "site_id": person.site_id,
            "relationship": relationship[:30],
            "created_by": by,
        },
    )
    audit.record_change(AuditAction.UPDATE, person, by=by, fields=["links"])
    return link


# --- Duplicates: decide, merge, undo ----------------------------------------------------------------


def _require_case_access(by: User, person: Person) -> None:
    if not Person.objects.visible_to(by).filter(pk=person.pk).exists() or not scope_for(by).has(
        Permission.EDIT_PERSONAL_DATA
    ):
        raise RegistrationPermissionError(_("You cannot change this record."))


def _moved() -> tuple[tuple[Any, str], ...]:
    """What follows a person into a merge: their registrations, consents, flags, referrals and cases."""
    from ventanilla.cases.models import Case
    from ventanilla.messaging.models_inbox import Conversation
    from ventanilla.referrals.models import Referral

    return (
        (Registration, "person"),
        (Consent, "person"),
        (Flag, "person"),
        (Referral, "person"),
        (Case, "person"),
        (Conversation, "person"),
    )


@transaction.atomic
def merge(candidate: DuplicateCandidate, *, by: User) -> Person:
    """Fold the new record into the earlier one; what moved is kept so the merge can be undone."""
    newer, survivor = candidate.person, candidate.candidate
    _require_case_access(by, newer)
    _require_case_access(by, survivor)
    if candidate.decision != DuplicateDecision.PENDING:
        raise ValueError(_("This pair was already decided."))
    from ventanilla.cases.models import Case, CaseStatus

    open_cases = Case.objects.filter(person__in=[newer, survivor]).exclude(status=CaseStatus.CLOSED)
    if open_cases.values("person").distinct().count() > 1:
        raise ValueError(_("Both records have an open case: close one of them before merging."))
    moved: dict[str, list[int]] = {}
    for model, field_name in _moved():
        rows = model.objects.filter(**{field_name: newer})
        moved[model._meta.label_lower] = list(rows.values_list("pk", flat=True))
        rows.update(**{field_name: survivor})
    moved["links"] = list(PersonLink.objects.filter(person=newer).values_list("pk", flat=True))
    newer.merged_into = survivor
    newer.save(update_fields=["merged_into", "updated_at"])
    candidate.decision = DuplicateDecision.MERGED
    candidate.decided_by = by
    candidate.decided_at = timezone.now()
    candidate.merge_record = moved
    candidate.save(update_fields=["decision", "decided_by", "decided_at", "merge_record"])
    audit.record_change(
        AuditAction.UPDATE, survivor, by=by, fields=["merged"], detail={"merged_from": newer.reference}
    )
    audit.record_change(
        AuditAction.UPDATE, newer, by=by, fields=["merged_into"], detail={"merged_into": survivor.reference}
    )
    return survivor


@transaction.atomic
def undo_merge(candidate: DuplicateCandidate, *, by: User) -> Person:
    newer, survivor = candidate.person, candidate.candidate
    _require_case_access(by, survivor)
    if candidate.decision != DuplicateDecision.MERGED:
        raise ValueError(_("Only a merge can be undone."))
    for model, field_name in _moved():
        ids = candidate.merge_record.get(model._meta.label_lower, [])
        model.objects.filter(pk__in=ids).update(**{field_name: newer})
    newer.merged_into = None
    newer.save(update_fields=["merged_into", "updated_at"])
    candidate.decision = DuplicateDecision.PENDING
    candidate.decided_by = by
    candidate.decided_at = timezone.now()
    candidate.merge_record = {}
    candidate.save(update_fields=["decision", "decided_by", "decided_at", "merge_record"])
    audit.record_change(
        AuditAction.UPDATE, newer, by=by, fields=["merged_into"], detail={"merge_undone": survivor.reference}
    )
    return newer


@transaction.atomic
def mark_not_same(candidate: DuplicateCandidate, *, by: User) -> None:
    _require_case_access(by, candidate.person)
    if candidate.decision == DuplicateDecision.MERGED:
        raise ValueError(_("These records are merged: undo the merge first."))
    candidate.decision = DuplicateDecision.NOT_SAME
    candidate.decided_by = by
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["decision", "decided_by", "decided_at"])
    audit.record_change(
        AuditAction.UPDATE,
        candidate.person,
        by=by,
        fields=["duplicates"],
        detail={"not_same_as": candidate.candidate.reference},
    )


# --- Consent, erasure and retention ---------------------------------------------------------------


@transaction.atomic
def withdraw_consent(consent: Consent, *, by: User | None) -> None:
    """Withdrawing registration consent erases the personal data; statistics, the de-identified record."""
    if consent.withdrawn_at is not None or not consent.given:
        return
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = by
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    audit.record_change(
        AuditAction.UPDATE, consent, by=by, fields=["withdrawn_at"], detail={"purpose": consent.purpose}
    )
    if consent.purpose == ConsentPurpose.REGISTRATION and consent.person is not None:
        erase_person(consent.person, by=by, reason="consent_withdrawn")
    elif consent.purpose == ConsentPurpose.REFERRAL and consent.person is not None:
        from ventanilla.referrals.services import has_referral_consent, withdraw_for_person

        if not has_referral_consent(consent.person):  # another registration may still hold consent
            withdraw_for_person(consent.person, reason="consent_withdrawn", by=by, blank=False)
    elif consent.purpose == ConsentPurpose.STATISTICS:
        registration = consent.registration
        registration.statistics = {}
        registration.age_band = ""
        registration.sex = ""
        registration.nationality = ""
        registration.country_of_origin = ""
        registration.destination_country = ""
        registration.save()
        registration.legs.all().delete()


@transaction.atomic
def erase_person(person: Person, *, by: User | None, reason: str) -> None:
    """Remove everything that says who the person is; keep the de-identified registrations."""
    if person.erased_at is not None:
        return
    now = timezone.now()
    registrations = list(person.registrations.all())
    Submission.objects.filter(registration__in=registrations).delete()
    Registration.objects.filter(pk__in=[r.pk for r in registrations]).update(deidentified_at=now)
    person.given_name = ""
    person.family_name = ""
    person.other_names = ""
    person.date_of_birth = None
    person.phone = ""
    person.documents = ""
    person.birth_year = None
    person.erased_at = now
    person.save()
    MatchKey.objects.filter(person=person).delete()
    from ventanilla.referrals.services import withdraw_for_person

    withdraw_for_person(person, reason="personal_data_erased", by=by, blank=True)
    from ventanilla.cases.services import blank_for_person

    blank_for_person(person)
    from ventanilla.messaging.models_inbox import Conversation

    # The inbox keeps the conversation (it is the organisation's record of what was asked), not who it was.
    Conversation.objects.filter(person=person).update(person=None)
    DuplicateCandidate.objects.filter(
        Q(person=person) | Q(candidate=person), decision=DuplicateDecision.PENDING
    ).delete()
    audit.record(AuditAction.ERASE, by=by, obj=person, detail={"reason": reason[:50]})


def due_for_retention(organisation: Organisation, *, now: datetime.datetime) -> QuerySet[Person]:
    """People of the organisation with no registration within its retention period, not yet erased."""
    cutoff = now - datetime.timedelta(days=organisation.retention_days)
    return (
        Person.objects.filter(organisation=organisation, erased_at__isnull=True)
        .annotate(last=Max("registrations__registered_at"))
        .filter(Q(last__lt=cutoff) | Q(last__isnull=True, registered_at__lt=cutoff))
    )


def apply_retention(
    *, now: datetime.datetime | None = None, dry_run: bool = False, counts: dict[int, int] | None = None
) -> int:
    """Erase personal data of people with no registration within their organisation's retention period.

    With `dry_run` nothing changes and the number that would be erased is returned; `counts`, when
    given, receives the number per organisation id.
    """
    now = now or timezone.now()
    erased = 0
    for organisation in Organisation.objects.all().only("pk", "retention_days"):
        due = due_for_retention(organisation, now=now)
        if dry_run:
            found = due.count()
        else:
            found = 0
            for person in due.iterator(chunk_size=500):
                erase_person(person, by=None, reason="retention")
                found += 1
        if counts is not None and found:
            counts[organisation.pk] = found
        erased += found
    return erased


@transaction.atomic
def correct_answers(
    registration: Registration,
    changes: dict[str, Any],
    *,
    reason: str,
    by: User,
    today: datetime.date | None = None,
    replace: bool = False,
) -> Registration:
    """Change answers with a reason: the form's rules run again, then the person, flags and journey follow."""
    if not reason.strip():
        raise InvalidSubmission({"reason": _("Say why the answers change.")})
    submission = registration.submission
    person = registration.person
    if submission is None or person is None or person.erased_at is not None:
        raise InvalidSubmission({"reason": _("This registration has no personal answers left to correct.")})
    _require_case_access(by, person)
    answers = dict(changes) if replace else {**submission.answers, **changes}
    state = engine.evaluate(
        registration.form_version.schema, answers, language=registration.language, today=today
    )
    if not state.is_valid:
        raise InvalidSubmission(state.errors)
    clean = state.answers()
    changed = sorted(
        k for k in set(clean) | set(submission.answers) if clean.get(k) != submission.answers.get(k)
    )
    submission.answers = clean
    submission.save(update_fields=["answers_json"])
    found = mapping.person(clean)
    _set_identity(person, found, today)
    person.save()
    _file_match_keys(person)
    registration.statistics = mapping.statistics(clean)
    registration.age_band = age_band(mapping.age_of(clean))
    registration.sex = found.sex
    registration.nationality = found.nationality
    registration.save()
    registration.legs.all().delete()
    _write_journey(registration, clean)
    registration.flags.filter(dismissed_at__isnull=True).delete()
    _raise_flags(state, registration, person)
    find_duplicates(person, record=True)
    audit.record_change(
        AuditAction.UPDATE, registration, by=by, fields=changed[:50], detail={"reason_given": True}
    )
    AnswerCorrection.objects.create(registration=registration, by=by, fields=changed, reason=reason.strip())
    return registration


DEFAULT_FORM = Path(__file__).parent / "data" / "registration_form.xlsx"


def shipped_form() -> FormVersion:
    """The registration form shipped with Ventanilla, stored on first use (and again when it changes)."""
    content = DEFAULT_FORM.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    existing = (
        FormVersion.objects.filter(questionnaire__owner__isnull=True, sha256=digest)
        .select_related("questionnaire")
        .first()
    )
    if existing is not None:
        return existing
    return upload_form(
        content=content, filename=DEFAULT_FORM.name, owner=None, by=None, purpose=Purpose.REGISTRATION
    )


def registration_forms(user: Any) -> QuerySet[Questionnaire]:
    return forms_for(user, Purpose.REGISTRATION)


def filter_people(
    people: QuerySet[Person],
    *,
    q: str = "",
    site: Site | None = None,
    registered_after: datetime.date | None = None,
    registered_before: datetime.date | None = None,
    flag: str = "",
    flagged_only: bool = False,
    **_ignored: Any,
) -> QuerySet[Person]:
    """Search by reference, phone (blind index) or name (match keys); names are never compared in SQL."""
    q = (q or "").strip()
    if q:
        condition = Q(reference__iexact=q)
        phone = Person._meta.get_field("phone_index").lookup_value(q)
        if phone and any(char.isdigit() for char in q):
            condition |= Q(phone_index=phone)
        parts = q.split()
        name = matching.Identity(given_name=parts[0], family_name=" ".join(parts[1:]))
        keys = matching.match_keys(name, years=[], search_names=True)
        if len(parts) == 1:
            keys |= matching.match_keys(matching.Identity(family_name=parts[0]), years=[], search_names=True)
        if keys:
            condition |= Q(pk__in=MatchKey.objects.filter(key__in=keys).values("person_id"))
        people = people.filter(condition)
    if site is not None:
        people = people.filter(site=site)
    if registered_after:
        people = people.filter(registered_at__date__gte=registered_after)
    if registered_before:
        people = people.filter(registered_at__date__lte=registered_before)
    if flag:
        people = people.filter(flags__code=flag, flags__dismissed_at__isnull=True)
    if flagged_only:
        people = people.filter(flags__dismissed_at__isnull=True, flags__isnull=False)
    return people.distinct()


@transaction.atomic
def dismiss_flag(flag: Flag, *, reason: str, by: User) -> None:
    flag.dismissed_at = timezone.now()
    flag.dismissed_by = by
    flag.dismissed_reason = reason[:200]
    flag.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_reason"])
    audit.record_change(AuditAction.UPDATE, flag, by=by, fields=["dismissed_at"], detail={"code": flag.code})
