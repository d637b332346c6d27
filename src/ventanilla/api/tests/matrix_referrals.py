"""Matrix rows for referrals, partner inboxes and links, pathways, metrics and cases.

Objects: `a_referral` is sent by A (caseworker, first site) to partner B; `referral_to_a` is sent by B
to A, so A's partner focal point has something in its inbox. Rows are added to the main matrix's
READS and WRITES, and its coverage test counts them.
"""

from __future__ import annotations

from typing import Any

from ventanilla.api.tests import matrix_sender
from ventanilla.api.tests.matrix import LOGIN, Row, everyone, expect, org_a_only
from ventanilla.testing.world import World

PERSONAL = expect(
    anonymous=LOGIN, a=403, site_manager=200, caseworker=200, other_organisation=403, outsider=403
)
PARTNERS = expect(anonymous=LOGIN, a=403, partner_focal_point=200, other_organisation=403, outsider=403)
AGGREGATES = expect(
    anonymous=LOGIN,
    a=403,
    administrator=200,
    site_manager=200,
    me_officer=200,
    data_analyst=200,
    other_organisation=200,
    outsider=403,
)


def _cached(world: World, key: str, make: Any) -> Any:
    value = getattr(world, f"_matrix_{key}", None)
    if value is None:
        value = make()
        setattr(world, f"_matrix_{key}", value)
    return value


def a_pathway(world: World) -> Any:
    from ventanilla.testing.referrals import pathway

    return _cached(world, "pathway", lambda: pathway(world))


def a_referral(world: World) -> Any:
    """Sent by A's caseworker to partner B for medical care (B's partner sees it, A's does not)."""
    from ventanilla.referrals import services
    from ventanilla.testing.referrals import register_person

    def make() -> Any:
        person = register_person(world)
        return services.create_referral(
            person, pathway=a_pathway(world), category="medical", by=world.user("a", "caseworker"), need="x"
        )

    return _cached(world, "referral", make)


def referral_to_a(world: World) -> Any:
    """Sent by B to A: what A's partner focal point finds in its inbox."""
    import datetime

    from ventanilla.directory.models import PublicationStatus, ServiceProvider
    from ventanilla.referrals import services
    from ventanilla.referrals.models import Pathway
    from ventanilla.registration import services as registration
    from ventanilla.testing.referrals import CHILD_ANSWERS, categories

    def make() -> Any:
        caseworker = world.user("b", "caseworker")
        person = registration.register(
            registration.shipped_form(),
            dict(CHILD_ANSWERS),
            organisation=world.b.organisation,
            site=world.b.sites[0],
            by=caseworker,
            language="es",
            today=datetime.date(2026, 11, 26),
        ).person
        provider = ServiceProvider.objects.create(
            owner=world.b.organisation,
            name="Alfa partner desk",
            organisation=world.a.organisation,
            status=PublicationStatus.PUBLISHED,
        )
        path = Pathway.objects.create(
            organisation=world.b.organisation,
            provider=provider,
            name="B → A",
            valid_from=datetime.date(2026, 1, 1),
        )
        path.categories.set(categories("shelter"))
        return services.create_referral(person, pathway=path, category="shelter", by=caseworker, need="y")

    return _cached(world, "referral_to_a", make)


def a_case(world: World) -> Any:
    from ventanilla.cases import services

    return _cached(
        world, "case", lambda: services.open_case(a_referral(world).person, by=world.user("a", "caseworker"))
    )


def a_link_token(world: World) -> str:
    from ventanilla.referrals import links

    def make() -> str:
        issued = links.issue(a_referral(world), by=world.user("a", "caseworker"))
        return issued.url.rstrip("/").rsplit("/", 1)[1]

    return str(_cached(world, "link", make))


def referral_url(world: World, rest: str = "") -> str:
    return f"/en/staff/referrals/{a_referral(world).reference}/{rest}"


def case_url(world: World, rest: str = "") -> str:
    return f"/en/staff/cases/{a_case(world).reference}/{rest}"


READS = [
    # --- sending side --------------------------------------------------------------------------------
    Row("referrals:list", "GET", lambda w: "/en/staff/referrals/", PERSONAL),
    Row(
        "referrals:create",
        "GET",
        lambda w: f"/en/staff/referrals/new/{a_referral(w).person.reference}/",
        PERSONAL,
    ),
    Row("referrals:detail", "GET", lambda w: referral_url(w), PERSONAL),
    Row("referrals:change_status", "GET", lambda w: referral_url(w, "status/"), everyone(405)),
    Row("referrals:issue_link", "GET", lambda w: referral_url(w, "links/"), everyone(405)),
    Row("referrals:revoke_link", "GET", lambda w: referral_url(w, "links/1/revoke/"), everyone(405)),
    # --- partner side: A's partner focal point reads what B referred to A, never A's own referrals ---
    Row("referrals:inbox", "GET", lambda w: "/en/staff/referrals/inbox/", PARTNERS),
    Row(
        "referrals:inbox_detail",
        "GET",
        lambda w: f"/en/staff/referrals/inbox/{referral_to_a(w).reference}/",
        PARTNERS,
    ),
    Row(
        "referrals:inbox_detail",
        "GET",
        lambda w: f"/en/staff/referrals/inbox/{a_referral(w).reference}/",
        expect(anonymous=LOGIN, a=403, partner_focal_point=404, other_organisation=403, outsider=403),
        id="GET referrals:inbox_detail (A's own referral to B)",
    ),
    Row(
        "referrals:inbox_answer",
        "GET",
        lambda w: f"/en/staff/referrals/inbox/{referral_to_a(w).reference}/answer/",
        everyone(405),
    ),
    # --- the link page: public while the link lives ---------------------------------------------------
    Row("referral_link", "GET", lambda w: f"/en/r/{a_link_token(w)}/", everyone(200, anonymous=200)),
    Row(
        "referral_link",
        "GET",
        lambda w: f"/en/r/{a_link_token(w)[:-3]}abc/",
        everyone(404, anonymous=404),
        id="GET referral_link (tampered)",
    ),
    # --- pathways and metrics -------------------------------------------------------------------------
    Row(
        "referrals:pathways",
        "GET",
        lambda w: "/en/staff/referrals/pathways/",
        expect(anonymous=LOGIN, a=200, other_organisation=200, outsider=403),
    ),
    Row(
        "referrals:pathway_create",
        "GET",
        lambda w: "/en/staff/referrals/pathways/new/",
        expect(
            anonymous=LOGIN, a=403, administrator=200, site_manager=200, other_organisation=200, outsider=403
        ),
    ),
    Row(
        "referrals:pathway_edit",
        "GET",
        lambda w: f"/en/staff/referrals/pathways/{a_pathway(w).pk}/",
        org_a_only(403, administrator=200, site_manager=200),
    ),
    Row("referrals:metrics", "GET", lambda w: "/en/staff/referrals/metrics/", AGGREGATES),
    # --- cases ----------------------------------------------------------------------------------------
    Row("cases:list", "GET", lambda w: "/en/staff/cases/", PERSONAL),
    Row("cases:overdue", "GET", lambda w: "/en/staff/cases/overdue/", PERSONAL),
    Row("cases:transfers", "GET", lambda w: "/en/staff/cases/transfers/", PERSONAL),
    Row("cases:notices", "GET", lambda w: "/en/staff/cases/notices/", everyone(200)),
    Row("cases:open", "GET", lambda w: f"/en/staff/cases/open/{a_referral(w).person.reference}/", PERSONAL),
    Row("cases:detail", "GET", lambda w: case_url(w), PERSONAL),
    Row("cases:edit", "GET", lambda w: case_url(w, "edit/"), PERSONAL),
    Row("cases:close", "GET", lambda w: case_url(w, "close/"), PERSONAL),
    Row("cases:reassign", "GET", lambda w: case_url(w, "reassign/"), PERSONAL),
    Row("cases:transfer", "GET", lambda w: case_url(w, "transfer/"), PERSONAL),
    Row("cases:decide_transfer", "GET", lambda w: "/en/staff/cases/transfers/1/decide/", everyone(405)),
    Row("cases:add_task", "GET", lambda w: case_url(w, "tasks/"), everyone(405)),
    Row("cases:complete_task", "GET", lambda w: case_url(w, "tasks/1/done/"), everyone(405)),
    Row("cases:add_note", "GET", lambda w: case_url(w, "notes/"), everyone(405)),
]

WRITES: list[Row] = []


def state() -> dict[str, Any]:
    """The referral and case tables, for the write matrix's check that a refused write changed nothing."""
    from ventanilla.cases.models import Case, CaseNote, CaseTask, CaseTransfer
    from ventanilla.referrals.models import (
        FocalPoint,
        PartnerWebhook,
        Pathway,
        Referral,
        ReferralEvent,
        ReferralLink,
        WebhookDelivery,
    )

    tables: list[Any] = [
        Pathway,
        Pathway.categories.through,
        Pathway.service_points.through,
        FocalPoint,
        Referral,
        ReferralEvent,
        ReferralLink,
        PartnerWebhook,
        WebhookDelivery,
        Case,
        CaseTask,
        CaseNote,
        CaseTransfer,
    ]
    return {model._meta.label_lower: list(model.objects.order_by("pk").values()) for model in tables}


# The API's rows (referrals, pathways, webhooks, cases) live in their own module.
from ventanilla.api.tests import matrix_api_referrals  # noqa: E402 - after the helpers it uses

READS += matrix_api_referrals.READS
WRITES += matrix_api_referrals.WRITES

# The sending side's and pathway pages' writes keep their rows in their own module.
READS += matrix_sender.READS
WRITES += matrix_sender.WRITES

# The partner's answers (inbox and link) keep their rows in their own module.
from ventanilla.api.tests import matrix_partner  # noqa: E402

READS += matrix_partner.READS
WRITES += matrix_partner.WRITES

# The case pages' writes keep their rows in their own module (imported last: it uses the objects above).
from ventanilla.api.tests import matrix_cases  # noqa: E402

READS += matrix_cases.READS
WRITES += matrix_cases.WRITES

# The referral metrics endpoint keeps its rows in a module of its own.
from ventanilla.api.tests import matrix_metrics  # noqa: E402 - added after the rows above

READS += matrix_metrics.READS
WRITES += matrix_metrics.WRITES
