"""How long an SMS is: encodings and segments, and cutting a text cleanly to a number of segments.

A text made only of GSM-7 characters travels 160 to a message, or 153 to each part of a long message
(the rest of each part holds the header that joins them); the extension characters (€ [ ] { } ...)
take two places. Any other character (Arabic, most accented capitals, curly quotes) switches the whole
message to UCS-2: 70 UTF-16 units, or 67 per part. A character is never split across two parts.

Latin text is folded to GSM-7 where that loses nothing a reader needs (á → a, – → -, “ ” → "), so a
Spanish answer costs a third of what it would in UCS-2; Arabic is left as it is.
"""

from __future__ import annotations

import unicodedata

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM = "gsm7"
UCS2 = "ucs2"
LIMITS = {GSM: (160, 153), UCS2: (70, 67)}  # one message, each part of a long one
ELLIPSIS = "..."

_FOLD = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "‐": "-",
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "…": "...",
        "·": "-",
        "•": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\t": " ",
        "œ": "oe",
        "Œ": "OE",
    }
)


def _is_gsm(char: str) -> bool:
    return char in GSM_BASIC or char in GSM_EXTENSION


def encoding(text: str) -> str:
    return GSM if all(_is_gsm(char) for char in text) else UCS2


def _costs(text: str, coding: str) -> list[int]:
    if coding == GSM:
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    return [len(char.encode("utf-16-le")) // 2 for char in text]


def segments(text: str) -> int:
    """How many SMS the text takes (0 for no text)."""
    if not text:
        return 0
    coding = encoding(text)
    single, part = LIMITS[coding]
    costs = _costs(text, coding)
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return count


def fold(text: str) -> str:
    """The text in GSM-7 when its only other characters are accents and typography; else unchanged."""
    if encoding(text) == GSM:
        return text
    folded = []
    for char in text.translate(_FOLD):
        if not _is_gsm(char):
            char = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        folded.append(char)
    result = "".join(folded)
    return result if encoding(result) == GSM else text


def fit(text: str, max_segments: int) -> str:
    """The text, cut at a word (and marked "...") if it takes more than `max_segments` SMS."""
    if segments(text) <= max_segments:
        return text
    cut = len(text)
    while cut > 0:
        cut = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
        if cut <= 0:
            break
        candidate = text[:cut].rstrip(" ,.;:-\n") + ELLIPSIS
        if segments(candidate) <= max_segments:
            return candidate
    # One word longer than the whole budget: cut inside it.
    for length in range(len(text), 0, -1):
        candidate = text[:length] + ELLIPSIS
        if segments(candidate) <= max_segments:
            return candidate
    return ""
