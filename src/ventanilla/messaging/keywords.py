"""Words that are commands, not conversation: opting out and back in, in every supported language.

Matching ignores case, accents and surrounding punctuation, so "Stop", "ARRET" and "arrêt." all count;
only a message that is the keyword alone is a command ("stop calling me" is a conversation).
"""

from __future__ import annotations

import unicodedata

STOP_WORDS = frozenset({"stop", "alto", "baja", "arret", "arrete", "توقف", "الغاء", "إلغاء", "unsubscribe"})
START_WORDS = frozenset({"start", "alta", "inicio", "demarrer", "commencer", "ابدأ", "ابدا", "subscribe"})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return text.strip(" .!¡?¿،؟\n\t")


def command(text: str) -> str | None:
    word = normalise(text)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None
