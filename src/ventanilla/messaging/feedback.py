"""The public web feedback form: anonymous allowed, kept from spam without JavaScript or CAPTCHAs.

Three guards, each cheap: a honeypot field people never see (a bot that fills it is thanked and nothing
is stored), a signed timestamp of when the form was shown (sent back sooner than `MIN_SECONDS` is a
machine; older than `MAX_AGE_SECONDS` is a stale page, shown again), and a fixed-window count per client
address in the cache (`RATE` posts per `RATE_WINDOW_SECONDS`, as `api.throttling` counts; the address
is kept only as a keyed hash). Signed-in staff (a desk typing in what people say) are not counted.
What passes is stored through `ingest.record_inbound` like any message.
"""

from __future__ import annotations

import time
import uuid

from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext_lazy

from ventanilla.core import crypto
from ventanilla.messaging import ingest
from ventanilla.messaging.models_inbox import Category, Gateway, GatewayKind, Medium, Message

MIN_SECONDS = 3
MAX_AGE_SECONDS = 24 * 3600
RATE = 5
RATE_WINDOW_SECONDS = 10 * 60
SALT = "ventanilla.messaging.feedback"
MAX_TEXT = 2000

# What the person may say their message is; staff triage it further (a sensitive complaint included).
CATEGORY_HINTS = [
    (Category.QUESTION.value, gettext_lazy("A question")),
    (Category.COMPLAINT.value, gettext_lazy("A complaint")),
    (Category.SERVICE_FEEDBACK.value, gettext_lazy("Feedback on a service")),
    (Category.OTHER.value, gettext_lazy("Something else")),
]


def form_channel(key: str | None) -> Gateway | None:
    """The web form channel asked for by key, else the only active one; None when there is none (or
    several and none was named)."""
    channels = Gateway.objects.filter(kind=GatewayKind.WEB_FORM, is_active=True)
    if key:
        try:
            return channels.filter(key=uuid.UUID(key)).first()
        except ValueError:  # not a UUID: no such channel
            return None
    found = list(channels[:2])
    return found[0] if len(found) == 1 else None


def stamp() -> str:
    """When the form was shown, signed so it cannot be forged."""
    return signing.dumps(int(time.time()), salt=SALT)


def seconds_since(value: str) -> float | None:
    """Seconds since the form carrying this stamp was shown; None when forged or too old."""
    try:
        shown = float(signing.loads(value, salt=SALT, max_age=MAX_AGE_SECONDS))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    elapsed = time.time() - shown
    return elapsed if elapsed <= MAX_AGE_SECONDS else None


def _rate_key(address: str) -> str:
    return "feedback_rate_" + crypto.blind_index(address or "-", purpose="feedback.address")[:32]


def over_rate(address: str) -> bool:
    """Count this post for the address; True when it is over the rate of the current window."""
    key = _rate_key(address)
    try:
        count = int(cache.incr(key))
    except ValueError:  # no window open yet (or it expired)
        if cache.add(key, 1, RATE_WINDOW_SECONDS):
            count = 1
        else:
            try:
                count = int(cache.incr(key))
            except ValueError:
                cache.set(key, 1, RATE_WINDOW_SECONDS)
                count = 1
    return count > RATE


@transaction.atomic
def submit(gateway: Gateway, *, category: str, text: str, phone: str = "", language: str = "") -> Message:
    """Store one message from the form: anonymous (no contact) unless a number was given."""
    number = ingest.e164(phone) if phone else ""
    message = ingest.record_inbound(gateway, sender=number, text=text.strip(), medium=Medium.WEB)
    assert message is not None  # the web form takes no command words
    ingest.classify_on_arrival(
        message.conversation,
        category=category if category in dict(CATEGORY_HINTS) else "",
        language=language,
        keep_category=True,
    )
    return message
