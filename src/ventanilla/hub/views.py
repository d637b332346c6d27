"""Public Find Help pages: tiny, readable without JavaScript, in the reader's language.

Nothing here needs an account. Pages carry no CSRF token or personal data, so they are compressed here
(a proxy need not be configured for the size budget). "Near me" is computed in the browser from
`/directory.json`: no page or request ever receives the reader's position, unless the reader types
`near=` into the address bar themselves.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from babel import Locale
from babel.lists import format_list
from django import forms
from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.dates import WEEKDAYS
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from ventanilla.areas.models import AdministrativeArea
from ventanilla.directory import dataset, freshness
from ventanilla.directory.answer_cache import cached_public_page
from ventanilla.directory.geo import Position, parse_position
from ventanilla.directory.hours import local_now, opening_state
from ventanilla.directory.models import Category, ServiceCategory, ServicePoint, Sexes
from ventanilla.directory.services import (
    REGIONAL_LANGUAGES,
    PointResult,
    SearchQuery,
    language_name,
    published_points,
    search_points,
    text_for,
)
from ventanilla.hub import services
from ventanilla.hub.models import ContentKind, Severity

DATASET_MAX_AGE = 300  # seconds a browser or proxy may reuse /directory.json without asking again
EXCEPTIONS_AHEAD_DAYS = 60
# Results a page shows: a screenful or two on a phone, and a page that renders in a few milliseconds
# (rendering each result is most of what an uncached search costs). Further pages are links.
RESULTS_PER_PAGE = 20
MAX_PAGE = 10_000
SEVERITY_ORDER: dict[str, int] = {Severity.DANGER: 0, Severity.WARNING: 1, Severity.INFO: 2}
_KNOWN_LANGUAGES = set(Locale("en").languages) | set(REGIONAL_LANGUAGES)


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _phone(number: str) -> str:
    """+529621234567 → "+52 962 123 4567" for reading; the tel: link keeps the E.164 form."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _hotlines() -> list[dict[str, str]]:
    return [
        {"label": label, "number": _phone(number), "tel": re.sub(r"[^\d+]", "", number)}
        for label, number in settings.HUB_HOTLINES
    ]


def _listed(words: list[str]) -> str:
    """A list as the reader's language writes it: "Spanish and English", "الإسبانية والإنجليزية"."""
    if not words:
        return ""
    try:
        return format_list(words, locale=_language())
    except (ValueError, TypeError):  # pragma: no cover - every offered language is known to babel
        return ", ".join(words)


def _map_context() -> dict[str, Any]:
    return {"map_tiles": settings.MAP_TILE_URL}


# --- Areas that have something to offer -----------------------------------------------------------


@dataclass(frozen=True)
class AreaOption:
    pcode: str
    label: str
    depth: int


def area_options(*, directory_version: int | None = None) -> list[AreaOption]:
    """Areas with published points and the areas above them, in tree order, in the reader's language.

    Kept in the cache until the directory changes (`directory.freshness`): every search page lists
    them, and working them out reads every published point."""
    return freshness.derived(
        f"area_options:{_language()}", _area_options, directory_version=directory_version
    )


def _area_options() -> list[AreaOption]:
    areas = AdministrativeArea.objects.filter(
        pk__in=published_points().exclude(area=None).values("area_id")
    ).select_related("parent__parent")
    paths: dict[str, tuple[AdministrativeArea, ...]] = {}
    for area in areas:
        chain = [area]
        while chain[0].parent is not None:
            chain.insert(0, chain[0].parent)
        for depth in range(len(chain)):
            paths[chain[depth].pcode] = tuple(chain[: depth + 1])
    ordered = sorted(paths.values(), key=lambda path: [a.display_name.casefold() for a in path])
    return [AreaOption(path[-1].pcode, path[-1].display_name, len(path) - 1) for path in ordered]


# --- Search -----------------------------------------------------------------------------------------


class SearchForm(forms.Form):
    """The results page's filters; every error names the field and what to do."""

    q = forms.CharField(required=False, max_length=100, label=gettext_lazy("Search"))
    category = forms.ChoiceField(
        required=False,
        choices=[("", ""), *Category.choices],
        label=gettext_lazy("Service"),
        error_messages={
            "invalid_choice": gettext_lazy("We do not know this service type. Choose one from the list.")
        },
    )
    language = forms.CharField(required=False, max_length=8, label=gettext_lazy("Language spoken"))
    open = forms.BooleanField(required=False, label=gettext_lazy("Open now"))
    area = forms.CharField(required=False, max_length=20, label=gettext_lazy("Area"))
    near = forms.CharField(required=False, max_length=60, label=gettext_lazy("Position"))
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, label=gettext_lazy("Page"))

    def __init__(self, *args: Any, areas: list[AreaOption], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area_codes = {option.pcode for option in areas}

    def clean_language(self) -> str:
        code = self.cleaned_data["language"].strip().lower()
        if code and code not in _KNOWN_LANGUAGES:
            raise forms.ValidationError(_("We do not know this language. Choose one from the list."))
        return str(code)

    def clean_area(self) -> str:
        pcode = self.cleaned_data["area"].strip().upper()
        if (
            pcode
            and pcode not in self.area_codes
            and not AdministrativeArea.objects.filter(pcode=pcode).exists()
        ):
            raise forms.ValidationError(_("We do not know this area. Choose one from the list."))
        return str(pcode)

    def clean_near(self) -> Position | None:
        value = self.cleaned_data["near"].strip()
        if not value:
            return None
        try:
            return parse_position(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


def _spoken_languages(selected: str, *, directory_version: int | None = None) -> list[tuple[str, str]]:
    """Languages that published points speak (and the one chosen), named in the reader's language.

    The list is kept in the cache until the directory changes: it reads every published point."""
    reader = _language()
    spoken: list[tuple[str, str]] = freshness.derived(
        f"spoken_languages:{reader}",
        lambda: _named_languages(_codes_spoken(), reader),
        directory_version=directory_version,
    )
    if selected and selected not in {code for code, _name in spoken}:
        return _named_languages({selected, *(code for code, _name in spoken)}, reader)
    return spoken


def _codes_spoken() -> set[str]:
    codes: set[str] = set()
    for value in published_points().order_by().values_list("languages", flat=True).distinct():
        codes.update(code for code in value.split(",") if code)
    return codes


def _named_languages(codes: set[str], reader: str) -> list[tuple[str, str]]:
    return sorted(
        ((code, language_name(code, reader)) for code in codes), key=lambda pair: pair[1].casefold()
    )


def _result_rows(results: list[PointResult]) -> list[dict[str, Any]]:
    return [
        {
            "point": result.point,
            "distance": result.distance_km,
            "state": result.state,
            "phone": _phone(result.point.phone) if result.point.phone else "",
            "categories": _listed([category.label for category in result.point.categories.all()]),
        }
        for result in results
    ]


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("…") between the numbers shown
    url: str
    current: bool = False


def _page_url(request: HttpRequest, number: int) -> str:
    """This search's address at page `number` (page 1 has no `page`, so it is the plain search)."""
    query = request.GET.copy()
    query.pop("page", None)
    if number > 1:
        query["page"] = str(number)
    encoded = query.urlencode()
    return f"{request.path}?{encoded}#results" if encoded else f"{request.path}#results"


def _pagination(request: HttpRequest, page: int, pages: int) -> dict[str, Any]:
    """Links to the first and last pages and the two either side of this one, with gaps between."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links: list[PageLink] = []
    for number in shown:
        if links and links[-1].number is not None and number - links[-1].number > 1:
            links.append(PageLink(None, ""))
        links.append(PageLink(number, _page_url(request, number), current=number == page))
    return {
        "page": page,
        "pages": pages,
        "page_links": links if pages > 1 else [],
        "previous_url": _page_url(request, page - 1) if page > 1 else "",
        "next_url": _page_url(request, page + 1) if page < pages else "",
    }


def _form_errors(form: forms.Form) -> list[tuple[str, str]]:
    """(field label, message) pairs, so the page can say which filter is wrong."""
    return [
        (str(form.fields[name].label), str(message))
        for name, messages in form.errors.items()
        for message in messages
    ]


@gzip_page
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    language = _language()
    alerts = [text for item in services.current_alerts() if (text := services.public_text(item, language))]
    context = {
        "categories": ServiceCategory.objects.all(),
        "alerts": sorted(alerts, key=lambda text: SEVERITY_ORDER.get(text.item.severity, 3)),
        "hotlines": _hotlines(),
        "areas": area_options(),
    }
    return render(request, "hub/home.html", context)


@cached_public_page
@gzip_page
@require_safe
def results(request: HttpRequest, *, at: datetime.datetime, directory_version: int) -> HttpResponse:
    areas = area_options(directory_version=directory_version)
    form = SearchForm(request.GET, areas=areas)
    context: dict[str, Any] = {
        "form": form,
        "areas": areas,
        "categories": ServiceCategory.objects.all(),
        **_map_context(),
    }
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        query = SearchQuery(
            text=data["q"],
            category=data["category"],
            language=data["language"],
            area=data["area"],
            open_now=data["open"],
            near=data["near"],
            limit=RESULTS_PER_PAGE,
        )
        page = data["page"] or 1
        found = search_points(dataclasses.replace(query, offset=(page - 1) * RESULTS_PER_PAGE), at=at)
        pages = max(1, -(-found.total // RESULTS_PER_PAGE))
        if page > pages:  # an old link after the list shrank: its last page, not an empty one
            page = pages
            found = search_points(dataclasses.replace(query, offset=(page - 1) * RESULTS_PER_PAGE), at=at)
        context.update(
            {
                "rows": _result_rows(found.results),
                "total": found.total,
                "searched": True,
                "first_shown": (page - 1) * RESULTS_PER_PAGE + 1,
                "last_shown": (page - 1) * RESULTS_PER_PAGE + len(found.results),
                **_pagination(request, page, pages),
            }
        )
        chosen = next((option for option in areas if option.pcode == data["area"]), None)
        context["area_name"] = chosen.label if chosen else data["area"]
        context["category_name"] = Category(data["category"]).label if data["category"] else ""
    else:
        context["errors"] = _form_errors(form)
        status = 400
    context["languages"] = _spoken_languages(
        form.cleaned_data.get("language", ""), directory_version=directory_version
    )
    return render(request, "hub/results.html", context, status=status)


# --- One service point --------------------------------------------------------------------------------


def _ages(point: ServicePoint) -> str:
    if point.age_min is not None and point.age_max is not None:
        return _("From %(min)s to %(max)s years old") % {"min": point.age_min, "max": point.age_max}
    if point.age_min is not None:
        return _("%(min)s years old and over") % {"min": point.age_min}
    if point.age_max is not None:
        return _("Up to %(max)s years old") % {"max": point.age_max}
    return _("All ages")


def _week(point: ServicePoint, today: int) -> list[dict[str, Any]]:
    periods: dict[int, list[str]] = {day: [] for day in range(7)}
    for period in point.hours.all():
        periods[period.weekday].append(f"{period.opens:%H:%M}–{period.closes:%H:%M}")
    return [{"name": WEEKDAYS[day], "periods": periods[day], "is_today": day == today} for day in range(7)]


@gzip_page
@require_safe
def service(request: HttpRequest, pk: int) -> HttpResponse:
    point = (
        published_points()
        .select_related("provider", "area")
        .prefetch_related("categories", "hours", "exceptions", "texts")
        .filter(pk=pk)
        .first()
    )
    if point is None:
        raise Http404
    language = _language()
    now = timezone.now()
    local = local_now(point.time_zone, now)
    text, is_fallback = text_for(point, language)
    horizon = local.date() + datetime.timedelta(days=EXCEPTIONS_AHEAD_DAYS)
    context = {
        "point": point,
        "state": opening_state(point, now),
        "week": _week(point, local.weekday()),
        "exceptions": [e for e in point.exceptions.all() if local.date() <= e.date <= horizon],
        "text": text,
        "text_is_fallback": is_fallback,
        "text_language": language_name(text.language, language) if text else "",
        "text_direction": "rtl" if text and translation.get_language_info(text.language)["bidi"] else "ltr",
        "categories": _listed([category.label for category in point.categories.all()]),
        "languages": _listed([language_name(code, language) for code in point.language_codes]),
        "ages": _ages(point),
        "sexes": Sexes(point.sexes).label,
        "phone": _phone(point.phone) if point.phone else "",
        "whatsapp": re.sub(r"\D", "", point.whatsapp),
        "whatsapp_display": _phone(point.whatsapp) if point.whatsapp else "",
        "is_stale": point.is_stale(now=now),
        **_map_context(),
    }
    return render(request, "hub/service.html", context)


@gzip_page
@require_safe
def print_list(request: HttpRequest) -> HttpResponse:
    """One printable page: the published services of an area, grouped by service type."""
    areas = area_options()
    pcode = request.GET.get("area", "").strip().upper()
    context: dict[str, Any] = {
        "areas": areas,
        "pcode": pcode,
        "hotlines": _hotlines(),
        "now": timezone.now(),
        "groups": None,
    }
    if not pcode:
        return render(request, "hub/print.html", context)
    chosen = next((option for option in areas if option.pcode == pcode), None)
    if chosen is None and not AdministrativeArea.objects.filter(pcode=pcode).exists():
        context["error"] = _("We do not know this area. Choose one from the list.")
        return render(request, "hub/print.html", context, status=400)
    found = search_points(SearchQuery(area=pcode, limit=1000))
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in _result_rows(found.results):
        for category in row["point"].categories.all():
            groups.setdefault(category.code, []).append(row)
    context.update(
        {
            "area_name": chosen.label if chosen else pcode,
            "groups": [
                (category.label, groups[category.code])
                for category in ServiceCategory.objects.all()
                if category.code in groups
            ],
            "total": found.total,
            "shown": len(found.results),
        }
    )
    return render(request, "hub/print.html", context)


# --- Articles, FAQs and alerts ----------------------------------------------------------------------------

INFO_KINDS = (ContentKind.RIGHTS, ContentKind.PROCEDURE, ContentKind.FAQ)


@gzip_page
@require_safe
def info(request: HttpRequest) -> HttpResponse:
    language = _language()
    texts = [
        text
        for item in services.public_items().filter(kind__in=INFO_KINDS).order_by("key")
        if (text := services.public_text(item, language))
    ]
    groups = []
    for kind in INFO_KINDS:
        entries = sorted(
            (text for text in texts if text.item.kind == kind),
            key=lambda t: str(t.words.get("title", "")).casefold(),
        )
        if entries:
            groups.append((kind.label, entries))
    return render(request, "hub/info.html", {"groups": groups})


@gzip_page
@require_safe
def article(request: HttpRequest, key: str) -> HttpResponse:
    item = services.public_items().filter(key=key, kind__in=INFO_KINDS).prefetch_related("categories").first()
    if item is None:
        raise Http404
    language = _language()
    text = services.public_text(item, language)
    if text is None:  # pragma: no cover - public_items() holds only items with a published language
        raise Http404
    context = {
        "text": text,
        "item": item,
        "text_language": language_name(text.language, language),
        "text_direction": "rtl" if translation.get_language_info(text.language)["bidi"] else "ltr",
        "is_stale": item.last_verified_at is None
        or timezone.now() - item.last_verified_at > datetime.timedelta(days=settings.DIRECTORY_STALE_DAYS),
        "categories": list(item.categories.all()),
    }
    return render(request, "hub/article.html", context)


@gzip_page
@require_safe
def alerts(request: HttpRequest) -> HttpResponse:
    language = _language()
    items = services.current_alerts().prefetch_related(
        Prefetch("areas", queryset=AdministrativeArea.objects.order_by("pcode"))
    )
    texts = [text for item in items if (text := services.public_text(item, language))]
    texts.sort(key=lambda text: SEVERITY_ORDER.get(text.item.severity, 3))
    rows = [
        {
            "text": text,
            "language_name": language_name(text.language, language),
            "direction": "rtl" if translation.get_language_info(text.language)["bidi"] else "ltr",
        }
        for text in texts
    ]
    return render(request, "hub/alerts.html", {"rows": rows})


# --- The compact dataset (outside the language prefix) --------------------------------------------------


@gzip_page
@require_safe
def directory_dataset(request: HttpRequest) -> HttpResponse:
    """The published directory for the browser's "near me", offline apps and partner websites.

    Weak ETag: the content is identified by the data it holds; its "generated" stamp differs per answer.
    """
    version = dataset.dataset_version()
    etag = f'W/"{version.etag}"'
    last_modified = int(version.last_modified.timestamp()) if version.last_modified else None
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = JsonResponse(
            dataset.compact_dataset(), json_dumps_params={"separators": (",", ":"), "ensure_ascii": False}
        )
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    # A signed-in session may refresh its cookie on this answer: such an answer is never for shared caches.
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, max_age=DATASET_MAX_AGE)
    else:
        patch_cache_control(response, public=True, max_age=DATASET_MAX_AGE)
    return response
