"""The referral metrics page: a period, a grouping, the table, what each number means; and its CSV.

Who may open it: anyone holding view_aggregates (others 403). What is counted is decided in
`metrics.scope_q`. The numbers are about referrals, never about a person, so the page and the CSV are
not audited as reads of personal data.
"""

from __future__ import annotations

import io

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from ventanilla.core import tabular
from ventanilla.referrals import metrics as service

# The service's field names (shared with the API's parameters) → this form's.
_FORM_FIELD = {"from": "date_from", "to": "date_to"}


class MetricsForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("Sent from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Sent until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    group_by = forms.ChoiceField(label=gettext_lazy("Group by"), choices=list(service.GROUPINGS.items()))
    side = forms.ChoiceField(label=gettext_lazy("Referrals"), choices=list(service.SIDES.items()))


@login_required
def metrics(request: HttpRequest) -> HttpResponse:
    if not service.may_view(request.user):
        raise PermissionDenied
    date_from, date_to = service.default_period()
    data = {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "group_by": "partner",
        "side": "all",
        **{key: value for key, value in request.GET.items() if key in MetricsForm.base_fields and value},
    }
    form = MetricsForm(data)
    result = None
    if form.is_valid():
        try:
            result = service.referral_metrics(
                request.user,
                group_by=form.cleaned_data["group_by"],
                side=form.cleaned_data["side"],
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
            )
        except service.MetricsError as error:
            field = _FORM_FIELD.get(error.field, error.field)
            form.add_error(field if field in form.fields else None, str(error))
    if result is not None and request.GET.get("format") == "csv":
        return _csv(result)
    return render(
        request,
        "referrals/metrics.html",
        {
            "form": form,
            "result": result,
            "group_label": service.GROUPINGS[result.group_by] if result else "",
            "columns": [service.COLUMN_LABELS[name] for name in (*service.COUNTS, *service.RATES)],
            "definitions": service.DEFINITIONS,
            "csv_query": _csv_query(request),
        },
    )


def _csv_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query["format"] = "csv"
    return query.urlencode()


def _csv(result: service.Metrics) -> HttpResponse:
    sheet = service.as_sheet(result)
    text = io.StringIO()
    tabular.write_csv(sheet.columns, sheet.hxl, sheet.rows, text)
    response = HttpResponse(tabular.csv_bytes(text.getvalue()), content_type=tabular.CONTENT_TYPES["csv"])
    name = f"{sheet.name}-{result.date_from.isoformat()}-{result.date_to.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
