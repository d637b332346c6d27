"""Finding people who may already be registered, without storing or querying names in clear.

Blocking: each person gets a handful of keyed hashes (`MatchKey`) of coarse tokens — the consonant
skeleton of a name with the birth year, the two name skeletons together. The same name written in
Arabic or Latin letters, with or without accents, "Mohamed" or "Muhammad", gives the same skeleton
(anyascii turns Arabic script into consonants; we drop the vowels of Latin spellings). A new person's
keys find a small set of candidates by index; only those are decrypted and scored with rapidfuzz.
The hashes reveal that two people share a block, never the name: the data-protection page says so.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from anyascii import anyascii
from rapidfuzz import fuzz

from ventanilla.core import crypto

KEY_LENGTH = 24
MAX_CANDIDATES = 100
THRESHOLD = 75

_NOT_LETTER = re.compile(r"[^a-z ]+")
_DOUBLES = re.compile(r"(.)\1+")
_SOUNDS = str.maketrans({"c": "k", "q": "k", "z": "s", "v": "b", "j": "g", "x": "s"})


def latin(name: str) -> str:
    """The name in lower-case Latin letters: 'José' → 'jose', 'محمد' → 'mhmd'."""
    text = anyascii(unicodedata.normalize("NFKC", name or "")).lower()
    return " ".join(_NOT_LETTER.sub(" ", text).split())


def skeleton_token(token: str) -> str:
    token = token.replace("ph", "f").replace("ou", "u")
    token = token.translate(_SOUNDS)
    token = re.sub(r"[aeiouwy]", "", token)
    token = _DOUBLES.sub(r"\1", token)
    if len(token) > 2 and token.endswith("h"):  # Arabic tāʾ marbūṭa: فاطمة → ftmh, Fatima → ftm
        token = token[:-1]
    return token


def skeleton(name: str) -> str:
    """Consonant skeleton of every token: 'Muhammad Youssef' and 'محمد يوسف' both give 'mhmd sf'."""
    return " ".join(filter(None, (skeleton_token(t) for t in latin(name).split())))


def _hash(token: str) -> str:
    return crypto.blind_index(token, purpose="person.match", normaliser=lambda v: v)[:KEY_LENGTH]


@dataclass
class Identity:
    """What matching uses about a person (decrypted in memory, never stored in clear)."""

    given_name: str = ""
    family_name: str = ""
    birth_year: int | None = None
    date_of_birth: datetime.date | None = None
    estimated: bool = False
    nationality: str = ""
    sex: str = ""
    phone_index: str = ""

    @property
    def given_skeletons(self) -> list[str]:
        return skeleton(self.given_name).split()[:1]

    @property
    def family_skeletons(self) -> list[str]:
        return skeleton(self.family_name).split()[:2]


# How much sharing a key says about being the same person: both names and the year most of all.
KEY_WEIGHTS = {"gfy": 4, "gf": 2, "gy": 1, "fy": 1, "g": 1, "f": 1}


def match_keys(
    identity: Identity, *, years: Iterable[int] | None = None, search_names: bool = False
) -> set[str]:
    """The keyed hashes a person is filed under (or, with `years`, searched under)."""
    return set(weighted_match_keys(identity, years=years, search_names=search_names))


def weighted_match_keys(
    identity: Identity, *, years: Iterable[int] | None = None, search_names: bool = False
) -> dict[str, int]:
    """Each keyed hash with the weight of its kind (see KEY_WEIGHTS), for ranking candidates."""
    if years is None:
        years = [identity.birth_year] if identity.birth_year else []
    year_list = list(years)
    given = identity.given_skeletons
    family = identity.family_skeletons
    tokens: set[str] = set()
    for year in year_list:
        for g in given:
            tokens.add(f"gy:{g}:{year}")
            # Both names and the year: a tiny block even for "María Hernández", so the same person
            # written in another script is always among the candidates, however common the name.
            for f in family:
                tokens.add(f"gfy:{g}:{f}:{year}")
        for f in family:
            tokens.add(f"fy:{f}:{year}")
    for g in given:
        for f in family:
            tokens.add(f"gf:{g}:{f}")
    if search_names:  # one name alone, for the staff search box (large blocks: never for duplicates)
        tokens |= {f"g:{g}" for g in given} | {f"f:{f}" for f in family}
    return {_hash(t): KEY_WEIGHTS[t.split(":", 1)[0]] for t in tokens if len(t.split(":")[1]) >= 1}


def search_years(identity: Identity) -> list[int]:
    """An estimated age can be a couple of years off; a stated date of birth, one (typing, calendars)."""
    if not identity.birth_year:
        return []
    spread = 2 if identity.estimated else 1
    return list(range(identity.birth_year - spread, identity.birth_year + spread + 1))


def _is_latin(identity: Identity) -> bool:
    text = f"{identity.given_name}{identity.family_name}"
    return all(ord(char) < 0x250 or not char.isalpha() for char in text)


@dataclass
class Score:
    value: int
    reasons: list[str] = field(default_factory=list)


def score(new: Identity, old: Identity) -> Score:
    """0–100: how likely two records are the same person, and why (reason codes, no values)."""
    reasons: list[str] = []
    new_name = skeleton(f"{new.given_name} {new.family_name}")
    old_name = skeleton(f"{old.given_name} {old.family_name}")
    name_score = 0.0
    if new_name and old_name:
        name_score = fuzz.token_set_ratio(new_name, old_name)
        if _is_latin(new) and _is_latin(old):  # same script: the spelling itself also tells
            spelled = fuzz.token_sort_ratio(
                latin(f"{new.given_name} {new.family_name}"), latin(f"{old.given_name} {old.family_name}")
            )
            name_score = (name_score + spelled) / 2
        if name_score >= 80:
            reasons.append("similar_name")
    birth_score = 50.0  # unknown on either side: neutral
    if new.date_of_birth and old.date_of_birth:
        if new.date_of_birth == old.date_of_birth:
            birth_score = 100.0
            reasons.append("same_date_of_birth")
        else:
            birth_score = 60.0 if abs((new.date_of_birth - old.date_of_birth).days) <= 31 else 0.0
    elif new.birth_year and old.birth_year:
        gap = abs(new.birth_year - old.birth_year)
        birth_score = {0: 90.0, 1: 75.0, 2: 50.0}.get(gap, 0.0)
        if gap <= 1:
            reasons.append("similar_age")
    other = 50.0
    if new.nationality and old.nationality:
        other = 100.0 if new.nationality == old.nationality else 20.0
        if new.nationality == old.nationality:
            reasons.append("same_nationality")
    if new.sex and old.sex and new.sex != old.sex and "undisclosed" not in {new.sex, old.sex}:
        other = 0.0
    value = 0.6 * name_score + 0.28 * birth_score + 0.12 * other
    if new.phone_index and new.phone_index == old.phone_index:
        reasons.append("same_phone")
        value = max(value, 90.0)
    return Score(round(value), reasons)
