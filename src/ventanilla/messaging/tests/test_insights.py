"""Seeing the whole: exact counts for a known set, weeks across a year boundary, topics, sensitive
complaints never detailed, another organisation never counted, small numbers hidden in areas."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from ventanilla.messaging import ingest, insights
from ventanilla.messaging.insights import Filters
from ventanilla.messaging.models_inbox import Conversation, Message
from ventanilla.testing.message_insights import UTC, at, make_areas, make_known
from ventanilla.testing.messaging import gateway


@pytest.fixture
def areas(db):
    return make_areas()


@pytest.fixture
def known(world, areas):
    return make_known(world, areas)


MARCH = {"date_from": datetime.date(2026, 3, 2), "date_to": datetime.date(2026, 3, 29)}


def counts(table) -> dict[str, tuple[int | None, int | None]]:
    return {row.key: (row.conversations, row.messages) for row in table.rows}


def test_exact_counts_by_category_topic_channel_language_and_week(world, known):
    # given the known set; when a site manager of A counts March (weeks 10 to 13)
    result = insights.message_insights(world.user("a", "site_manager"), **MARCH)
    tables = result.tables
    # then conversations opened in March and inbound messages received in March are counted exactly;
    # the sensitive complaint is one number in the category table
    assert counts(tables["category"]) == {
        "question": (1, 2),
        "help": (1, 1),
        "": (1, 3),
        "rumour": (0, 1),
        "sensitive": (1, 1),
    }
    assert (tables["category"].total.conversations, tables["category"].total.messages) == (4, 8)
    # a conversation counts under each of its topics; the total counts it once; "staff" (the sensitive
    # complaint's topic) appears nowhere
    assert counts(tables["topic"]) == {"shelter": (2, 3), "documents": (1, 2), "vaccines": (0, 1), "": (1, 3)}
    assert (tables["topic"].total.conversations, tables["topic"].total.messages) == (3, 7)
    assert counts(tables["channel"]) == {"sms": (2, 6), "whatsapp": (1, 1)}
    assert counts(tables["language"]) == {"es": (2, 6), "fr": (1, 1)}
    assert counts(tables["week"]) == {
        "2026-W10": (1, 2),
        "2026-W11": (1, 2),
        "2026-W12": (1, 3),
        "2026-W13": (0, 0),
    }
    assert [row.start for row in tables["week"].rows] == [
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 9),
        datetime.date(2026, 3, 16),
        datetime.date(2026, 3, 23),
    ]
    # and labels are readable
    labels = {row.key: row.label for row in tables["category"].rows}
    assert labels[""] == "Not triaged"
    assert {row.key: row.label for row in tables["language"].rows}["fr"] == "French"


def test_areas_count_municipalities_under_their_state_and_hide_small_numbers(world, known):
    result = insights.message_insights(world.user("a", "data_analyst"), **MARCH)
    # c1 is in a municipality of San Marcos, c2 in San Marcos itself; c3 and c6 have no area: every count
    # is below 5, so every one is hidden; the totals are those of every other table
    admin1 = result.tables["admin1"]
    assert counts(admin1) == {"GT12": (None, None), "": (None, None)}
    assert {row.key: row.label for row in admin1.rows} == {"GT12": "San Marcos", "": "Not known"}
    assert (admin1.total.conversations, admin1.total.messages) == (3, 7)
    assert admin1.small_numbers_hidden
    # at the second level, c2 (known only at the first level) is "Not known"
    assert set(counts(result.tables["admin2"])) == {"GT1201", ""}


def test_other_tables_show_small_numbers_as_they_are(world, known):
    result = insights.message_insights(world.user("a", "site_manager"), **MARCH)
    assert not result.tables["category"].small_numbers_hidden
    assert counts(result.tables["channel"])["whatsapp"] == (1, 1)


def test_another_organisation_is_never_counted(world, known):
    # given B's administrator: only B's conversation
    result = insights.message_insights(world.user("b", "administrator"), **MARCH)
    assert counts(result.tables["category"]) == {"question": (1, 1), "sensitive": (0, 0)}
    assert counts(result.tables["topic"]) == {"shelter": (1, 1)}
    # and A's users never count B's
    mine = insights.message_insights(world.user("a", "information_officer"), **MARCH)
    assert mine.tables["topic"].total.conversations == 3


def test_the_sensitive_complaint_is_left_out_of_every_table_but_the_category_count(world, known):
    result = insights.message_insights(world.user("a", "site_manager"), **MARCH)
    for name, table in result.tables.items():
        keys = set(counts(table))
        assert not keys & {"staff", "ar", "GT1215"}, name
        if name != "category":
            assert table.total.conversations == 3, name
            assert not table.sensitive_included
    assert result.tables["category"].sensitive_included
    # with any filter, it is not even counted (the count would say something about its channel)
    filtered = insights.message_insights(
        world.user("a", "site_manager"), filters=Filters(channel="sms"), **MARCH
    )
    assert "sensitive" not in counts(filtered.tables["category"])
    assert filtered.tables["category"].total.conversations == 2
    # and it cannot be chosen as a filter
    with pytest.raises(insights.InsightsError) as refused:
        insights.message_insights(world.user("a", "site_manager"), filters=Filters(category="sensitive"))
    assert refused.value.field == "category"


def test_filters_narrow_every_table(world, known, areas):
    manager = world.user("a", "site_manager")
    by_topic = insights.message_insights(manager, filters=Filters(topic="shelter"), **MARCH)
    assert counts(by_topic.tables["channel"]) == {"sms": (1, 2), "whatsapp": (1, 1)}
    assert counts(by_topic.tables["topic"]) == {"shelter": (2, 3), "documents": (1, 2)}
    by_language = insights.message_insights(manager, filters=Filters(language="es"), **MARCH)
    assert by_language.tables["category"].total.conversations == 2
    # an area filter takes the areas under it, and hides small numbers in every table, totals too
    by_area = insights.message_insights(manager, filters=Filters(area="GT12"), **MARCH)
    assert counts(by_area.tables["category"]) == {"question": (None, None), "help": (None, None)}
    assert by_area.tables["category"].total.conversations is None
    assert by_area.tables["category"].small_numbers_hidden
    with pytest.raises(insights.InsightsError) as refused:
        insights.message_insights(manager, filters=Filters(area="XX99"))
    assert refused.value.field == "area"


def test_weeks_across_a_year_boundary_follow_iso_weeks_in_the_current_time_zone(world):
    channel = gateway(world)
    for number, moment in enumerate(
        [
            at("2025-12-28"),  # Sunday: 2025-W52
            at("2025-12-29"),  # Monday: 2026-W01
            at("2026-01-04"),  # Sunday: 2026-W01
            # Monday 03:00 UTC is still Sunday evening in Mexico City: 2026-W01 there, 2026-W02 in UTC
            datetime.datetime(2026, 1, 5, 3, 0, tzinfo=UTC),
            at("2026-01-11"),  # Sunday: 2026-W02
        ]
    ):
        message = ingest.record_inbound(channel, sender=f"+5025550010{number}", text="hola", at=moment)
        Conversation.objects.filter(pk=message.conversation_id).update(opened_at=moment)
    user = world.user("a", "me_officer")
    period = {"date_from": datetime.date(2025, 12, 22), "date_to": datetime.date(2026, 1, 11)}
    in_utc = insights.message_insights(user, group_by="week", **period).tables["week"]
    assert counts(in_utc) == {"2025-W52": (1, 1), "2026-W01": (2, 2), "2026-W02": (2, 2)}
    with timezone.override("America/Mexico_City"):
        local = insights.message_insights(user, group_by="week", **period).tables["week"]
    assert counts(local) == {"2025-W52": (1, 1), "2026-W01": (3, 3), "2026-W02": (1, 1)}
    assert [row.start for row in local.rows][:2] == [datetime.date(2025, 12, 22), datetime.date(2025, 12, 29)]


def test_a_lone_small_number_takes_the_next_smallest_with_it(world, areas):
    # given 7 conversations in one municipality, 2 in another, 6 without an area
    channel = gateway(world)
    now = timezone.now()
    for number, area in enumerate([areas["town"]] * 7 + [areas["other_town"]] * 2 + [None] * 6):
        conversation = Conversation.objects.create(
            organisation=world.a.organisation,
            gateway=channel,
            medium="sms",
            category="question",
            area=area,
            last_message_at=now,
        )
        Message.objects.create(
            conversation=conversation, direction="in", body=f"{number}", status="received", at=now
        )
    # when counted by municipality
    table = insights.message_insights(world.user("a", "data_analyst"), group_by="admin2").tables["admin2"]
    # then 2 is hidden, and so is 6 (else 15 - 7 - 6 would give it away); 7 is shown
    assert counts(table) == {"GT1201": (7, 7), "GT1215": (None, None), "": (None, None)}
    assert table.total.conversations == 15
    # and hidden rows are ordered by name, not by their hidden size
    assert [row.key for row in table.rows] == ["GT1201", "GT1215", ""]


def test_nothing_is_counted_without_the_permission(world, known):
    result = insights.message_insights(world.user("a", "caseworker"), **MARCH)
    assert all(table.total.conversations == 0 for table in result.tables.values())
    assert not insights.may_view(world.user("a", "caseworker"))
    assert insights.may_view(world.user("a", "information_officer"))
    assert insights.may_view(world.user("a", "data_analyst"))


def test_periods_and_groupings_are_checked(world):
    user = world.user("a", "administrator")
    with pytest.raises(insights.InsightsError) as refused:
        insights.message_insights(
            user, date_from=datetime.date(2026, 3, 2), date_to=datetime.date(2026, 3, 1)
        )
    assert refused.value.field == "to"
    with pytest.raises(insights.InsightsError) as refused:
        insights.message_insights(
            user, date_from=datetime.date(2020, 1, 1), date_to=datetime.date(2026, 3, 1)
        )
    assert refused.value.field == "from"
    with pytest.raises(insights.InsightsError) as refused:
        insights.message_insights(user, group_by="person")
    assert refused.value.field == "group_by"


def test_topics_in_use_leave_out_sensitive_complaints(world, known):
    assert insights.topics_in_use(world.user("a", "site_manager")) == ["documents", "shelter", "vaccines"]


def test_areas_are_placed_at_the_mean_of_their_published_service_points(world, areas):
    from ventanilla.directory.models import PublicationStatus, ServicePoint, ServiceProvider

    provider = ServiceProvider.objects.create(owner=world.a.organisation, name="Clínica", status="published")
    for latitude, longitude, area, status in [
        (14.96, -91.80, areas["town"], PublicationStatus.PUBLISHED),
        (14.98, -91.78, areas["town"], PublicationStatus.PUBLISHED),
        (14.70, -92.05, areas["other_town"], PublicationStatus.PUBLISHED),
        (10.00, -80.00, areas["other_town"], PublicationStatus.DRAFT),  # not public: not used
    ]:
        ServicePoint.objects.create(
            owner=world.a.organisation,
            provider=provider,
            name="Sede",
            area=area,
            latitude=latitude,
            longitude=longitude,
            status=status,
        )
    positions = insights.area_positions(["GT1201", "GT1215", "GT12", "GT"])
    assert positions["GT1201"] == (14.97, -91.79)
    assert positions["GT1215"] == (14.7, -92.05)
    assert positions["GT12"] == (14.88, -91.8767)  # its municipalities' points
    assert "GT" not in positions  # the country is two levels up: no position
