"""Referral metrics: every number from referrals with known timelines, and who counts what."""

from __future__ import annotations

import csv
import datetime
import io

import pytest

from ventanilla.accounts import services as accounts
from ventanilla.directory.models import PublicationStatus, ServiceProvider
from ventanilla.referrals import links, metrics, services
from ventanilla.referrals.models import Pathway, ReferralStatus, Via
from ventanilla.registration import services as registration
from ventanilla.testing.factories import UserFactory
from ventanilla.testing.referrals import CHILD_ANSWERS, categories, pathway, provider, register_person

T = datetime.datetime(2026, 11, 2, 8, 0, tzinfo=datetime.UTC)
NOVEMBER = {"date_from": datetime.date(2026, 11, 1), "date_to": datetime.date(2026, 11, 30)}


def hours(n: float) -> datetime.datetime:
    return T + datetime.timedelta(hours=n)


def move(referral, to, by, *, at, via=Via.PARTNER, **kwargs):
    services.transition(referral, to, by=by, via=via, now=hours(at), **kwargs)


@pytest.fixture
def network(world):
    """A's caseworker (first site) refers to Red Beta (B, with accounts) and to a clinic without
    accounts; another caseworker refers from A's second site; B refers to a partner of its own.

    Red Beta, sent at T: accepted +2h, delivered +26h, closed | accepted +6h, in progress, not
    delivered +50h | declined +1h | expired +49h | accepted +10h, withdrawn +20h | waiting.
    The clinic: accepted by link +4h, delivered +8h. Second site: to the clinic, waiting.
    Outside the period (October): one to Red Beta, accepted.
    """
    caseworker = world.user("a", "caseworker")
    partner = world.user("b", "partner_focal_point")
    beta = pathway(world)
    clinic = pathway(world, with_account=False, codes=("medical",))

    def refer(path, category="medical", *, by=caseworker, site=0, at=0.0):
        person = register_person(world) if site == 0 else register_at(world, world.a.sites[site], by)
        return services.create_referral(
            person, pathway=path, category=category, by=by, need="x", now=hours(at)
        )

    delivered = refer(beta)
    move(delivered, ReferralStatus.ACCEPTED, partner, at=2)
    move(delivered, ReferralStatus.DELIVERED, partner, at=26)
    move(delivered, ReferralStatus.CLOSED, caseworker, at=30, via=Via.STAFF)
    not_delivered = refer(beta)
    move(not_delivered, ReferralStatus.ACCEPTED, partner, at=6)
    move(not_delivered, ReferralStatus.IN_PROGRESS, partner, at=7)
    move(not_delivered, ReferralStatus.NOT_DELIVERED, partner, at=50, reason="did_not_arrive")
    declined = refer(beta, "child_protection")
    move(declined, ReferralStatus.DECLINED, partner, at=1, reason="no_capacity")
    expired = refer(beta)
    move(expired, ReferralStatus.EXPIRED, None, at=49, via=Via.SYSTEM, reason="no_answer")
    withdrawn = refer(beta)
    move(withdrawn, ReferralStatus.ACCEPTED, partner, at=10)
    move(withdrawn, ReferralStatus.WITHDRAWN, caseworker, at=20, via=Via.STAFF, reason="person_moved_on")
    refer(beta, at=3)  # waiting for an answer

    by_link = refer(clinic)
    link = links.issue(by_link, by=caseworker).link
    move(by_link, ReferralStatus.ACCEPTED, None, at=4, via=Via.LINK, link=link)
    move(by_link, ReferralStatus.DELIVERED, None, at=8, via=Via.LINK, link=link)

    second_site = UserFactory(username="a_caseworker_site_2")
    accounts.grant_membership(
        user=second_site,
        organisation=world.a.organisation,
        role="caseworker",
        sites=[world.a.sites[1]],
        by=None,
    )
    refer(clinic, by=second_site, site=1)

    october = refer(beta, at=-24 * 20)
    move(october, ReferralStatus.ACCEPTED, partner, at=-24 * 20 + 1)

    # B's own referral to a partner without accounts: never counted for A.
    b_provider = ServiceProvider.objects.create(
        owner=world.b.organisation, name="B's shelter", status=PublicationStatus.PUBLISHED
    )
    b_path = Pathway.objects.create(
        organisation=world.b.organisation,
        provider=b_provider,
        name="B → shelter",
        valid_from=datetime.date(2026, 1, 1),
    )
    b_path.categories.set(categories("shelter"))
    b_person = register_at(world, world.b.sites[0], world.user("b", "caseworker"))
    services.create_referral(
        b_person, pathway=b_path, category="shelter", by=world.user("b", "caseworker"), now=hours(5)
    )
    return {"beta": beta, "clinic": clinic, "b_path": b_path}


def register_at(world, site, by):
    return registration.register(
        registration.shipped_form(),
        dict(CHILD_ANSWERS),
        organisation=site.organisation,
        site=site,
        by=by,
        language="es",
        today=datetime.date(2026, 11, 26),
    ).person


def by_key(result):
    return {row.key: row for row in result.rows}


def test_each_number_per_partner_for_an_organisation_wide_role(world, network):
    # given the network above, and A's data analyst (view_aggregates across A)
    analyst = world.user("a", "data_analyst")
    # when the metrics are grouped by partner for November
    result = metrics.referral_metrics(analyst, group_by="partner", **NOVEMBER)
    rows = by_key(result)
    beta = rows[str(network["beta"].provider_id)]
    clinic = rows[str(network["clinic"].provider_id)]
    # then Red Beta: 6 sent; accepted 3 of 5 answered or expired; 2, 6, 10 hours to acceptance
    assert (beta.label, beta.sent, beta.accepted, beta.declined, beta.expired) == ("Red Beta", 6, 3, 1, 1)
    assert (beta.withdrawn, beta.delivered, beta.not_delivered) == (1, 1, 1)
    assert beta.acceptance_rate == 0.6
    assert beta.hours_to_acceptance_median == 6.0
    assert beta.hours_to_acceptance_p90 == 9.2  # 6 + (10 - 6) × 0.8
    assert beta.hours_to_service_median == 26.0
    assert beta.completion_rate == 0.5
    # ... the clinic without accounts (answered by link): one of two accepted, delivered after 8 hours
    assert (clinic.sent, clinic.accepted, clinic.declined, clinic.expired, clinic.withdrawn) == (
        2,
        1,
        0,
        0,
        0,
    )
    assert (clinic.delivered, clinic.not_delivered) == (1, 0)
    assert clinic.acceptance_rate == 1.0
    assert (clinic.hours_to_acceptance_median, clinic.hours_to_acceptance_p90) == (4.0, 4.0)
    assert clinic.hours_to_service_median == 8.0
    assert clinic.completion_rate == 1.0
    # ... and nothing else: October's referral and B's own are not counted; the busiest partner first
    assert [row.key for row in result.rows] == [beta.key, clinic.key]
    total = result.total
    assert (total.sent, total.accepted, total.declined, total.expired) == (8, 4, 1, 1)
    assert (total.withdrawn, total.delivered, total.not_delivered) == (1, 2, 1)
    assert total.acceptance_rate == 0.6667
    assert total.hours_to_acceptance_median == 5.0  # 2, 4, 6, 10
    assert total.hours_to_acceptance_p90 == 8.8  # 6 + (10 - 6) × 0.7
    assert total.hours_to_service_median == 17.0  # 8 and 26
    assert total.completion_rate == 0.6667


def test_grouped_by_service_and_by_site(world, network):
    analyst = world.user("a", "data_analyst")
    by_category = by_key(metrics.referral_metrics(analyst, group_by="category", **NOVEMBER))
    assert {key: row.sent for key, row in by_category.items()} == {"medical": 7, "child_protection": 1}
    assert by_category["child_protection"].label == "Child protection"
    assert by_category["child_protection"].acceptance_rate == 0.0
    assert by_category["medical"].acceptance_rate == 0.8  # 4 of 5: one expired
    by_site = by_key(metrics.referral_metrics(analyst, group_by="site", **NOVEMBER))
    first, second = (str(site.pk) for site in world.a.sites)
    assert {key: row.sent for key, row in by_site.items()} == {first: 7, second: 1}
    assert by_site[first].label == "Casa Alfa site 1 (A)"


def test_a_site_manager_counts_the_referrals_of_their_sites_only(world, network):
    # given A's site manager, whose membership covers A's first site
    manager = world.user("a", "site_manager")
    # when grouped by partner
    rows = by_key(metrics.referral_metrics(manager, group_by="partner", **NOVEMBER))
    # then the second site's referral to the clinic is not counted
    assert rows[str(network["clinic"].provider_id)].sent == 1
    assert rows[str(network["beta"].provider_id)].sent == 6


def test_the_partner_organisation_counts_what_it_received_and_nothing_of_the_sender_s_other_partners(
    world, network
):
    # given B's administrator: B received Red Beta's referrals from A, and sent one of its own
    admin = world.user("b", "administrator")
    # when B looks at everything, then at received only and sent only
    everything = by_key(metrics.referral_metrics(admin, group_by="partner", **NOVEMBER))
    received = metrics.referral_metrics(admin, group_by="partner", side="received", **NOVEMBER)
    sent = metrics.referral_metrics(admin, group_by="partner", side="sent", **NOVEMBER)
    # then A's referrals to the clinic without accounts are never counted for B
    beta, shelter = str(network["beta"].provider_id), str(network["b_path"].provider_id)
    assert set(everything) == {beta, shelter}
    assert everything[beta].sent == 6
    assert everything[beta].acceptance_rate == 0.6
    assert [row.key for row in received.rows] == [beta]
    assert [(row.key, row.sent) for row in sent.rows] == [(shelter, 1)]


def test_another_organisation_s_referrals_are_not_counted(world, network):
    # given A's data analyst, who holds view_aggregates in A only
    analyst = world.user("a", "data_analyst")
    # when A asks for what it received as partner
    received = metrics.referral_metrics(analyst, group_by="partner", side="received", **NOVEMBER)
    # then B's own referral (to B's shelter) is absent: A received nothing
    assert received.rows == []
    assert received.total.sent == 0
    assert received.total.acceptance_rate is None
    assert received.total.hours_to_acceptance_median is None


def test_roles_without_view_aggregates_count_nothing(world, network):
    caseworker = world.user("a", "caseworker")
    assert not metrics.may_view(caseworker)
    assert metrics.referral_metrics(caseworker, group_by="partner", **NOVEMBER).total.sent == 0
    assert metrics.referral_metrics(world.outsider, **NOVEMBER).rows == []


def test_the_period_is_by_day_sent_both_days_included(world, network):
    analyst = world.user("a", "data_analyst")
    # T is 2 November 08:00 UTC; the waiting one was sent 3 hours later, the October one on 13 October
    day = metrics.referral_metrics(
        analyst, date_from=datetime.date(2026, 11, 2), date_to=datetime.date(2026, 11, 2)
    )
    assert day.total.sent == 8
    october = metrics.referral_metrics(
        analyst, date_from=datetime.date(2026, 10, 13), date_to=datetime.date(2026, 10, 13)
    )
    assert (october.total.sent, october.total.accepted, october.total.hours_to_acceptance_median) == (
        1,
        1,
        1.0,
    )
    assert (
        metrics.referral_metrics(
            analyst, date_from=datetime.date(2026, 11, 3), date_to=datetime.date(2026, 11, 30)
        ).rows
        == []
    )


def test_an_expired_referral_sent_again_and_accepted_counts_once_as_accepted(world):
    # given a referral that expired, was sent again 2 hours later and accepted 5 hours after that
    caseworker = world.user("a", "caseworker")
    partner = world.user("b", "partner_focal_point")
    referral = services.create_referral(
        register_person(world), pathway=pathway(world), category="medical", by=caseworker, now=T
    )
    move(referral, ReferralStatus.EXPIRED, None, at=49, via=Via.SYSTEM, reason="no_answer")
    move(referral, ReferralStatus.SENT, caseworker, at=51, via=Via.STAFF)
    move(referral, ReferralStatus.ACCEPTED, partner, at=56)
    # when the metrics are computed
    total = metrics.referral_metrics(world.user("a", "administrator"), **NOVEMBER).total
    # then it is accepted, not expired, and the time runs from the last sending
    assert (total.sent, total.accepted, total.expired) == (1, 1, 0)
    assert total.acceptance_rate == 1.0
    assert total.hours_to_acceptance_median == 5.0


def test_a_declined_referral_closed_afterwards_still_counts_as_declined(world):
    caseworker = world.user("a", "caseworker")
    referral = services.create_referral(
        register_person(world), pathway=pathway(world), category="medical", by=caseworker, now=T
    )
    move(referral, ReferralStatus.DECLINED, world.user("b", "partner_focal_point"), at=1, reason="other")
    move(referral, ReferralStatus.CLOSED, caseworker, at=2, via=Via.STAFF)
    total = metrics.referral_metrics(world.user("a", "administrator"), **NOVEMBER).total
    assert (total.sent, total.accepted, total.declined, total.expired) == (1, 0, 1, 0)
    assert total.acceptance_rate == 0.0


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"group_by": "person"}, "group_by"),
        ({"side": "theirs"}, "side"),
        ({"date_from": datetime.date(2026, 11, 2), "date_to": datetime.date(2026, 11, 1)}, "to"),
        ({"date_from": datetime.date(2020, 1, 1), "date_to": datetime.date(2026, 11, 1)}, "from"),
    ],
)
def test_bad_input_is_refused_with_the_field_at_fault(world, arguments, field):
    with pytest.raises(metrics.MetricsError) as error:
        metrics.referral_metrics(world.user("a", "administrator"), **arguments)
    assert error.value.field == field


def test_percentile_interpolates_like_percentile_cont():
    assert metrics.percentile([], 0.5) is None
    assert metrics.percentile([3.0], 0.9) == 3.0
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert metrics.percentile([10.0, 0.0, 5.0], 0.9) == pytest.approx(9.0)


# --- the page, its CSV and the API -----------------------------------------------------------------

PAGE = "/en/staff/referrals/metrics/"
QUERY = "?group_by=partner&date_from=2026-11-01&date_to=2026-11-30"


def test_the_page_shows_the_table_and_the_definitions(world, network, client_for):
    response = client_for(world.user("a", "data_analyst")).get(PAGE + QUERY)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Red Beta" in text
    assert "Clínica sin cuenta" in text
    assert "60%" in text  # Red Beta's acceptance rate
    assert "9.2" in text  # its 90th percentile, hours
    assert "Completion rate" in text
    assert "they count referrals, not people" in text


def test_the_page_says_what_is_wrong_with_the_form(world, client_for):
    response = client_for(world.user("a", "data_analyst")).get(
        PAGE + "?group_by=partner&date_from=2026-11-30&date_to=2026-11-01"
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_the_csv_is_the_same_table(world, network, client_for):
    response = client_for(world.user("a", "data_analyst")).get(PAGE + QUERY + "&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, hxl, beta, clinic, total = rows
    assert header[:4] == ["Partner", "Sent", "Accepted", "Declined"]
    assert hxl[:3] == ["#org+partner", "#indicator+num+sent", "#indicator+num+accepted"]
    assert beta[:8] == ["Red Beta", "6", "3", "1", "1", "1", "1", "1"]
    assert beta[8:] == ["0.6", "6.0", "9.2", "26.0", "0.5"]
    assert clinic[0] == "Clínica sin cuenta"
    assert total[:2] == ["Total", "8"]


def test_the_csv_is_refused_like_the_page(world, network, client_for):
    response = client_for(world.user("a", "caseworker")).get(PAGE + QUERY + "&format=csv")
    assert response.status_code == 403


def test_the_api_gives_the_same_numbers(world, network, client_for):
    response = client_for(world.user("a", "data_analyst")).get(
        "/api/v1/referral-metrics/?group_by=partner&from=2026-11-01&to=2026-11-30"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["group_by"], body["from"], body["to"], body["side"]) == (
        "partner",
        "2026-11-01",
        "2026-11-30",
        "all",
    )
    beta = body["rows"][0]
    assert beta == {
        "key": str(network["beta"].provider_id),
        "label": "Red Beta",
        "sent": 6,
        "accepted": 3,
        "declined": 1,
        "expired": 1,
        "withdrawn": 1,
        "delivered": 1,
        "not_delivered": 1,
        "acceptance_rate": 0.6,
        "hours_to_acceptance_median": 6.0,
        "hours_to_acceptance_p90": 9.2,
        "hours_to_service_median": 26.0,
        "completion_rate": 0.5,
    }
    assert body["total"]["sent"] == 8


def test_the_api_refuses_bad_parameters_with_the_error_format(world, client_for):
    response = client_for(world.user("a", "data_analyst")).get(
        "/api/v1/referral-metrics/?group_by=person&from=2026-11-30&to=2026-11-01"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "group_by" in error["fields"]


def test_the_api_refuses_an_end_before_the_start(world, client_for):
    response = client_for(world.user("a", "data_analyst")).get(
        "/api/v1/referral-metrics/?from=2026-11-30&to=2026-11-01"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"to"}


def test_the_number_of_queries_does_not_grow_with_the_groups(world, network, django_assert_max_num_queries):
    # given the metrics by partner and by site with two groups each
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    analyst = world.user("a", "data_analyst")
    baseline = {}
    for group_by in ("partner", "site", "category"):
        metrics.referral_metrics(analyst, group_by=group_by, **NOVEMBER)  # scope cached on the user
        with CaptureQueriesContext(connection) as captured:
            metrics.referral_metrics(analyst, group_by=group_by, **NOVEMBER)
        baseline[group_by] = len(captured.captured_queries)
    # when three more partners each get an accepted referral
    for n in range(3):
        path = Pathway.objects.create(
            organisation=world.a.organisation,
            provider=provider(world, name=f"Extra shelter {n}", codes=("shelter",)),
            name=f"A → extra {n}",
            valid_from=datetime.date(2026, 1, 1),
        )
        path.categories.set(categories("shelter"))
        services.create_referral(
            register_person(world), pathway=path, category="shelter", by=world.user("a", "caseworker"), now=T
        )
    # then each grouping costs the same number of queries
    for group_by, count in baseline.items():
        with django_assert_max_num_queries(count):
            result = metrics.referral_metrics(analyst, group_by=group_by, **NOVEMBER)
        assert result.total.sent == 11
