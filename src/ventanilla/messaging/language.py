"""A small offline guess of a message's language among the four the platform speaks.

Arabic script decides Arabic; otherwise the most frequent function words decide between Spanish,
French and English. Short texts with no clue get "" (the contact's known language is used instead).
"""

from __future__ import annotations

import re

WORDS = {
    "es": {
        "el",
        "la",
        "los",
        "las",
        "de",
        "que",
        "y",
        "en",
        "un",
        "una",
        "por",
        "para",
        "con",
        "no",
        "me",
        "mi",
        "hola",
        "ayuda",
        "donde",
        "dónde",
        "necesito",
        "gracias",
        "es",
        "está",
        "tengo",
        "quiero",
        "pasaporte",
    },
    "fr": {
        "le",
        "la",
        "les",
        "de",
        "des",
        "que",
        "et",
        "en",
        "un",
        "une",
        "pour",
        "avec",
        "ne",
        "pas",
        "je",
        "mon",
        "bonjour",
        "aide",
        "où",
        "besoin",
        "merci",
        "est",
        "suis",
        "j'ai",
        "veux",
        "passeport",
    },
    "en": {
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "is",
        "for",
        "with",
        "not",
        "i",
        "my",
        "hello",
        "help",
        "where",
        "need",
        "thanks",
        "thank",
        "you",
        "have",
        "want",
        "passport",
    },
}
ARABIC = re.compile(r"[\u0600-\u06FF]")
TOKEN = re.compile(r"[\w']+", re.UNICODE)


def detect(text: str) -> str:
    if ARABIC.search(text):
        return "ar"
    tokens = [token.lower() for token in TOKEN.findall(text)]
    scores = {language: sum(token in words for token in tokens) for language, words in WORDS.items()}
    best = max(scores, key=lambda language: scores[language])
    return best if scores[best] > 0 else ""
