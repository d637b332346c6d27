"""The message counts page, its CSV and XLSX (HXL checked with libhxl) and the API."""

from __future__ import annotations

import csv
import io
import json
import re

import hxl
import pytest
from openpyxl import load_workbook

from tests.test_no_inline_code import inline_code
from ventanilla.messaging.models_inbox import Conversation
from ventanilla.testing.message_insights import make_areas, make_known, talk


@pytest.fixture
def areas(db):
    return make_areas()


@pytest.fixture
def known(world, areas):
    return make_known(world, areas)


PAGE = "/en/staff/insights/messages/"
EXPORT = "/en/staff/insights/messages/export/"
MARCH = "date_from=2026-03-02&date_to=2026-03-29"


def page_data(response) -> dict:
    found = re.search(
        r'<script id="insights-data" type="application/json">(.*?)</script>', response.content.decode()
    )
    assert found, "no insights-data element"
    return json.loads(found.group(1))


def test_the_page_shows_every_table_and_works_without_javascript(world, known, client_for):
    # given a site manager of A
    client = client_for(world.user("a", "site_manager"))
    # when the page is opened for March
    response = client.get(f"{PAGE}?{MARCH}")
    # then it answers with the tables as content and the chart as an enhancement in static files only
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_code(html) == []
    for heading in ("Category", "Topic", "Channel", "Language", "Week"):
        assert f">{heading}</h2>" in html
    assert "/static/vendor/chart.umd.js" in html
    assert "/static/messaging/insights.js" in html
    # the numbers the chart draws are those of the tables
    data = page_data(response)
    assert data["tables"]["week"]["labels"] == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    assert data["tables"]["week"]["conversations"] == [1, 1, 1, 0]
    assert data["tables"]["admin1"]["conversations"] == [None, None]
    # no map without tiles
    assert "insights-map" not in html
    assert "areas" not in data
    # rows link to the page filtered by them
    assert "category=question" in html
    # small numbers are explained and shown as <5
    assert "&lt;5" in html


def test_the_sensitive_complaint_is_one_number_and_nothing_more(world, known, client_for):
    client = client_for(world.user("a", "site_manager"))
    html = client.get(f"{PAGE}?{MARCH}").content.decode()
    # its row is in the category table, with no link to filter by it
    assert "Sensitive complaint (abuse, exploitation or fraud by staff)" in html
    assert "category=sensitive" not in html
    # its topic, language and municipality appear nowhere (the only conversation with them)
    assert "staff</a>" not in html
    assert "Arabic</a>" not in html
    assert "GT1215" not in html
    # the API refuses to break it down
    api = client.get("/api/v1/message-insights/?category=sensitive")
    assert api.status_code == 400
    assert "category" in api.json()["error"]["fields"]


def test_a_filter_narrows_the_page_and_leaves_sensitive_complaints_out(world, known, client_for):
    client = client_for(world.user("a", "information_officer"))
    response = client.get(f"{PAGE}?{MARCH}&channel=whatsapp")
    data = page_data(response)
    assert data["tables"]["category"]["labels"] == ["Request for help"]
    assert "Filtered: sensitive complaints are not counted in any table." in response.content.decode()


def test_a_bad_period_is_shown_next_to_the_field(world, client_for):
    client = client_for(world.user("a", "data_analyst"))
    response = client.get(f"{PAGE}?date_from=2026-03-10&date_to=2026-03-01")
    assert response.status_code == 200
    assert response.context["form"].errors == {"date_to": ["The end date is before the start date."]}
    assert response.context["result"] is None


def test_the_map_draws_one_circle_per_municipality_when_tiles_are_configured(
    world, known, areas, client_for, settings
):
    from ventanilla.directory.models import ServicePoint, ServiceProvider

    # given tiles, and a published service point in the municipality of c1
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    provider = ServiceProvider.objects.create(owner=world.a.organisation, name="Albergue", status="published")
    ServicePoint.objects.create(
        owner=world.a.organisation,
        provider=provider,
        name="Sede",
        area=areas["town"],
        latitude=14.96,
        longitude=-91.8,
        status="published",
    )
    response = client_for(world.user("a", "site_manager")).get(f"{PAGE}?{MARCH}")
    html = response.content.decode()
    # then the map is on the page (hidden until the script shows it), with the municipality's circle
    # only: the count is hidden as a small number (null), never a person's place
    assert 'id="insights-map"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert page_data(response)["areas"] == [
        {"label": "San Marcos (municipio)", "lat": 14.96, "lon": -91.8, "conversations": None}
    ]
    assert inline_code(html) == []


def test_the_page_runs_the_same_queries_however_much_is_counted(world, known, areas, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.user("a", "site_manager"))
    client.get(PAGE)  # the session and the user are loaded once
    with CaptureQueriesContext(connection) as before:
        assert client.get(f"{PAGE}?{MARCH}").status_code == 200
    # given more conversations in more areas, channels and topics
    channel = known["c1"].gateway
    for number in range(6):
        talk(
            channel, f"+5025550020{number}", ["2026-03-12"], medium="whatsapp" if number % 2 else "sms",
            category="rumour", topics=[f"topic {number}"], area=areas["other_town" if number % 2 else "town"],
        )  # fmt: skip
    with CaptureQueriesContext(connection) as after:
        assert client.get(f"{PAGE}?{MARCH}").status_code == 200
    # then the page runs the same statements: session, user, scope (2), topics, the two counts, areas,
    # the notice badge
    assert len(after.captured_queries) == len(before.captured_queries) == 9


def test_the_csv_has_hxl_tags_that_libhxl_reads(world, known, client_for):
    client = client_for(world.user("a", "site_manager"))
    response = client.get(f"{EXPORT}?format=csv&table=topic&{MARCH}")
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="messages-by-topic-2026-03-02-2026-03-29.csv"'
    )
    dataset = hxl.data(io.BytesIO(response.content))
    assert [column.display_tag for column in dataset.columns] == [
        "#meta+topic",
        "#meta+topic+name",
        "#indicator+num+conversations",
        "#indicator+num+messages+inbound",
    ]
    rows = [row.values for row in dataset]
    assert rows == [
        ["shelter", "shelter", "2", "3"],
        ["documents", "documents", "1", "2"],
        ["vaccines", "vaccines", "0", "1"],
        ["", "No topic", "1", "3"],
        ["", "Total", "3", "7"],
    ]


def test_the_area_csv_writes_hidden_counts_as_less_than_five(world, known, client_for):
    response = client_for(world.user("a", "data_analyst")).get(f"{EXPORT}?format=csv&table=admin1&{MARCH}")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[1] == [
        "#adm1+code",
        "#adm1+name",
        "#indicator+num+conversations",
        "#indicator+num+messages+inbound",
    ]
    assert lines[2] == ["GT12", "San Marcos", "<5", "<5"]
    assert lines[-1] == ["", "Total", "3", "7"]


def test_the_xlsx_has_a_sheet_per_table_with_hxl_tags_and_inert_topics(world, known, client_for):
    # given a topic typed like a formula
    Conversation.objects.filter(pk=known["c3"].pk).update(topics=['=HYPERLINK("http://x")'])
    response = client_for(world.user("a", "me_officer")).get(f"{EXPORT}?format=xlsx&{MARCH}")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "messages-by-category",
        "messages-by-topic",
        "messages-by-channel",
        "messages-by-language",
        "messages-by-admin1",
        "messages-by-admin2",
        "messages-by-week",
    ]
    week = list(workbook["messages-by-week"].iter_rows(values_only=True))
    assert week[1] == (
        "#date+week",
        "#date+start",
        "#indicator+num+conversations",
        "#indicator+num+messages+inbound",
    )
    assert week[2] == ("2026-W10", "2026-03-02", 1, 2)
    topics = [row[0] for row in workbook["messages-by-topic"].iter_rows(min_row=3, values_only=True)]
    assert '\'=HYPERLINK("http://x")' in topics
    assert all(cell.data_type != "f" for sheet in workbook for row in sheet.iter_rows() for cell in row)
    # and libhxl reads a sheet written as CSV the same way (the tags are the same)
    csv_week = client_for(world.user("a", "me_officer")).get(f"{EXPORT}?format=csv&table=week&{MARCH}")
    assert len(list(hxl.data(io.BytesIO(csv_week.content)))) == 5  # four weeks and the total


def test_an_unknown_table_or_format_is_refused(world, client_for):
    client = client_for(world.user("a", "site_manager"))
    assert client.get(f"{EXPORT}?format=pdf").status_code == 400
    assert client.get(f"{EXPORT}?table=people").status_code == 400


@pytest.mark.parametrize("role", ["caseworker", "auditor", "partner_focal_point"])
def test_roles_without_the_permission_are_refused(world, client_for, role):
    client = client_for(world.user("a", role))
    assert client.get(PAGE).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.get("/api/v1/message-insights/").status_code == 403


def test_the_api_gives_one_table_with_hidden_counts_as_null(world, known, client_for):
    client = client_for(world.user("a", "site_manager"))
    body = client.get("/api/v1/message-insights/?group_by=admin1&from=2026-03-02&to=2026-03-29").json()
    assert body["group_by"] == "admin1"
    assert body["from"] == "2026-03-02"
    assert body["small_numbers_hidden"] is True
    assert body["sensitive_included"] is False
    assert body["rows"] == [
        {"key": "GT12", "label": "San Marcos", "conversations": None, "messages": None},
        {"key": "", "label": "Not known", "conversations": None, "messages": None},
    ]
    assert body["total"] == {"key": "total", "label": "Total", "conversations": 3, "messages": 7}
    categories = client.get("/api/v1/message-insights/?from=2026-03-02&to=2026-03-29").json()
    assert categories["sensitive_included"] is True
    assert {row["key"]: row["conversations"] for row in categories["rows"]}["sensitive"] == 1
    weeks = client.get("/api/v1/message-insights/?group_by=week&from=2026-03-02&to=2026-03-29&topic=shelter")
    assert [(r["key"], r["conversations"], r["messages"]) for r in weeks.json()["rows"]] == [
        ("2026-W10", 1, 1),
        ("2026-W11", 1, 2),
        ("2026-W12", 0, 0),
        ("2026-W13", 0, 0),
    ]
    assert client.get("/api/v1/message-insights/?group_by=person").status_code == 400
    assert client.get("/api/v1/message-insights/?from=2026-03-02&to=2026-03-01").status_code == 400


def test_the_api_counts_only_the_callers_organisations(world, known, client_for):
    body = (
        client_for(world.user("b", "data_analyst"))
        .get("/api/v1/message-insights/?group_by=channel&from=2026-03-02&to=2026-03-29")
        .json()
    )
    assert body["rows"] == [{"key": "sms", "label": "SMS", "conversations": 1, "messages": 1}]
