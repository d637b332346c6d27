"""Keyword menus by SMS and WhatsApp, built from the directory (filled in by the menus work)."""

from __future__ import annotations

from typing import Any


def handle(gateway: Any, contact: Any, text: str) -> bool:
    """Answer a menu keyword or a menu choice; False when the text is not one (a conversation)."""
    return False
