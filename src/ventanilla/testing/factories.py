"""factory_boy factories for rows without a service-level workflow."""

from __future__ import annotations

import factory

from ventanilla.accounts.models import Organisation, Site, User
from ventanilla.areas.models import AdministrativeArea

PASSWORD = "correct-horse-battery"  # noqa: S105 - test users only


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"Staff Member {n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = "ngo"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    kind = "resource_centre"
    time_zone = "America/Mexico_City"


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdministrativeArea
        django_get_or_create = ("pcode",)

    pcode = factory.Sequence(lambda n: f"XX{n:03d}")
    level = 0
    name = factory.Sequence(lambda n: f"Area {n}")
    country_pcode = factory.LazyAttribute(lambda o: o.pcode[:2])
