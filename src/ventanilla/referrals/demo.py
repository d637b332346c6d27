"""The demo referral network and cases for `ventanilla load-demo` — every organisation and person fictional.

Casa Ventana (Tapachula) refers along four pathways in the corridor: to Red Salud Frontera's clinic in
Tecún Umán (a partner with accounts: its focal point is the demo user `salud_partner_focal_point`), to a
child protection office with a short answer time, to a counter-trafficking line and to a shelter (three
partners without accounts, reached by link). The demo people (`registration.demo`) have referrals at every
stage — waiting, overdue, expired and escalated, accepted, in progress, delivered, not delivered,
declined, closed, withdrawn — with timelines in the past few weeks, and a few cases (open with an overdue
task, active, on hold, closed) with notes.

Everything goes through the services (`create_referral`, `transition` with `now=` in the past,
`links.issue`, `open_case`...), so events, audit entries and messages are what real use leaves. Loading
is idempotent: a pathway, referral or case that is already there is left as it is.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from ventanilla.accounts.models import Organisation, User
from ventanilla.cases import services as cases
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.directory.models import ServiceCategory, ServicePoint, ServiceProvider
from ventanilla.referrals import links, services
from ventanilla.referrals.models import FocalPoint, Pathway, Referral, ReferralStatus, Via
from ventanilla.registration.demo import demo_people
from ventanilla.registration.models import Flag, Person

SENDER = "Casa Ventana (fictional NGO)"
CASEWORKER = "casa_caseworker"
PARTNER_USER = "salud_partner_focal_point"  # Red Salud's focal point, with an account


@dataclass(frozen=True)
class DemoPathway:
    key: str
    provider: str  # provider name in the demo directory
    name: str
    categories: tuple[str, ...]
    points: tuple[str, ...]  # service point names (none: any of the provider's points)
    response_hours: int
    focal_points: tuple[tuple[str, str, str], ...]  # name, email, phone ("user:<username>": that user)
    age_min: int | None = None
    age_max: int | None = None
    eligibility: str = ""


PATHWAYS = (
    DemoPathway(
        "salud",
        "Red Salud Frontera (fictional clinic network)",
        "Casa Ventana → Red Salud Frontera: atención médica y psicológica",
        ("medical", "mhpss"),
        ("Red Salud Frontera – Clínica Tecún Umán",),
        24,
        (("user:" + PARTNER_USER, "", "+52 962 555 0120"),),
    ),
    DemoPathway(
        "ninez",
        "Oficina Demo de Protección de la Niñez (fictional)",
        "Casa Ventana → Protección de la Niñez: niñas, niños y adolescentes",
        ("child_protection", "family_tracing"),
        (
            "Oficina Demo de Protección de la Niñez – Tapachula",
            "Oficina Demo de Protección de la Niñez – Tecún Umán",
        ),
        4,
        (("Lic. Demo Guardia de Protección", "guardia@proteccion-ninez.example.org", "+52 962 555 0141"),),
        age_max=17,
        eligibility="Niñas, niños y adolescentes no acompañados o separados; respuesta el mismo día.",
    ),
    DemoPathway(
        "trata",
        "Línea Demo contra la Trata (fictional)",
        "Casa Ventana → Línea contra la Trata",
        ("counter_trafficking",),
        (),
        24,
        (("Coordinación Demo de Casos", "casos@linea-trata.example.org", "+52 962 555 0150"),),
        age_min=18,
    ),
    DemoPathway(
        "albergue",
        "Albergue Demo San José (fictional)",
        "Casa Ventana → Albergue San José: alojamiento",
        ("shelter", "food"),
        ("Albergue Demo San José – Tapachula", "Albergue Demo San José – Tecún Umán"),
        48,
        (("Recepción Demo del Albergue", "recepcion@albergue-sanjose.example.org", "+52 962 555 0160"),),
    ),
)


@dataclass(frozen=True)
class Step:
    """A status change `hours` after the referral was sent."""

    to: str
    hours: float
    reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class DemoReferral:
    person: str  # key in registration.demo.PEOPLE
    pathway: str
    category: str
    sent_hours_ago: float
    need: str
    steps: tuple[Step, ...] = ()
    point: str = ""
    flag: str = ""  # code of the person's flag that suggested it
    appointment: str = ""
    case: str = ""  # key in CASES: the referral belongs to that case


S = ReferralStatus
DAY = 24

REFERRALS = (
    # Waiting, and past the 4 hours the child protection office committed to: on the overdue list.
    DemoReferral(
        "separated-child",
        "ninez",
        "child_protection",
        6,
        "Adolescente de 15 años que viaja con adultos que no son su familia; pide ayuda.",
        flag="separated_child",
        case="kevin",
    ),
    # No answer from the counter-trafficking line in 24 hours: expired, escalated to the site manager.
    DemoReferral(
        "trafficking",
        "trata",
        "counter_trafficking",
        3 * DAY,
        "Le retuvieron los documentos y le deben dinero por el viaje; oferta de trabajo engañosa.",
        steps=(Step(S.EXPIRED, 25),),
        flag="trafficking_indicators",
        case="marisol",
    ),
    # Just sent, within the shelter's 48 hours.
    DemoReferral(
        "family-mother",
        "albergue",
        "shelter",
        1,
        "Familia de tres (madre, padre, niña de 9 años) sin lugar donde dormir esta noche.",
        point="Albergue Demo San José – Tapachula",
    ),
    # Just sent to Red Salud: the partner's focal point can accept it in the demo.
    DemoReferral(
        "mohamed-latin",
        "salud",
        "mhpss",
        2,
        "Pide hablar con alguien sobre lo que vivió en el camino; habla árabe e inglés.",
    ),
    # Accepted by Red Salud after 3 hours, with an appointment.
    DemoReferral(
        "medical",
        "salud",
        "medical",
        2 * DAY,
        "Herida infectada en la pierna; dolor fuerte; habla francés y criollo haitiano.",
        steps=(Step(S.ACCEPTED, 3),),
        point="Red Salud Frontera – Clínica Tecún Umán",
        flag="urgent_medical_need",
        appointment="Clínica Tecún Umán, mañana a las 9:00, preguntar por enfermería.",
        case="wilner",
    ),
    # Accepted, then in progress.
    DemoReferral(
        "family-child",
        "salud",
        "medical",
        4 * DAY,
        "Niña de 9 años con fiebre y tos desde hace tres días.",
        steps=(Step(S.ACCEPTED, 2), Step(S.IN_PROGRESS, 20, note="Tratamiento de cinco días.")),
        point="Red Salud Frontera – Clínica Tecún Umán",
    ),
    # Delivered after 30 hours.
    DemoReferral(
        "family-father",
        "salud",
        "medical",
        10 * DAY,
        "Control de presión arterial; se quedó sin medicamento.",
        steps=(Step(S.ACCEPTED, 5), Step(S.DELIVERED, 30, note="Consulta y medicamento para un mes.")),
        point="Red Salud Frontera – Clínica Tecún Umán",
        case="julio",
    ),
    # Delivered after 20 hours, then closed by the caseworker.
    DemoReferral(
        "family-mother",
        "salud",
        "medical",
        20 * DAY,
        "Dolor de muelas desde hace una semana.",
        steps=(
            Step(S.ACCEPTED, 1),
            Step(S.DELIVERED, 20, note="Atendida por el dentista de la unidad móvil."),
            Step(S.CLOSED, 48),
        ),
        point="Red Salud Frontera – Clínica Tecún Umán",
    ),
    # Declined by the shelter, by link: no room.
    DemoReferral(
        "mohamed-latin",
        "albergue",
        "shelter",
        6 * DAY,
        "Hombre solo, 29 años, necesita alojamiento por unas noches.",
        steps=(Step(S.DECLINED, 4, reason="no_capacity", note="Sin camas para hombres solos esta semana."),),
    ),
    # Accepted by the child protection office by link, then not delivered: the family could not be found.
    DemoReferral(
        "separated-child",
        "ninez",
        "family_tracing",
        12 * DAY,
        "Busca a su tía, que vive en Quetzaltenango; tiene un número de teléfono antiguo.",
        steps=(
            Step(S.ACCEPTED, 2),
            Step(S.NOT_DELIVERED, 7 * DAY, reason="could_not_contact", note="El número ya no existe."),
        ),
        case="kevin",
    ),
    # Withdrawn by the caseworker before the shelter answered.
    DemoReferral(
        "trafficking",
        "albergue",
        "shelter",
        8 * DAY,
        "Mujer de 22 años, necesita un lugar seguro donde quedarse.",
        steps=(Step(S.WITHDRAWN, 20, reason="need_met_elsewhere"),),
        case="marisol",
    ),
)


@dataclass(frozen=True)
class DemoCase:
    key: str
    person: str
    needs: str
    plan: str
    status: str = CaseStatus.OPEN
    tasks: tuple[tuple[str, int], ...] = ()  # title, due in days (negative: overdue)
    notes: tuple[str, ...] = ()
    close_reason: str = ""


CASES = (
    DemoCase(
        "kevin",
        "separated-child",
        "Adolescente separado de su familia; necesita protección y localizar a su tía.",
        "Referir a Protección de la Niñez el mismo día; buscar a la familia; acompañar hasta que la "
        "oficina asuma el caso.",
        tasks=(
            ("Llamar a la Oficina de Protección de la Niñez: no han respondido a la referencia", -1),
            ("Pedir a Kevin otro contacto de su tía en Quetzaltenango", 3),
        ),
        notes=("Kevin está en el espacio para adolescentes del centro; comió y descansó.",),
    ),
    DemoCase(
        "wilner",
        "medical",
        "Herida infectada en la pierna.",
        "Atención en la Clínica Tecún Umán; seguimiento por teléfono después de la cita.",
        status=CaseStatus.ACTIVE,
        tasks=(("Confirmar que Wilner fue a la cita en la clínica", 1),),
        notes=("Red Salud aceptó la referencia y dio cita para mañana.",),
    ),
    DemoCase(
        "marisol",
        "trafficking",
        "Indicadores de trata: documentos retenidos, deuda, oferta de trabajo engañosa.",
        "Referir a la Línea contra la Trata; alojamiento seguro; asesoría legal.",
        status=CaseStatus.ON_HOLD,
        notes=(
            "La Línea contra la Trata no respondió a tiempo; la coordinadora del sitio dará seguimiento.",
            "Marisol pidió esperar unos días antes de decidir; en pausa hasta el lunes.",
        ),
    ),
    DemoCase(
        "julio",
        "family-father",
        "Hipertensión sin medicamento.",
        "Consulta en Red Salud Frontera.",
        status=CaseStatus.CLOSED,
        close_reason="needs_met",
        notes=("Recibió consulta y medicamento para un mes; la familia sigue su camino.",),
    ),
)


@dataclass
class DemoReferralsResult:
    pathways_created: int = 0
    referrals_created: int = 0
    cases_created: int = 0
    skipped: list[str] = field(default_factory=list)


def _user(username: str) -> User | None:
    return User.objects.filter(username=username, is_active=True).first()


def _pathway(spec: DemoPathway, organisation: Organisation, *, today: datetime.date) -> tuple[Pathway, bool]:
    provider = ServiceProvider.objects.filter(name=spec.provider).first()
    if provider is None:
        raise LookupError(spec.provider)
    existing = Pathway.objects.filter(organisation=organisation, provider=provider, name=spec.name).first()
    if existing is not None:
        return existing, False
    pathway = Pathway.objects.create(
        organisation=organisation,
        provider=provider,
        name=spec.name,
        response_hours=spec.response_hours,
        age_min=spec.age_min,
        age_max=spec.age_max,
        eligibility=spec.eligibility,
        language="es",
        valid_from=today - datetime.timedelta(days=365),
    )
    pathway.categories.set(ServiceCategory.objects.filter(code__in=spec.categories))
    if spec.points:
        pathway.service_points.set(ServicePoint.objects.filter(provider=provider, name__in=spec.points))
    for name, email, phone in spec.focal_points:
        if name.startswith("user:"):
            user = _user(name.removeprefix("user:"))
            name, email = (user.full_name or user.username, user.email) if user else ("", email)
        FocalPoint.objects.create(pathway=pathway, name=name, email=email, phone=phone, language="es")
    return pathway, True


def _flag(person: Person, code: str) -> Flag | None:
    if not code:
        return None
    return Flag.objects.filter(person=person, code=code, dismissed_at__isnull=True).first()


def _refer(
    spec: DemoReferral,
    *,
    person: Person,
    pathway: Pathway,
    case: Case | None,
    caseworker: User,
    partner: User | None,
    now: datetime.datetime,
) -> Referral:
    sent = now - datetime.timedelta(hours=spec.sent_hours_ago)
    point = (
        ServicePoint.objects.filter(provider=pathway.provider_id, name=spec.point).first()
        if spec.point
        else None
    )
    referral = services.create_referral(
        person,
        pathway=pathway,
        category=spec.category,
        by=caseworker,
        need=spec.need,
        service_point=point,
        flag=_flag(person, spec.flag),
        case=case if case is not None and not case.is_closed else None,
        appointment=spec.appointment,
        now=sent,
    )
    link = None
    if pathway.provider.organisation_id is None:  # a partner without accounts: it answers by link
        link = links.issue(referral, by=caseworker, focal_point=pathway.focal_points.first()).link
    for step in spec.steps:
        at = sent + datetime.timedelta(hours=step.hours)
        if step.to == S.EXPIRED:
            # The expiry task, run at that moment for this referral only.
            services.expire_overdue(now=at, only=[referral.pk])
            continue
        if step.to in {S.CLOSED, S.WITHDRAWN}:
            by, via, used = caseworker, Via.STAFF, None
        elif link is not None:
            by, via, used = None, Via.LINK, link
        else:
            by, via, used = partner, Via.PARTNER, None
        services.transition(
            referral, step.to, by=by, via=via, link=used, reason=step.reason, note=step.note, now=at
        )
    return referral


@transaction.atomic
def load_demo_referrals(*, now: datetime.datetime | None = None) -> DemoReferralsResult:
    """Create the demo pathways, cases and referrals that are not there yet."""
    now = now or timezone.now()
    result = DemoReferralsResult()
    organisation = Organisation.objects.filter(name=SENDER).first()
    caseworker = _user(CASEWORKER)
    partner = _user(PARTNER_USER)
    people = demo_people()
    if organisation is None or caseworker is None or not people:
        result.skipped.append("demo accounts or people missing")
        return result
    pathways: dict[str, Pathway] = {}
    for pathway_spec in PATHWAYS:
        try:
            pathways[pathway_spec.key], created = _pathway(
                pathway_spec, organisation, today=timezone.localdate(now)
            )
        except LookupError:
            result.skipped.append(f"provider {pathway_spec.provider} missing")
            continue
        result.pathways_created += created

    demo_cases: dict[str, Case] = {}
    for case_spec in CASES:
        person = people.get(case_spec.person)
        if person is None:
            continue
        existing = Case.objects.filter(person=person).order_by("pk").first()
        if existing is not None:
            demo_cases[case_spec.key] = existing
            continue
        opened = cases.open_case(person, by=caseworker, needs=case_spec.needs, plan=case_spec.plan)
        for title, days in case_spec.tasks:
            cases.add_task(
                opened,
                title=title,
                due_on=timezone.localdate(now) + datetime.timedelta(days=days),
                by=caseworker,
            )
        for text in case_spec.notes:
            cases.add_note(opened, text=text, by=caseworker)
        if case_spec.status in {CaseStatus.ACTIVE, CaseStatus.ON_HOLD}:
            cases.update_case(opened, by=caseworker, status=case_spec.status)
        demo_cases[case_spec.key] = opened
        result.cases_created += 1

    # Oldest first, so that each referral's story (and the expiry run within it) happens in order.
    for spec in sorted(REFERRALS, key=lambda r: -r.sent_hours_ago):
        person, pathway = people.get(spec.person), pathways.get(spec.pathway)
        if person is None or pathway is None:
            continue
        if Referral.objects.filter(person=person, pathway=pathway, category=spec.category).exists():
            continue
        _refer(
            spec,
            person=person,
            pathway=pathway,
            case=demo_cases.get(spec.case),
            caseworker=caseworker,
            partner=partner,
            now=now,
        )
        result.referrals_created += 1

    # A case closes once its referrals are done.
    for case_spec in CASES:
        to_close = demo_cases.get(case_spec.key)
        if to_close is not None and case_spec.status == CaseStatus.CLOSED and not to_close.is_closed:
            cases.close_case(to_close, by=caseworker, reason=case_spec.close_reason)
    return result
