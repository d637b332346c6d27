"""How staff see a contact's address: the same masking on the page (•) and in the API (*)."""

from __future__ import annotations

import pytest

from ventanilla.messaging.contacts import mask


@pytest.mark.parametrize(
    ("value", "hidden", "shown"),
    [
        ("+529625550101", "•", "+•••••••••101"),
        ("+529625550101", "*", "+*********101"),
        # a social media handle keeps its platform, so staff know where to answer
        ("facebook:maria.lopez", "•", "facebook:••••••••pez"),
        # too short to show anything
        ("+123", "*", "+***"),
        ("", "*", ""),
    ],
)
def test_all_but_the_last_three_characters_are_hidden(value, hidden, shown):
    assert mask(value, hidden=hidden) == shown
