"""Property: the counts the database sums (`insights._cube`) are the counts of the definitions, row by row.

Hypothesis draws conversations of two organisations (category, topics, channel, language, area, when
each was opened, inbound and outbound messages around it), a period, a time zone with or without
daylight saving and any filters. The expected tables are counted here from every conversation and message
in Python, straight from the module docstring's definitions; the small-number rule (`_hide_small`) is
reused, as it applies to the counts whichever way they were made.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any
from unittest import mock

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from ventanilla.areas.models import AdministrativeArea
from ventanilla.messaging import insights
from ventanilla.messaging.insights import Filters
from ventanilla.messaging.models_inbox import Category, Conversation, Direction, Message
from ventanilla.testing.message_insights import make_areas, talk
from ventanilla.testing.messaging import gateway
from ventanilla.testing.world import build_world

START = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)  # daylight saving starts in March here and there
DAYS = 45
ZONES = ["UTC", "America/New_York", "Asia/Beirut", "America/Guatemala"]
TOPICS = ["shelter", "documents", "health"]
MEDIA = ["sms", "whatsapp", "web"]
LANGUAGES = ["es", "fr", ""]
AREAS = [None, "GT", "GT12", "GT1201", "GT1215"]

# A moment as days, hours and minutes after START (midnight UTC). The hours are mostly those around
# midnight in one of the zones, so that days and weeks begin between two moments often.
moment = st.builds(
    lambda days, hours, minutes: datetime.timedelta(days=days, hours=hours, minutes=minutes),
    st.integers(0, DAYS),
    st.sampled_from([0, 3, 4, 5, 6, 12, 21, 22, 23]),
    st.sampled_from([0, 1, 30, 59]),
)
message_spec = st.tuples(st.booleans(), moment)  # inbound, how long after the opening
conversation_spec = st.fixed_dictionaries(
    {
        "organisation": st.sampled_from("aab"),
        "category": st.sampled_from(Category.values),
        "topics": st.lists(st.sampled_from(TOPICS), unique=True, max_size=3),
        "medium": st.sampled_from(MEDIA),
        "language": st.sampled_from(LANGUAGES),
        "area": st.sampled_from(AREAS),
        "opened": moment,
        "messages": st.lists(message_spec, max_size=5),
    }
)


def _maybe(values: list[str]) -> st.SearchStrategy[str]:
    """No filter on this attribute half of the time, so that combined filters still find something."""
    return st.one_of(st.just(""), st.sampled_from(values))


FILTER_VALUES = {
    "category": [code for code, _label in insights.FILTER_CATEGORIES],
    "topic": TOPICS,
    "channel": MEDIA,
    "language": ["es", "fr"],
    "area": ["GT", "GT12", "GT1201"],
}
# Every data set is counted with no filter, with each filter alone, and with a drawn combination.
ONE_FILTER = [Filters()] + [
    Filters(**{name: value}) for name, values in FILTER_VALUES.items() for value in values
]
combined_filters = st.builds(Filters, **{name: _maybe(values) for name, values in FILTER_VALUES.items()})


def _lineage(area: AdministrativeArea | None) -> list[AdministrativeArea]:
    found = []
    while area is not None:
        found.append(area)
        area = area.parent
    return found


def _iso_week(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _keys(group_by: str, conversation: Conversation, day: datetime.date) -> list[str]:
    """The keys a conversation (or one of its messages, on `day`) counts under, by the definitions."""
    lineage = _lineage(conversation.area)
    by_level = {area.level: area.pcode for area in lineage}
    return {
        "category": [conversation.category],
        "topic": sorted(set(conversation.topics)) or [""],
        "channel": [conversation.medium],
        "language": [conversation.language],
        "admin1": [by_level.get(1, "")],
        "admin2": [by_level.get(2, "")],
        "week": [_iso_week(day)],
    }[group_by]


def _passes(conversation: Conversation, filters: Filters) -> bool:
    return (
        (not filters.category or conversation.category == filters.category)
        and (not filters.topic or filters.topic in conversation.topics)
        and (not filters.channel or conversation.medium == filters.channel)
        and (not filters.language or conversation.language == filters.language)
        and (not filters.area or filters.area in {area.pcode for area in _lineage(conversation.area)})
    )


Counted = list[tuple[Conversation, int, int, datetime.date]]  # conversation, opened, received, local day


def counted_rows(organisation_id: int) -> Counted:
    """Each conversation (opened on its day) and each inbound message (received on its day), in the
    current time zone."""

    def local_day(moment: datetime.datetime) -> datetime.date:
        return timezone.localtime(moment).date()

    counted: Counted = []
    conversations = Conversation.objects.filter(organisation_id=organisation_id).select_related(
        "area__parent__parent"
    )
    for conversation in conversations:
        counted.append((conversation, 1, 0, local_day(conversation.opened_at)))
    inbound = Message.objects.filter(
        conversation__organisation_id=organisation_id, direction=Direction.IN
    ).select_related("conversation__area__parent__parent")
    for message in inbound:
        counted.append((message.conversation, 0, 1, local_day(message.at)))
    return counted


def expected_tables(
    counted: Counted, date_from: datetime.date, date_to: datetime.date, filters: Filters
) -> dict[str, dict[str, Any]]:
    """Every table as {key: (conversations, messages)} plus its total, counted one row at a time."""
    tables: dict[str, dict[str, Any]] = {}
    for group_by in insights.GROUPINGS:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        total = [0, 0]
        include_sensitive = group_by == "category" and not filters.active
        if include_sensitive:
            counts[Category.SENSITIVE.value] = [0, 0]
        if group_by == "week":
            day = date_from
            while day <= date_to:  # every week of the period is a row, 0 included
                counts[_iso_week(day)] = [0, 0]
                day += datetime.timedelta(days=1)
        for conversation, opened, received, day in counted:
            if not date_from <= day <= date_to or not _passes(conversation, filters):
                continue
            if conversation.category == Category.SENSITIVE and not include_sensitive:
                continue
            total[0] += opened
            total[1] += received
            for key in _keys(group_by, conversation, day):
                counts[key][0] += opened
                counts[key][1] += received
        hide = group_by in insights.AREA_GROUPINGS or bool(filters.area)
        shown_conversations = insights._hide_small({key: value[0] for key, value in counts.items()}, hide)
        shown_messages = insights._hide_small({key: value[1] for key, value in counts.items()}, hide)

        def total_shown(value: int) -> int | None:
            return None if filters.area and 0 < value < insights.SMALL_NUMBER else value

        tables[group_by] = {
            "rows": {key: (shown_conversations[key], shown_messages[key]) for key in counts},
            "total": (total_shown(total[0]), total_shown(total[1])),
            "small_numbers_hidden": hide,
            "sensitive_included": include_sensitive,
        }
    return tables


class CountsEqualTheDefinitions(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.world = build_world()
        areas = make_areas()
        cls.areas = {None: None, **{area.pcode: area for area in areas.values()}}
        channel_a = gateway(cls.world)
        channel_b = gateway(
            cls.world, organisation=cls.world.b.organisation, site=cls.world.b.sites[0], name="B"
        )
        # One real conversation each (the contact and channel new ones reuse), opened long before.
        cls.first = {
            "a": talk(channel_a, "+50255500001", ["2025-01-06"]),
            "b": talk(channel_b, "+50255500002", ["2025-01-06"]),
        }
        cls.manager = cls.world.user("a", "site_manager")

    def make(self, spec: dict[str, Any]) -> None:
        first = self.first[spec["organisation"]]
        opened = START + spec["opened"]
        conversation = Conversation.objects.create(
            organisation_id=first.organisation_id,
            site_id=first.site_id,
            gateway_id=first.gateway_id,
            contact_id=first.contact_id,
            medium=spec["medium"],
            category=spec["category"],
            topics=spec["topics"],
            language=spec["language"],
            area=self.areas[spec["area"]],
            last_message_at=opened,
        )
        Conversation.objects.filter(pk=conversation.pk).update(opened_at=opened)  # auto_now_add otherwise
        Message.objects.bulk_create(
            Message(
                conversation=conversation,
                direction=Direction.IN if inbound else Direction.OUT,
                status="received" if inbound else "delivered",
                at=opened + after,
            )
            for inbound, after in spec["messages"]
        )

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        specs=st.lists(conversation_spec, min_size=1, max_size=15),
        first_day=st.integers(-3, DAYS - 7),
        length=st.integers(1, DAYS + 20),
        zone=st.sampled_from(ZONES),
        combined=combined_filters,
        small_number=st.sampled_from([insights.SMALL_NUMBER, 1]),
    )
    def test_every_table_counts_what_the_definitions_count(
        self,
        specs: list[dict[str, Any]],
        first_day: int,
        length: int,
        zone: str,
        combined: Filters,
        small_number: int,
    ) -> None:
        # given random conversations and messages of both organisations
        for spec in specs:
            self.make(spec)
        date_from = START.date() + datetime.timedelta(days=first_day)
        date_to = date_from + datetime.timedelta(days=length - 1)
        # (with small numbers shown half of the time: random data is mostly small numbers, and hidden
        # counts would hide a wrong one)
        with timezone.override(zone), mock.patch.object(insights, "SMALL_NUMBER", small_number):
            counted = counted_rows(self.world.a.organisation.pk)
            for filters in [*ONE_FILTER, combined]:
                # when a manager of A counts a period, in a time zone, with filters
                result = insights.message_insights(
                    self.manager, date_from=date_from, date_to=date_to, filters=filters
                )
                # then every table is what counting each conversation and message gives
                expected = expected_tables(counted, date_from, date_to, filters)
                for group_by, table in result.tables.items():
                    assert {
                        "rows": {row.key: (row.conversations, row.messages) for row in table.rows},
                        "total": (table.total.conversations, table.total.messages),
                        "small_numbers_hidden": table.small_numbers_hidden,
                        "sensitive_included": table.sensitive_included,
                    } == expected[group_by], (group_by, filters)
