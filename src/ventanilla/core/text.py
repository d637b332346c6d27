"""Search keys: text reduced so that what a reader types on any phone keyboard finds what staff wrote.

A migrant types "medico" for "médico", "clinica" for "Clínica", "cafe" for "CAFÉ", and Arabic without
vowel marks ("مساعدة" for "مُسَاعَدَة"). Both sides of a search go through `search_key()`: the stored
column (`core.fields.SearchTextField`) and the words typed. The comparison is then a plain substring test
on text that is already folded, so it behaves the same on SQLite and PostgreSQL (no collation, no
extension, no database function).
"""

from __future__ import annotations

import unicodedata

# Arabic letters that a reader types as the plain letter: alef wasla → alef; alef maksura → yeh;
# teh marbuta → heh (as Lucene's ArabicNormalizer does). Alef with hamza or madda (أ إ آ) decompose
# under NFKD into alef plus a combining mark, which is stripped with the other marks.
_ARABIC_LETTERS = str.maketrans({"\u0671": "\u0627", "\u0649": "\u064a", "\u0629": "\u0647"})
_TATWEEL = "\u0640"  # the stretching stroke: decoration, not a letter


def search_key(text: str) -> str:
    """Case-folded, without accents or vowel marks, whitespace collapsed to single spaces.

    NFKD splits "é" into "e" plus a combining accent and turns compatibility forms (full-width Latin,
    Arabic presentation forms, ligatures) into plain letters; every combining mark (Unicode category
    Mn: Latin accents, Arabic tashkeel and the hamza/madda over alef) is then dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if char != _TATWEEL and unicodedata.category(char) != "Mn")
    return " ".join(stripped.translate(_ARABIC_LETTERS).casefold().split())


def search_words(text: str, *, limit: int = 6) -> list[str]:
    """The distinct words of a query as search keys, at most `limit` of them (each must match)."""
    return list(dict.fromkeys(search_key(text).split()))[:limit]
