"""Which messages may be calls for help: rules in four languages, and a place for a classifier beside them.

Rules are phrases (accents and case ignored) grouped by reason; a message matching any is urgent and the
reason is shown to whoever handles it. A classifier (for example an offline multilingual embedding model)
can be plugged in with `URGENT_CLASSIFIER="package.module:function"`; it takes the text and returns a
reason or "", and is only ever added to the rules, never a replacement for them.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.translation import gettext_lazy

from ventanilla.messaging.keywords import normalise

RULES: dict[str, tuple[str, ...]] = {
    "documents taken": (
        "took my passport",
        "taken my passport",
        "kept my passport",
        "have my documents",
        "me quitaron el pasaporte",
        "me quitaron mis documentos",
        "tienen mi pasaporte",
        "me quitaron mi pasaporte",
        "retienen mis documentos",
        "ont pris mon passeport",
        "garde mon passeport",
        "confisque mes papiers",
        "اخذوا جوازي",
        "أخذوا جواز",
        "اخذوا جواز",
        "صادروا جواز",
        "يحتفظون بجواز",
    ),
    "recruitment or trafficking": (
        "trying to recruit",
        "forced to work",
        "they will not let me leave",
        "cant leave",
        "can't leave",
        "me quieren reclutar",
        "me obligan a trabajar",
        "no me dejan salir",
        "trata de personas",
        "veulent me recruter",
        "me forcent a travailler",
        "ne me laissent pas partir",
        "traite",
        "يجبرونني على العمل",
        "لا يسمحون لي بالخروج",
        "يريدون تجنيدي",
        "اتجار",
    ),
    "violence or danger": (
        "help me",
        "i am in danger",
        "they hit me",
        "kidnapped",
        "someone is following me",
        "raped",
        "ayudenme",
        "ayúdenme",
        "auxilio",
        "estoy en peligro",
        "me golpearon",
        "secuestr",
        "me violaron",
        "me amenazan",
        "aidez-moi",
        "au secours",
        "je suis en danger",
        "ils m'ont frappe",
        "enleve",
        "menace",
        "ساعدوني",
        "النجدة",
        "أنا في خطر",
        "انا في خطر",
        "ضربوني",
        "خطف",
        "اغتصب",
        "يهددونني",
    ),
    "child alone": (
        "child alone",
        "my child is lost",
        "nino solo",
        "niño solo",
        "niña sola",
        "perdi a mi hijo",
        "enfant seul",
        "j'ai perdu mon enfant",
        "طفل وحده",
        "فقدت ابني",
    ),
}


# What each rule's reason says, in the reader's language (the code is what is stored).
REASON_LABELS = {
    "documents taken": gettext_lazy("documents taken"),
    "recruitment or trafficking": gettext_lazy("recruitment or trafficking"),
    "violence or danger": gettext_lazy("violence or danger"),
}


def reason_label(code: str) -> str:
    """A rule's reason in the active language; a classifier's own reason is shown as it gave it."""
    return str(REASON_LABELS.get(code, code))


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (reason, re.compile("|".join(re.escape(normalise(phrase)) for phrase in phrases)))
        for reason, phrases in RULES.items()
    ]


@cache
def _classifier() -> Callable[[str], str] | None:
    path = getattr(settings, "URGENT_CLASSIFIER", "")
    if not path:
        return None
    module, _sep, name = path.partition(":")
    function: Callable[[str], str] = getattr(importlib.import_module(module), name)
    return function


def reason(text: str) -> str:
    """Why this message may be a call for help ("" when nothing suggests it)."""
    clean = normalise(text)
    for why, pattern in _patterns():
        if pattern.search(clean):
            return why
    classifier = _classifier()
    if classifier is not None:
        return str(classifier(text) or "")[:200]
    return ""
