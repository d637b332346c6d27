"""Factories for directory rows (tests of other apps may import them too).

Rows are created published unless a test says otherwise, so that a test about drafts says so. Like the
services, every factory here marks the directory changed (`directory.freshness`), so kept search
answers are not reused across a test's own changes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import factory

from ventanilla.directory.freshness import mark_changed
from ventanilla.directory.models import (
    OpeningException,
    OpeningHours,
    PublicationStatus,
    ServiceCategory,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)
from ventanilla.testing.factories import OrganisationFactory


class DirectoryFactory(factory.django.DjangoModelFactory):
    """Creates the row, then marks the directory changed, as the services do."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type[Any], *args: Any, **kwargs: Any) -> Any:
        row = super()._create(model_class, *args, **kwargs)
        mark_changed()
        return row


class ProviderFactory(DirectoryFactory):
    class Meta:
        model = ServiceProvider

    owner = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Provider {n}")
    kind = "ngo"
    status = PublicationStatus.PUBLISHED


class PointFactory(DirectoryFactory):
    class Meta:
        model = ServicePoint
        skip_postgeneration_save = True

    provider = factory.SubFactory(ProviderFactory)
    owner = factory.SelfAttribute("provider.owner")
    name = factory.Sequence(lambda n: f"Service point {n}")
    time_zone = "America/Mexico_City"
    status = PublicationStatus.PUBLISHED

    @factory.post_generation
    def categories(self, create: bool, extracted: Iterable[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.categories.set(ServiceCategory.objects.filter(code__in=list(extracted)))
            mark_changed()


def at_position(latitude: float, longitude: float) -> dict[str, Decimal]:
    """Keyword arguments for PointFactory: coordinates rounded as the model stores them."""
    return {"latitude": Decimal(f"{latitude:.5f}"), "longitude": Decimal(f"{longitude:.5f}")}


def add_hours(point: ServicePoint, weekday: int, opens: str, closes: str) -> OpeningHours:
    mark_changed()
    return OpeningHours.objects.create(
        point=point,
        weekday=weekday,
        opens=datetime.time.fromisoformat(opens),
        closes=datetime.time.fromisoformat(closes),
    )


def add_exception(
    point: ServicePoint, date: datetime.date, opens: str | None = None, closes: str | None = None
) -> OpeningException:
    """Closed all day unless opening times are given."""
    mark_changed()
    return OpeningException.objects.create(
        point=point,
        date=date,
        is_closed=opens is None,
        opens=datetime.time.fromisoformat(opens) if opens else None,
        closes=datetime.time.fromisoformat(closes) if closes else None,
    )


def add_text(point: ServicePoint, language: str, **values: str) -> ServicePointText:
    mark_changed()
    return ServicePointText.objects.create(point=point, language=language, **values)
