"""Pseudonymous references staff read aloud and write down (VT-…, RF-…, CS-…).

Random, so a reference says nothing about the person or the order of registration; the alphabet has
no 0/O, 1/I/L or U, so it survives being read out at a desk or over the phone.
"""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def random_reference(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"
