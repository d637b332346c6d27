"""The consent receipt a person takes away, in their language: printable, and short enough for an SMS."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import formats, translation
from django.utils.translation import gettext as _

from ventanilla.questionnaires.renderer import direction
from ventanilla.registration.models import ConsentPurpose, Person, Registration

# Arabic SMS travel as UCS-2: 70 characters a part. Three parts is the most worth sending.
SMS_MAX = 200


@dataclass
class Receipt:
    language: str
    direction: str
    reference: str
    organisation: str
    site: str
    date: str
    purposes: list[tuple[str, bool, bool]] = field(default_factory=list)  # label, given, withdrawn
    method: str = ""
    withdraw: str = ""
    sms: str = ""


def build(person: Person, registration: Registration) -> Receipt:
    consents = list(registration.consents.all())
    language = next((c.language for c in consents if c.language), "") or registration.language or "en"
    with translation.override(language):
        given = {c.purpose: c for c in consents}
        purposes = []
        for purpose in ConsentPurpose:
            consent = given.get(purpose.value)
            purposes.append(
                (str(purpose.label), bool(consent and consent.given), bool(consent and consent.withdrawn_at))
            )
        date = formats.date_format(registration.registered_at.date(), "DATE_FORMAT")
        method = str(consents[0].get_method_display()) if consents else ""
        withdraw = _(
            "You can withdraw your consent at any time, at any of our desks or by calling us: give your "
            "reference %(reference)s. Your personal data will then be erased."
        ) % {"reference": person.reference}
        agreed = ", ".join(label for label, ok, withdrawn in purposes if ok and not withdrawn)
        sms = _(
            "%(organisation)s: ref %(reference)s, %(date)s. You agreed to: %(agreed)s. "
            "To withdraw, quote your reference."
        ) % {
            "organisation": registration.organisation.short_name or registration.organisation.name,
            "reference": person.reference,
            "date": registration.registered_at.date().isoformat(),
            "agreed": agreed or "—",
        }
    return Receipt(
        language=language,
        direction=direction(language),
        reference=person.reference,
        organisation=registration.organisation.name,
        site=registration.site.name if registration.site else "",
        date=date,
        purposes=purposes,
        method=method,
        withdraw=withdraw,
        sms=sms[:SMS_MAX],
    )
