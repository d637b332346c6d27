"""Search keys: what a reader types finds what staff wrote, whatever the accents, case or vowel marks."""

from __future__ import annotations

import pytest

from ventanilla.core.text import search_key, search_words


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Clínica Médica", "clinica medica"),
        ("  NIÑOS\tY   niñas\n", "ninos y ninas"),
        ("Ça coûte 0 €", "ca coute 0 €"),
        ("Straße", "strasse"),  # case-folded, not only lower-cased
        ("ｆｕｌｌ ｗｉｄｔｈ", "full width"),  # compatibility forms
        ("مُسَاعَدَة", "مساعده"),  # tashkeel dropped; teh marbuta read as heh
        ("مسـاعدة", "مساعده"),  # tatweel dropped
        ("أحمد إيمان آمنة ٱلله", "احمد ايمان امنه الله"),  # every alef form is a bare alef
        ("مستشفى", "مستشفي"),  # alef maksura read as yeh
        ("", ""),
    ],
)
def test_search_key_folds_accents_case_and_arabic_marks(written, key):
    assert search_key(written) == key


def test_a_word_and_its_accented_spelling_share_a_key():
    assert search_key("médico") == search_key("medico") == search_key("MÉDICO")


def test_search_words_are_distinct_keys_and_at_most_six():
    assert search_words("Médico medico CLÍNICA a b c d e f") == ["medico", "clinica", "a", "b", "c", "d"]
