"""Keyword menus by SMS and WhatsApp, built from the directory rather than written by hand.

1. A keyword alone (INFO, AYUDA, AIDE, مساعدة, MENU, MENÚ, ...) answers a numbered menu of the
   service categories that have published service points in the channel's country, in the contact's
   language, in at most three SMS.
2. A reply "<number> <place>" ("3 Tapachula", or "Tapachula 3") answers the nearest services of that
   category that are open now: name, address, phone and whether open, in at most three SMS. A bare
   number is a choice only within `MENU_WINDOW` of a menu, and then uses the place the contact gave last.
   When the categories do not fit in three SMS (Arabic takes UCS-2, 67 characters a part), the menu ends
   with "0" for the next page, numbered on.

Places are administrative areas, matched by any of their names with case, accents and Arabic vowel
marks ignored. "Nearest" is measured from the middle of the place's published service points and stays
in the place's country; a place without any is searched area by area (the place, then the areas above
it). The menu's numbers are kept on the contact, so they keep meaning what the person read even if the
directory changes in between. Nothing is sent to a contact who sent STOP, and a message that may be a
call for help is never taken for a menu choice: both go to the inbox.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ventanilla.areas.models import AdministrativeArea
from ventanilla.core.text import search_key
from ventanilla.directory import freshness
from ventanilla.directory.geo import Position
from ventanilla.directory.models import Category
from ventanilla.directory.services import PointResult, SearchQuery, search_points
from ventanilla.messaging import sms, urgent
from ventanilla.messaging.gateways import adapter_for
from ventanilla.messaging.models_inbox import Contact, Gateway

MAX_SEGMENTS = 3
MENU_WINDOW = datetime.timedelta(minutes=30)
RESULTS = 3
RADIUS_KM = 100.0
DEFAULT_LANGUAGE = "es"  # as for the STOP confirmation: the corridor's common language

# Menu keywords (as `search_key` folds them) and the language each one says the person reads ("" for
# words shared by several languages: the contact's known language is used).
KEYWORDS = {
    "info": "",
    "informacion": "es",
    "ayuda": "es",
    "menu": "",
    "aide": "fr",
    "مساعده": "ar",
    "معلومات": "ar",
    "قائمه": "ar",
}
_CHOICE = re.compile(r"^(?P<number>\d{1,2})(?:\s*[.,:;)\-]?\s+|\s*[.,:;)\-]\s*|$)(?P<place>.*)$")
_CHOICE_AFTER = re.compile(r"^(?P<place>.*\D)\s+(?P<number>\d{1,2})$")


def keyword_language(text: str) -> str | None:
    """The keyword's language ("" when it has none), or None when the text is not a menu keyword."""
    return KEYWORDS.get(search_key(text).strip(" .!¡?¿،؟"))


def parse_choice(text: str) -> tuple[int, str] | None:
    """(number, place) from "3 Tapachula", "3", "3. Tapachula" or "Tapachula 3"; Arabic digits too."""
    clean = search_key(text).strip(" .!¡?¿،؟")
    match = _CHOICE.match(clean) or _CHOICE_AFTER.match(clean)
    if match is None:
        return None
    return int(match["number"]), match["place"].strip(" ,.")


# --- What the directory offers --------------------------------------------------------------------


def country_of(gateway: Gateway) -> str:
    """The P-code of the channel's country ("" when neither its organisation nor its site has one)."""
    country = gateway.organisation.country
    if country is not None:
        return str(country.pcode)
    if gateway.site_id is not None and gateway.site and gateway.site.area_id is not None:
        return str(gateway.site.area.country_pcode)  # type: ignore[union-attr]
    return ""


def menu_categories(gateway: Gateway) -> list[str]:
    """Category codes with published service points in the channel's country, in the directory's order."""
    country = country_of(gateway)

    def compute() -> list[str]:
        return [
            code
            for code in Category.values
            if search_points(SearchQuery(category=code, area=country, limit=0)).total
        ]

    return freshness.derived(f"sms_menu:{country}", compute)


def _place_index() -> dict[str, list[tuple[int, str, int]]]:
    """Every name of every area, folded → [(level, country P-code, area id)]."""

    def compute() -> dict[str, list[tuple[int, str, int]]]:
        index: dict[str, list[tuple[int, str, int]]] = {}
        rows = AdministrativeArea.objects.values_list("pk", "level", "country_pcode", "name", "names")
        for pk, level, country, name, names in rows:
            for value in {name, *(names or {}).values()}:
                if isinstance(value, str) and value.strip():
                    index.setdefault(search_key(value), []).append((level, country, pk))
        return index

    return freshness.derived("sms_place_index", compute)


def resolve_place(text: str, *, country: str = "") -> AdministrativeArea | None:
    """The area named `text` (accents ignored); the channel's country first, then the most precise."""
    found = _place_index().get(search_key(text))
    if not found:
        return None
    _level, _country, pk = max(found, key=lambda row: (row[1] == country, row[0], -row[2]))
    return AdministrativeArea.objects.filter(pk=pk).first()


def _centre(area: AdministrativeArea) -> Position | None:
    """The middle of the area's published service points (None for a country, or an area without any)."""
    if area.level == AdministrativeArea.Level.COUNTRY:
        return None
    points = search_points(SearchQuery(area=area.pcode, limit=200)).results
    placed = [r.point for r in points if r.point.latitude is not None and r.point.longitude is not None]
    if not placed:
        return None
    latitudes = [float(p.latitude) for p in placed if p.latitude is not None]
    longitudes = [float(p.longitude) for p in placed if p.longitude is not None]
    return Position(sum(latitudes) / len(latitudes), sum(longitudes) / len(longitudes))


@dataclass(frozen=True)
class Found:
    results: list[PointResult]
    open_now: bool  # False: nothing open now, so the nearest are shown with their state


def nearest(category: str, area: AdministrativeArea, *, at: datetime.datetime) -> Found:
    """The nearest services of `category` open at `at`, else the nearest whatever their state."""
    centre = _centre(area)
    if centre is not None:
        query = SearchQuery(
            category=category, area=area.country_pcode, near=centre, radius_km=RADIUS_KM, limit=RESULTS
        )
        queries = [query]
    else:
        chain = [area]
        while chain[-1].parent_id is not None:
            chain.append(chain[-1].parent)  # type: ignore[arg-type]
        queries = [SearchQuery(category=category, area=a.pcode, limit=RESULTS) for a in chain]
    for query in queries:
        found = search_points(dataclasses.replace(query, open_now=True), at=at).results
        if found:
            return Found(found, True)
    for query in queries:
        found = search_points(query, at=at).results
        if found:
            return Found(found, False)
    return Found([], False)


# --- The texts --------------------------------------------------------------------------------------


def _language(contact: Contact) -> str:
    return contact.language or DEFAULT_LANGUAGE


def _example_place(gateway: Gateway, contact: Contact) -> str:
    area = contact.area
    if area is None and gateway.site_id is not None and gateway.site is not None:
        area = gateway.site.area
    return area.display_name if area is not None else ""


def menu_text(codes: list[str], *, example: str, start: int = 0) -> tuple[str, list[str]]:
    """One page of the menu in the active language, from `codes[start]` on, numbered from `start + 1`,
    and the codes it shows: as many as fit in MAX_SEGMENTS, with "0" for the next page if any remain."""
    if not codes:
        return _("We have no services to list here yet. Write your question and we will answer."), []
    if start:
        head = _("More services:")
    else:
        number = codes.index(Category.SHELTER) + 1 if Category.SHELTER in codes else 1
        head = _(
            "Reply with the number of the service and your town, for example: %(sample)s. "
            "To talk to a person, write your message."
        ) % {"sample": f"{number} {example}".strip()}
    more = "\n0 " + _("More services")
    shown: list[str] = []
    text = head
    for position, code in enumerate(codes[start:], start=start + 1):
        candidate = f"{text}\n{position} {Category(code).label}"
        last = position == len(codes)
        if sms.segments(sms.fold(candidate if last else candidate + more)) > MAX_SEGMENTS:
            return sms.fold(text + more), shown
        text, shown = candidate, [*shown, code]
    return sms.fold(text), shown


def _state(result: PointResult) -> str:
    """As the public pages say it (the same catalogue entries)."""
    state = result.state
    if not state.has_hours:
        return _("Opening hours not known")
    if not state.is_open:
        return _("Closed now")
    if state.closes_at is not None and state.closes_at < datetime.time(23, 59):
        return _("Open now, until %(time)s") % {"time": state.closes_at.strftime("%H:%M")}
    return _("Open now")


def _line(position: int, result: PointResult, *, with_address: bool) -> str:
    point = result.point
    parts = [point.name]
    if with_address and point.address:
        parts.append(point.address)
    phone = point.phone or point.provider.phone
    if phone:
        parts.append(_("Tel. %(phone)s") % {"phone": phone})
    parts.append(_state(result))
    return f"{position}) " + ". ".join(part.strip().rstrip(".") for part in parts if part.strip())


def answer_text(category: str, area: AdministrativeArea, found: Found) -> str:
    """The answer in the active language, in at most MAX_SEGMENTS SMS."""
    values = {"service": Category(category).label, "place": area.display_name}
    if not found.results:
        head = _("We found no %(service)s near %(place)s. Write your question and we will answer.") % values
        return sms.fit(sms.fold(head), MAX_SEGMENTS)
    if found.open_now:
        head = _("%(service)s near %(place)s, open now:") % values
    else:
        head = _("%(service)s near %(place)s (none is open now):") % values
    text = head
    for position, result in enumerate(found.results, start=1):
        for with_address in (True, False):
            candidate = f"{text}\n{_line(position, result, with_address=with_address)}"
            if sms.segments(sms.fold(candidate)) <= MAX_SEGMENTS:
                text = candidate
                break
        else:
            if position == 1:  # not even the nearest fits whole: send it cut rather than nothing
                text = sms.fit(sms.fold(f"{text}\n{_line(1, result, with_address=False)}"), MAX_SEGMENTS)
            break
    return sms.fold(text)


# --- The exchange -----------------------------------------------------------------------------------


def _send(gateway: Gateway, contact: Contact, text: str, purpose: str) -> None:
    from ventanilla.messaging import outbound

    outbound.send_to_contact(gateway, contact, text, purpose=purpose)


def _send_menu(gateway: Gateway, contact: Contact, *, now: datetime.datetime, more: bool = False) -> None:
    """The menu's first page, or with `more` the page after those the contact has seen."""
    codes = menu_categories(gateway)
    seen = list(contact.menu_categories)
    start = len(seen) if more and seen == codes[: len(seen)] and len(seen) < len(codes) else 0
    with translation.override(_language(contact)):
        text, shown = menu_text(codes, example=_example_place(gateway, contact), start=start)
    contact.menu_shown_at = now
    contact.menu_categories = seen[:start] + shown  # the numbers the contact has read so far
    contact.save(update_fields=["menu_shown_at", "menu_categories", "language"])
    _send(gateway, contact, text, "menu")


def handle(gateway: Gateway, contact: Contact, text: str, *, now: datetime.datetime | None = None) -> bool:
    """Answer a menu keyword or a menu choice; False when the text is not one (it is a conversation)."""
    if contact.opted_out or adapter_for(gateway.kind) is None or not (contact.phone or contact.handle):
        return False
    now = now or timezone.now()
    language = keyword_language(text)
    if language is not None:
        contact.language = language or contact.language
        _send_menu(gateway, contact, now=now)
        return True
    choice = parse_choice(text)
    if choice is None or urgent.reason(text):
        return False  # a possible call for help always reaches the inbox and raises its alert
    number, place_text = choice
    recent = contact.menu_shown_at is not None and now - contact.menu_shown_at <= MENU_WINDOW
    area: Any = None
    if place_text:
        area = resolve_place(place_text, country=country_of(gateway))
        if area is None and not recent:
            return False  # "2 niños en camino" is a message, not a menu choice
    elif not recent:
        return False
    else:
        area = contact.area
    if number == 0 and not place_text:
        _send_menu(gateway, contact, now=now, more=True)
        return True
    seen, codes = list(contact.menu_categories), menu_categories(gateway)
    if seen and (number <= len(seen) or seen != codes[: len(seen)]):
        codes = seen  # the numbers mean what the contact read, even if the directory changed since
    if not 1 <= number <= len(codes):
        _send_menu(gateway, contact, now=now)
        return True
    with translation.override(_language(contact)):
        if area is None:
            reply = _("Send the number and the name of your town, for example: %(sample)s") % {
                "sample": f"{number} {_example_place(gateway, contact)}".strip()
            }
            _send(gateway, contact, sms.fit(sms.fold(reply), MAX_SEGMENTS), "menu")
            return True
        found = nearest(codes[number - 1], area, at=now)
        reply = answer_text(codes[number - 1], area, found)
    contact.area = area
    contact.menu_shown_at = now  # another number may follow
    contact.save(update_fields=["area", "menu_shown_at"])
    _send(gateway, contact, reply, "menu_answer")
    return True
