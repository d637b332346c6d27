"""Urgent alerts: the on-duty focal point is told and must acknowledge (filled in by the alerts work)."""

from __future__ import annotations

from typing import Any


def raise_alert(conversation: Any, message: Any, reason: str) -> Any:
    return None
