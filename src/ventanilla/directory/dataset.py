"""The compact published directory: one small JSON document for offline apps, partner websites and the
"near me" list that the browser computes itself (so a migrant's position never leaves the phone).

Shape (keys kept to one or two letters, because every byte costs a migrant money):

    {"v": 1, "generated": "2025-01-31T12:00:00+00:00",
     "points": [{"id": 1, "n": "Clínica Esperanza", "lat": 14.9059, "lon": -92.2633,
                 "c": ["medical", "shelter"], "a": "MX07089", "p": "+529621234567", "l": ["es", "en"]}]}

Only published points of published providers; coordinates rounded to 4 decimals (about 11 m); a point
without coordinates has lat/lon null (it is still listed, so an app can show it by area); "a" (area P-code)
and "p" (phone) are null when unknown. Two queries whatever the size of the directory.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from ventanilla.directory.models import PublicationStatus, ServicePoint
from ventanilla.directory.services import published_points

VERSION = 1


@dataclass(frozen=True)
class DatasetVersion:
    """What identifies the dataset's content: the ETag, and when it last changed (None when empty)."""

    etag: str
    last_modified: datetime.datetime | None


def _coordinate(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 4)


def compact_dataset() -> dict[str, Any]:
    """The published directory in the compact shape above, ordered by id."""
    points = published_points()
    rows = points.order_by("pk").values_list(
        "pk", "name", "latitude", "longitude", "area__pcode", "phone", "languages"
    )
    categories: dict[int, list[str]] = defaultdict(list)
    links = (
        ServicePoint.categories.through.objects.filter(servicepoint__in=points.values("pk"))
        .order_by("servicepoint_id", "servicecategory__position")
        .values_list("servicepoint_id", "servicecategory_id")
    )
    for point_id, code in links:
        categories[point_id].append(code)
    return {
        "v": VERSION,
        "generated": timezone.now().isoformat(timespec="seconds"),
        "points": [
            {
                "id": pk,
                "n": name,
                "lat": _coordinate(latitude),
                "lon": _coordinate(longitude),
                "c": categories.get(pk, []),
                "a": pcode or None,
                "p": phone or None,
                "l": [code for code in languages.split(",") if code],
            }
            for pk, name, latitude, longitude, pcode, phone, languages in rows
        ],
    }


def dataset_version() -> DatasetVersion:
    """One aggregate query: the number of published points and the latest change to any point or its
    provider. Unpublishing counts as a change too (the point's own time moves), so Last-Modified never
    goes backwards; publishing, editing, unpublishing or deleting a point (or its provider) changes the
    ETag."""
    published = Q(status=PublicationStatus.PUBLISHED, provider__status=PublicationStatus.PUBLISHED)
    state = ServicePoint.objects.aggregate(
        count=Count("pk", filter=published),
        points=Max("updated_at"),
        providers=Max("provider__updated_at"),
    )
    changes = [moment for moment in (state["points"], state["providers"]) if moment is not None]
    last_modified = max(changes) if changes else None
    seed = f"{VERSION}|{state['count']}|{last_modified.isoformat() if last_modified else ''}"
    return DatasetVersion(etag=hashlib.sha256(seed.encode()).hexdigest()[:32], last_modified=last_modified)


def dataset_etag() -> str:
    """A short hash that changes whenever the published directory does (cheap: one aggregate query)."""
    return dataset_version().etag
