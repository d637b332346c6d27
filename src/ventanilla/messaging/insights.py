"""Seeing the whole: what people ask and fear, counted by category, topic, channel, language, area, week.

Counts only — no text, number or name is read — so the rows are not read through `visible_to` (which is
about who may see a conversation) but through `organisations_of(user)` below, which says whose
conversations a user may count.

Definitions (the page and the API repeat them):

- **Period**: two dates, both included, in the current time zone.
- **Conversations**: those *opened* in the period, each counted once (in the week it was opened).
- **Inbound messages**: messages *received* in the period (in conversations of any age), each counted
  in its own week and under its conversation's category, topics, channel, language and area.
- **Topics**: a conversation may have several; it counts once under each, so a topic table adds up to
  more than the total, which counts each conversation once. Conversations without one count under
  "No topic".
- **Area**: the conversation's administrative area; at the first level (state, department) a
  municipality counts under its state; at the second level conversations known only at the first
  level count under "Not known".
- **Sensitive complaints** (abuse, exploitation or fraud by staff) are counted only as one number in
  the category table, and only when no filter but the period is chosen; they are left out of every
  other table, and of every table when a filter is chosen, so that nothing about them (topic, place,
  language, channel, time) can be read from the counts.
- **Small numbers**: in the area tables (and in every table when the counts are limited to one area),
  a count from 1 to 4 is shown as "<5", so that counts in small places cannot point to a person; when
  only one row of a column would be hidden, the next smallest is hidden too, so that it cannot be
  worked out from the total.

Who counts what: the organisations where the user holds `view_aggregates` or `handle_messages`, whole
(as the inbox shows message handlers every conversation of their organisation, site or not).

How: two statements, one for conversations opened and one for inbound messages, each applying the
filters and summing in the database (see "The counts" below), so that a few hundred rows come back
whatever the volume; inbound messages are read from an index alone (`message_direction_at_idx`). Python
only builds the tables from those sums: keys, labels, small numbers, sensitive complaints.
(benchmarks/bench_inbox.py, `insights_91_days`: 1,000,000 messages.)
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import BooleanField, Case, Count, F, Func, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ventanilla.core import tabular
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging.models_inbox import Category, Conversation, Direction, Medium, Message

DEFAULT_DAYS = 91  # thirteen weeks
MAX_DAYS = 3 * 366
SMALL_NUMBER = 5  # counts from 1 to SMALL_NUMBER - 1 are shown as "<5" where they could point to someone

GROUPINGS: dict[str, Any] = {
    "category": _("Category"),
    "topic": _("Topic"),
    "channel": _("Channel"),
    "language": _("Language"),
    "admin1": _("Area (first level: state, department)"),
    "admin2": _("Area (second level: municipality)"),
    "week": _("Week"),
}
AREA_GROUPINGS = frozenset({"admin1", "admin2"})
# Categories a filter may choose: never the sensitive one, which is not broken down ("" is no filter).
FILTER_CATEGORIES = [
    (code, label) for code, label in Category.choices if code not in {"", Category.SENSITIVE}
]


class InsightsError(ValueError):
    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


def may_view(user: Any) -> bool:
    scope = scope_for(user)
    return scope.has(Permission.VIEW_AGGREGATES) or scope.has(Permission.HANDLE_MESSAGES)


def organisations_of(user: Any) -> set[int]:
    """The organisations whose conversations the user may count (see the module docstring)."""
    scope = scope_for(user)
    return scope.organisations(Permission.VIEW_AGGREGATES) | scope.organisations(Permission.HANDLE_MESSAGES)


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=DEFAULT_DAYS - 1), today


@dataclass(frozen=True)
class Filters:
    """Optional filters; `area` is a P-code and takes the areas under it too."""

    category: str = ""
    topic: str = ""
    channel: str = ""
    language: str = ""
    area: str = ""

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if getattr(self, name)}


@dataclass(frozen=True)
class InsightsRow:
    """One group (or the total). A count is None when it is hidden as a small number ("<5")."""

    key: str
    label: str
    conversations: int | None
    messages: int | None
    start: datetime.date | None = None  # weeks: the Monday

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "conversations": self.conversations,
            "messages": self.messages,
        }


@dataclass(frozen=True)
class Table:
    group_by: str
    rows: list[InsightsRow]
    total: InsightsRow
    small_numbers_hidden: bool = False
    sensitive_included: bool = False

    @property
    def label(self) -> str:
        return str(GROUPINGS[self.group_by])


@dataclass(frozen=True)
class Insights:
    date_from: datetime.date
    date_to: datetime.date
    filters: Filters
    tables: dict[str, Table] = field(default_factory=dict)


# --- The counts: two statements, each summed by the database three ways --------------------------------
#
# Each table needs one attribute (and the category, to keep sensitive complaints apart) of the rows the
# filters let through. So the filters are applied in SQL, each statement groups its rows once by every
# counted attribute (inner query), and then sums those groups three ways (outer query): by category,
# channel, language and area; by category and topics; by category and week. A few hundred rows come
# back however many conversations and messages there are, instead of one per combination of
# attributes. The three sums come from one pass: the inner groups are joined with a three-row table of
# grouping numbers and each way of grouping blanks the attributes it does not keep — the same statement on
# SQLite and PostgreSQL (SQLite has no GROUPING SETS).

_ATTRIBUTES, _TOPICS, _WEEKS = 0, 1, 2  # the groupings, numbered as the statement returns them
_GROUPING_OF = {
    "category": _ATTRIBUTES,
    "channel": _ATTRIBUTES,
    "language": _ATTRIBUTES,
    "admin1": _ATTRIBUTES,
    "admin2": _ATTRIBUTES,
    "topic": _TOPICS,
    "week": _WEEKS,
}
_SUMMED_THREE_WAYS = """
WITH counted (category, medium, language, area_id, topics, week, n) AS ({inner}),
     way (number) AS (VALUES (0), (1), (2))
SELECT way.number,
       counted.category,
       CASE WHEN way.number = 0 THEN counted.medium END,
       CASE WHEN way.number = 0 THEN counted.language END,
       CASE WHEN way.number = 0 THEN counted.area_id END,
       CASE WHEN way.number = 1 THEN counted.topics END,
       CASE WHEN way.number = 2 THEN counted.week END,
       SUM(counted.n)
FROM counted CROSS JOIN way
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


@dataclass(frozen=True)
class _Cell:
    """Conversations and messages of one category sharing the values one grouping keeps (the others are
    left empty): channel, language and area; or topics; or week."""

    grouping: int
    category: str
    medium: str = ""
    language: str = ""
    area_id: int | None = None
    topics: tuple[str, ...] = ()
    week: datetime.date | None = None


@dataclass(frozen=True)
class _Area:
    admin1: str  # P-code of the first-level area it is (or is in), "" when not known
    admin2: str  # its P-code when it is a second-level area, else ""


def _topics(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # a JSON text, on a backend that does not decode grouped values
        try:
            value = json.loads(value)
        except ValueError:
            return ()
    if not isinstance(value, list):
        return ()
    return tuple(sorted({str(topic).strip() for topic in value if str(topic).strip()}))


def _bounds(date_from: datetime.date, date_to: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return start, end


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _mondays(date_from: datetime.date, date_to: datetime.date) -> list[datetime.date]:
    """The Mondays of the weeks the period touches, the first on or before `date_from`."""
    monday, mondays = _monday(date_from), []
    while monday <= date_to:
        mondays.append(monday)
        monday += datetime.timedelta(days=7)
    return mondays


class _HasTopic(Func):
    """True when a JSON list of topics holds `topic` (topics are stored clean, see `topics.clean_topics`).

    Django's `contains` lookup on a JSONField does not run on SQLite, hence one expression per backend.
    """

    output_field = BooleanField()

    def __init__(self, topics: str, topic: str) -> None:
        super().__init__(F(topics), Value(topic))

    def _compiled(self, compiler: Any) -> tuple[str, str, list[Any]]:
        topics, topics_params = compiler.compile(self.source_expressions[0])
        topic, topic_params = compiler.compile(self.source_expressions[1])
        return topics, topic, [*topics_params, *topic_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        topics, topic, params = self._compiled(compiler)
        sql = f"EXISTS (SELECT 1 FROM json_each({topics}) WHERE json_each.value = {topic})"  # noqa: S608 - compiled column and placeholder
        return sql, params

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        topics, topic, params = self._compiled(compiler)
        return f"({topics} @> jsonb_build_array(({topic})::text))", params


def _filtered(filters: Filters, prefix: str) -> list[Any]:
    """The filters as conditions on a conversation's fields (`prefix` leads from a message to them)."""
    from ventanilla.areas.models import AdministrativeArea

    conditions: list[Any] = []
    for name, field_name in (("category", "category"), ("channel", "medium"), ("language", "language")):
        if getattr(filters, name):
            conditions.append(Q(**{f"{prefix}{field_name}": getattr(filters, name)}))
    if filters.topic:
        conditions.append(_HasTopic(f"{prefix}topics", filters.topic))
    if filters.area:
        # The area and those under it: a country has two levels below it (the levels are 0 to 2).
        under = AdministrativeArea.objects.filter(
            Q(pcode=filters.area) | Q(parent__pcode=filters.area) | Q(parent__parent__pcode=filters.area)
        )
        conditions.append(Q(**{f"{prefix}area__in": under.values("pk")}))
    return conditions


def _week_number(field_name: str, starts: list[datetime.datetime]) -> Any:
    """The number of the week a time falls in (0 for the first), by the weeks' first instants.

    A binary search written as nested CASE: a few comparisons a row on any backend, where TruncWeek with
    a time zone calls Python for every row on SQLite. The same weeks as TruncWeek: a week starts at
    midnight of its Monday in the current time zone, as the period does (`_bounds`).
    """

    def search(first: int, last: int) -> Any:  # the weeks first..last-1
        if last - first == 1:
            return Value(first)
        middle = (first + last) // 2
        return Case(
            When(**{f"{field_name}__lt": starts[middle]}, then=search(first, middle)),
            default=search(middle, last),
            output_field=IntegerField(),
        )

    return search(0, len(starts))


def _summed(inner: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The inner query's groups summed three ways (see `_SUMMED_THREE_WAYS`), as rows of tuples."""
    sql, params = inner.query.sql_with_params()
    with connections[inner.db].cursor() as cursor:
        cursor.execute(_SUMMED_THREE_WAYS.format(inner=sql), params)
        return list(cursor.fetchall())


def _cube(
    organisations: set[int],
    date_from: datetime.date,
    date_to: datetime.date,
    filters: Filters,
) -> dict[_Cell, list[int]]:
    """[conversations opened, inbound messages received] per grouping, category and kept values."""
    zone = timezone.get_current_timezone()
    start, end = _bounds(date_from, date_to)
    mondays = _mondays(date_from, date_to)
    starts = [datetime.datetime.combine(monday, datetime.time.min, tzinfo=zone) for monday in mondays]
    conversations = (
        Conversation.objects.filter(
            *_filtered(filters, ""), organisation__in=organisations, opened_at__gte=start, opened_at__lt=end
        )
        .order_by()
        .values("category", "medium", "language", "area_id", "topics")
        .annotate(week=_week_number("opened_at", starts), n=Count("pk"))
    )
    messages = (
        Message.objects.filter(
            *_filtered(filters, "conversation__"),
            direction=Direction.IN,
            at__gte=start,
            at__lt=end,
            conversation__organisation__in=organisations,
        )
        .order_by()
        .values(
            "conversation__category",
            "conversation__medium",
            "conversation__language",
            "conversation__area_id",
            "conversation__topics",
        )
        # COUNT(*), not of the id: the inbound messages' index has every column the statement reads.
        .annotate(week=_week_number("at", starts), n=Count("*"))
    )
    cube: dict[_Cell, list[int]] = defaultdict(lambda: [0, 0])
    for column, inner in ((0, conversations), (1, messages)):
        for grouping, category, medium, language, area_id, topics, week, n in _summed(inner):
            cell = _Cell(
                grouping,
                category,
                medium=medium or "",
                language=language or "",
                area_id=area_id,
                topics=_topics(topics) if grouping == _TOPICS else (),
                week=mondays[week] if grouping == _WEEKS else None,
            )
            cube[cell][column] += int(n)
    return cube


def _areas(ids: Iterable[int | None]) -> tuple[dict[int, _Area], dict[str, str]]:
    """The counted areas (by id) and the names of their first- and second-level P-codes."""
    from ventanilla.areas.models import AdministrativeArea

    found: dict[int, _Area] = {}
    names: dict[str, str] = {}
    wanted = [pk for pk in set(ids) if pk is not None]
    for area in AdministrativeArea.objects.filter(pk__in=wanted).select_related("parent__parent"):
        lineage = [area]
        while lineage[-1].parent is not None:
            lineage.append(lineage[-1].parent)
        by_level = {item.level: item for item in lineage}
        for item in lineage:
            names[item.pcode] = item.display_name
        found[area.pk] = _Area(
            admin1=by_level[1].pcode if 1 in by_level else "",
            admin2=by_level[2].pcode if 2 in by_level else "",
        )
    return found, names


def _keys(group_by: str, cell: _Cell, areas: dict[int, _Area]) -> list[str]:
    if group_by == "category":
        return [cell.category]
    if group_by == "topic":
        return list(cell.topics) or [""]
    if group_by == "channel":
        return [cell.medium]
    if group_by == "language":
        return [cell.language]
    if group_by in AREA_GROUPINGS:
        area = areas.get(cell.area_id) if cell.area_id is not None else None
        return [getattr(area, group_by) if area else ""]
    assert cell.week is not None  # a cell of the weeks' grouping
    return [_iso_week(cell.week)]


def _iso_week(monday: datetime.date) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _language_name(code: str) -> str:
    try:
        return str(translation.get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _label(group_by: str, key: str, names: dict[str, str]) -> str:
    if group_by == "category":
        return str(Category(key).label) if key in Category.values else key
    if not key:
        return str(_("No topic") if group_by == "topic" else _("Not known"))
    if group_by == "channel":
        return str(Medium(key).label) if key in Medium.values else key
    if group_by == "language":
        return _language_name(key)
    if group_by in AREA_GROUPINGS:
        return names.get(key, key)
    return key


def _hide_small(counts: dict[str, int], hide: bool) -> dict[str, int | None]:
    """Counts from 1 to 4 become None; when only one would be hidden, the next smallest is hidden too."""
    shown: dict[str, int | None] = dict(counts)
    if not hide:
        return shown
    small = [key for key, value in counts.items() if 0 < value < SMALL_NUMBER]
    for key in small:
        shown[key] = None
    if len(small) == 1:
        others = sorted((value, key) for key, value in counts.items() if key not in small and value > 0)
        if others:
            shown[others[0][1]] = None
    return shown


def _table(
    group_by: str,
    cube: dict[_Cell, list[int]],
    filters: Filters,
    areas: dict[int, _Area],
    names: dict[str, str],
    date_from: datetime.date,
    date_to: datetime.date,
) -> Table:
    conversations: dict[str, int] = defaultdict(int)
    messages: dict[str, int] = defaultdict(int)
    total = [0, 0]
    sensitive = [0, 0]
    # Every grouping sums the same conversations and messages (those the filters let through): the table
    # and its total come from the one that keeps the table's attribute.
    grouping = _GROUPING_OF[group_by]
    for cell, (opened, received) in cube.items():
        if cell.grouping != grouping:
            continue
        if cell.category == Category.SENSITIVE:
            sensitive[0] += opened
            sensitive[1] += received
            continue
        total[0] += opened
        total[1] += received
        for key in _keys(group_by, cell, areas):
            conversations[key] += opened
            messages[key] += received
    include_sensitive = group_by == "category" and not filters.active
    if include_sensitive:
        # Always a row, 0 included: the number is what a manager reports, whether or not there are any.
        conversations[str(Category.SENSITIVE.value)] += sensitive[0]
        messages[str(Category.SENSITIVE.value)] += sensitive[1]
        total[0] += sensitive[0]
        total[1] += sensitive[1]
    starts: dict[str, datetime.date] = {}
    if group_by == "week":
        for monday in _mondays(date_from, date_to):
            key = _iso_week(monday)
            starts[key] = monday
            conversations.setdefault(key, 0)
            messages.setdefault(key, 0)
    hide = group_by in AREA_GROUPINGS or bool(filters.area)
    keys = set(conversations) | set(messages)
    shown_conversations = _hide_small({key: conversations[key] for key in keys}, hide)
    shown_messages = _hide_small({key: messages[key] for key in keys}, hide)
    rows = [
        InsightsRow(
            key=key,
            label=_label(group_by, key, names),
            conversations=shown_conversations[key],
            messages=shown_messages[key],
            start=starts.get(key),
        )
        for key in keys
    ]
    if group_by == "week":
        rows.sort(key=lambda row: row.key)
    else:
        # By the counts as shown: hidden small numbers are not given away by their order.
        rows.sort(
            key=lambda row: (
                row.key == "",
                -(row.conversations or 0),
                -(row.messages or 0),
                row.label.lower(),
                row.key,
            )
        )
    total_hidden = bool(filters.area)
    total_row = InsightsRow(
        key="total",
        label=str(_("Total")),
        conversations=None if total_hidden and 0 < total[0] < SMALL_NUMBER else total[0],
        messages=None if total_hidden and 0 < total[1] < SMALL_NUMBER else total[1],
    )
    return Table(
        group_by=group_by,
        rows=rows,
        total=total_row,
        small_numbers_hidden=hide,
        sensitive_included=include_sensitive,
    )


def _check(
    date_from: datetime.date | None, date_to: datetime.date | None, filters: Filters, group_by: str | None
) -> tuple[datetime.date, datetime.date]:
    if group_by is not None and group_by not in GROUPINGS:
        raise InsightsError(
            str(_("Group by category, topic, channel, language, area or week.")), field="group_by"
        )
    if filters.category == Category.SENSITIVE:
        raise InsightsError(
            str(_("Sensitive complaints are counted only as one number; they cannot be broken down.")),
            field="category",
        )
    if filters.category and filters.category not in Category.values:
        raise InsightsError(str(_("Choose one of the categories.")), field="category")
    if filters.channel and filters.channel not in Medium.values:
        raise InsightsError(str(_("Choose one of the channels.")), field="channel")
    if filters.area:
        from ventanilla.areas.models import AdministrativeArea

        if not AdministrativeArea.objects.filter(pcode=filters.area).exists():
            raise InsightsError(str(_("No area has this P-code.")), field="area")
    default_from, default_to = default_period()
    date_from = date_from or (
        date_to - datetime.timedelta(days=DEFAULT_DAYS - 1) if date_to else default_from
    )
    date_to = date_to or max(default_to, date_from)
    if date_from > date_to:
        raise InsightsError(str(_("The end date is before the start date.")), field="to")
    if (date_to - date_from).days >= MAX_DAYS:
        raise InsightsError(str(_("Choose a period of at most three years.")), field="from")
    return date_from, date_to


def message_insights(
    user: Any,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    filters: Filters | None = None,
    group_by: str | None = None,
) -> Insights:
    """The tables for a period (every grouping, or only `group_by`): two grouped statements and the areas'.

    Counts conversations of the user's organisations (`organisations_of`); nothing is personal, so
    nothing is audited as a read.
    """
    filters = filters or Filters()
    date_from, date_to = _check(date_from, date_to, filters, group_by)
    organisations = organisations_of(user)
    cube = _cube(organisations, date_from, date_to, filters) if organisations else {}
    areas, names = _areas(cell.area_id for cell in cube)
    wanted = [group_by] if group_by else list(GROUPINGS)
    return Insights(
        date_from=date_from,
        date_to=date_to,
        filters=filters,
        tables={name: _table(name, cube, filters, areas, names, date_from, date_to) for name in wanted},
    )


def topics_in_use(user: Any) -> list[str]:
    """The topics of the user's organisations' conversations, for the filter's choices."""
    organisations = organisations_of(user)
    if not organisations:
        return []
    lists = (
        Conversation.objects.filter(organisation__in=organisations)
        .exclude(category=Category.SENSITIVE)
        .order_by()
        .values_list("topics", flat=True)
        .distinct()
    )
    return sorted({topic for value in lists for topic in _topics(value)}, key=str.lower)


# --- Where areas are, for the map --------------------------------------------------------------------


def area_positions(pcodes: Iterable[str]) -> dict[str, tuple[float, float]]:
    """(latitude, longitude) to place each area's circle, for the areas that have one.

    Administrative areas carry no boundary or centre in Ventanilla, so an area is placed at the mean
    position of the directory's published service points in it (and in the areas under it): public
    places, never a person's. Areas without a located service point have no position and appear in the
    table only.
    """
    from django.db.models import Q

    from ventanilla.directory.models import PublicationStatus, ServicePoint

    wanted = {pcode for pcode in pcodes if pcode}
    if not wanted:
        return {}
    located = (
        ServicePoint.objects.filter(
            Q(area__pcode__in=wanted) | Q(area__parent__pcode__in=wanted),
            status=PublicationStatus.PUBLISHED,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .order_by()
        .values_list("area__pcode", "area__parent__pcode", "latitude", "longitude")
    )
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for own, parent, latitude, longitude in located:
        for pcode in {own, parent} & wanted:
            sums[pcode][0] += float(latitude)
            sums[pcode][1] += float(longitude)
            sums[pcode][2] += 1
    return {pcode: (round(lat / n, 4), round(lon / n, 4)) for pcode, (lat, lon, n) in sums.items()}


# --- As tables for files ----------------------------------------------------------------------------

_HXL_KEY = {
    "category": ("#meta+category+code", "#meta+category+name"),
    "topic": ("#meta+topic", "#meta+topic+name"),
    "channel": ("#meta+channel+code", "#meta+channel+name"),
    "language": ("#meta+language+code", "#meta+language+name"),
    "admin1": ("#adm1+code", "#adm1+name"),
    "admin2": ("#adm2+code", "#adm2+name"),
    "week": ("#date+week", "#date+start"),
}
_KEY_COLUMN = {
    "category": _("Category code"),
    "topic": _("Topic"),
    "channel": _("Channel code"),
    "language": _("Language code"),
    "admin1": _("P-code"),
    "admin2": _("P-code"),
    "week": _("ISO week"),
}


def _cell(value: int | None) -> int | str:
    return f"<{SMALL_NUMBER}" if value is None else value


def as_sheet(result: Insights, group_by: str) -> tabular.Sheet:
    """One table as the files give it: a key, a label (a week's Monday), the two counts; then the total."""
    table = result.tables[group_by]
    columns = [
        str(_KEY_COLUMN[group_by]),
        str(_("Week starts") if group_by == "week" else table.label),
        str(_("Conversations opened")),
        str(_("Inbound messages received")),
    ]
    hxl = [*_HXL_KEY[group_by], "#indicator+num+conversations", "#indicator+num+messages+inbound"]
    rows: list[list[Any]] = [
        [
            row.key,
            row.start.isoformat() if row.start else row.label,
            _cell(row.conversations),
            _cell(row.messages),
        ]
        for row in table.rows
    ]
    rows.append(["", str(_("Total")), _cell(table.total.conversations), _cell(table.total.messages)])
    return tabular.Sheet(name=f"messages-by-{group_by}", columns=columns, hxl=hxl, rows=rows)


DEFINITIONS: list[tuple[Any, Any]] = [
    (_("Period"), _("Two dates, both included.")),
    (
        _("Conversations"),
        _("Conversations opened in the period, each counted once, in the week it was opened."),
    ),
    (
        _("Inbound messages"),
        _(
            "Messages received in the period, in conversations of any age, counted in the week they "
            "arrived and under their conversation's category, topics, channel, language and area."
        ),
    ),
    (
        _("Topics"),
        _(
            "A conversation with several topics counts under each, so the topic table adds up to more "
            "than the total, which counts each conversation once."
        ),
    ),
    (
        _("Areas"),
        _(
            "The conversation's administrative area. At the first level a municipality counts under its "
            "state or department; at the second level, conversations known only at the first level count "
            "under “Not known”."
        ),
    ),
    (
        _("Sensitive complaints"),
        _(
            "Abuse, exploitation or fraud by staff: counted only as one number in the category table, and "
            "only when no filter but the period is chosen. They are left out of every other table, so that "
            "nothing about them can be read from the counts; they are never listed here."
        ),
    ),
    (
        _("Small numbers"),
        _(
            "In the area tables, and in every table when the counts are limited to one area, counts from 1 "
            "to 4 are shown as “<5” so that they cannot point to a person in a small place. When only one "
            "count of a column would be hidden, the next smallest is hidden too, so that it cannot be "
            "worked out from the total."
        ),
    ),
]
