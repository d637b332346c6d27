"""Seeing the whole: the counts page (tables, a chart and a map as enhancements) and its CSV and XLSX.

Who may open them: anyone holding view_aggregates or handle_messages (others 403). What is counted is
decided in `insights.organisations_of`; the numbers are about conversations, never about a person, so
nothing here is audited as a read of personal data. The tables are the content: the page works without
JavaScript; the chart and the map read the same numbers from a JSON script element.
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from ventanilla.core import tabular
from ventanilla.messaging import insights as service
from ventanilla.messaging.models_inbox import Category, Medium

# The service's field names (shared with the API's parameters) → this form's.
_FORM_FIELD = {"from": "date_from", "to": "date_to"}
# Which filter a row of each table narrows to (weeks narrow the period instead, not offered).
_ROW_FILTER = {
    "category": "category",
    "topic": "topic",
    "channel": "channel",
    "language": "language",
    "admin1": "area",
    "admin2": "area",
}
_ALL = [("", gettext_lazy("All"))]


class InsightsForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    topic = forms.ChoiceField(label=gettext_lazy("Topic"), required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), required=False, choices=[*_ALL, *Medium.choices]
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), required=False, choices=[*_ALL, *settings.LANGUAGES]
    )
    area = forms.CharField(
        label=gettext_lazy("Area (P-code)"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("For example GT12; the areas under it are included."),
    )

    def __init__(self, *args: Any, topics: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [*_ALL, *service.FILTER_CATEGORIES]
        topic = self.fields["topic"]
        assert isinstance(topic, forms.ChoiceField)
        topic.choices = [*_ALL, *[(t, t) for t in topics]]

    def filters(self) -> service.Filters:
        data = self.cleaned_data
        return service.Filters(
            category=data["category"],
            topic=data["topic"],
            channel=data["channel"],
            language=data["language"],
            area=data["area"].strip().upper(),
        )


def _compute(request: HttpRequest, *, group_by: str | None = None) -> tuple[InsightsForm, Any]:
    if not service.may_view(request.user):
        raise PermissionDenied
    date_from, date_to = service.default_period()
    data = {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        **{key: value for key, value in request.GET.items() if key in InsightsForm.base_fields and value},
    }
    form = InsightsForm(data, topics=service.topics_in_use(request.user))
    result = None
    if form.is_valid():
        try:
            result = service.message_insights(
                request.user,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
                filters=form.filters(),
                group_by=group_by,
            )
        except service.InsightsError as error:
            name = _FORM_FIELD.get(error.field, error.field)
            form.add_error(name if name in form.fields else None, str(error))
    return form, result


def _query(request: HttpRequest, **changes: str) -> str:
    query: QueryDict = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def _chart_data(result: service.Insights) -> dict[str, Any]:
    return {
        name: {
            "title": table.label,
            "labels": [row.key if name == "week" else row.label for row in table.rows],
            "conversations": [row.conversations for row in table.rows],
            "messages": [row.messages for row in table.rows],
        }
        for name, table in result.tables.items()
    }


def _map_data(result: service.Insights) -> list[dict[str, Any]]:
    """One circle per second-level area that has a position; never anything finer."""
    table = result.tables["admin2"]
    positions = service.area_positions(row.key for row in table.rows if row.key)
    return [
        {
            "label": row.label,
            "lat": positions[row.key][0],
            "lon": positions[row.key][1],
            "conversations": row.conversations,
        }
        for row in table.rows
        if row.key in positions
    ]


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    form, result = _compute(request)
    tables = []
    data: dict[str, Any] = {}
    if result is not None:
        active = result.filters.as_dict()
        for name, table in result.tables.items():
            narrow = _ROW_FILTER.get(name)
            rows = [
                (
                    row,
                    _query(request, **{narrow: row.key})
                    if narrow and row.key and row.key != Category.SENSITIVE and narrow not in active
                    else "",
                )
                for row in table.rows
            ]
            tables.append(
                {"name": name, "table": table, "rows": rows, "csv": _query(request, format="csv", table=name)}
            )
        data["tables"] = _chart_data(result)
        if settings.MAP_TILE_URL:
            data["areas"] = _map_data(result)
    return render(
        request,
        "messaging/insights_overview.html",
        {
            "form": form,
            "result": result,
            "tables": tables,
            "data": data,
            "map_tiles": settings.MAP_TILE_URL if data.get("areas") else "",
            "xlsx_query": _query(request, format="xlsx"),
            "definitions": service.DEFINITIONS,
            "small_number": service.SMALL_NUMBER,
        },
    )


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """?format=csv&table=<grouping> (one table) or ?format=xlsx (every table, a sheet each)."""
    file_format = request.GET.get("format", "csv")
    table = request.GET.get("table", "category")
    if file_format not in tabular.FORMATS or table not in service.GROUPINGS:
        return HttpResponse(status=400)
    form, result = _compute(request, group_by=table if file_format == "csv" else None)
    if result is None:
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    period = f"{result.date_from.isoformat()}-{result.date_to.isoformat()}"
    if file_format == "csv":
        sheet = service.as_sheet(result, table)
        text = io.StringIO()
        tabular.write_csv(sheet.columns, sheet.hxl, sheet.rows, text)
        response = HttpResponse(tabular.csv_bytes(text.getvalue()), content_type=tabular.CONTENT_TYPES["csv"])
        name = f"{sheet.name}-{period}.csv"
    else:
        stream = io.BytesIO()
        tabular.write_xlsx([service.as_sheet(result, name) for name in result.tables], stream)
        response = HttpResponse(stream.getvalue(), content_type=tabular.CONTENT_TYPES["xlsx"])
        name = f"messages-{period}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
