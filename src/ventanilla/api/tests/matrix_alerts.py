"""Matrix rows for urgent alerts and the duty rota (/staff/alerts/).

Message handlers (site manager, information officer) and administrators see their organisations'
alerts and keep the duty rota; an administrator of organisation B reads its own (empty) pages and gets
404 for A's alert and shifts. The object: one urgent SMS to organisation A's channel, not sensitive.
"""

from __future__ import annotations

import datetime
from typing import Any

from ventanilla.api.tests.matrix import LOGIN, Row, everyone, expect
from ventanilla.core.models import AuditAction
from ventanilla.testing.world import World

ALERTS = expect(
    anonymous=LOGIN,
    a=403,
    administrator=200,
    site_manager=200,
    information_officer=200,
    other_organisation=200,
    outsider=403,
)


def _written(allowed: object, *, other_organisation: object = 404) -> dict[str, object]:
    return expect(
        anonymous=LOGIN,
        a=403,
        administrator=allowed,
        site_manager=allowed,
        information_officer=allowed,
        other_organisation=other_organisation,
        outsider=403,
    )


def an_alert(world: World) -> Any:
    """An urgent SMS to A's channel raises it (the site manager of the channel's site is told)."""
    cached = getattr(world, "_matrix_alert", None)
    if cached is None:
        from ventanilla.messaging import ingest
        from ventanilla.messaging.models_inbox import UrgentAlert
        from ventanilla.testing.messaging import gateway

        ingest.record_inbound(
            gateway(world), sender="+529625550199", text="Me quitaron el pasaporte", provider_id="matrix"
        )
        cached = UrgentAlert.objects.get()
        world._matrix_alert = cached
    return cached


def a_shift(world: World) -> Any:
    cached = getattr(world, "_matrix_shift", None)
    if cached is None:
        from django.utils import timezone

        from ventanilla.messaging.models_inbox import DutyShift

        now = timezone.now()
        cached = DutyShift.objects.create(
            organisation=world.a.organisation,
            user=world.user("a", "information_officer"),
            starts_at=now,
            ends_at=now + datetime.timedelta(hours=8),
        )
        world._matrix_shift = cached
    return cached


def acknowledged_then_reopened(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import UrgentAlert

    alert = UrgentAlert.objects.get(pk=an_alert(world).pk)
    assert alert.acknowledged_by == world.user("a", principal)
    assert alert.acknowledged_at is not None
    UrgentAlert.objects.filter(pk=alert.pk).update(acknowledged_at=None, acknowledged_by=None)


def shift_added_then_removed(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import DutyShift

    shift = DutyShift.objects.get()
    assert (shift.organisation, shift.user) == (world.a.organisation, world.user("a", "information_officer"))
    assert shift.ends_at - shift.starts_at == datetime.timedelta(hours=10)
    shift.delete()


def shift_removed_then_restored(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import DutyShift

    shift = a_shift(world)
    assert not DutyShift.objects.filter(pk=shift.pk).exists()
    shift.save(force_insert=True)


READS = [
    Row("alerts:list", "GET", lambda w: "/en/staff/alerts/", ALERTS),
    Row("alerts:duty", "GET", lambda w: "/en/staff/alerts/duty/", ALERTS),
    Row(
        "alerts:acknowledge",
        "GET",
        lambda w: f"/en/staff/alerts/{an_alert(w).pk}/acknowledge/",
        everyone(405),
    ),
    Row(
        "alerts:duty_remove", "GET", lambda w: f"/en/staff/alerts/duty/{a_shift(w).pk}/remove/", everyone(405)
    ),
]

WRITES = [
    Row(
        "alerts:acknowledge",
        "POST",
        lambda w: f"/en/staff/alerts/{an_alert(w).pk}/acknowledge/",
        _written("302 /en/staff/alerts/"),
        effect=acknowledged_then_reopened,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "alerts:duty",
        "POST",
        lambda w: "/en/staff/alerts/duty/",
        # B's administrator cannot choose organisation A: the form says so (nothing is written)
        _written("302 /en/staff/alerts/duty/", other_organisation=422),
        data=lambda w: {
            "organisation": w.a.organisation.pk,
            "user": w.user("a", "information_officer").pk,
            "starts_at": "2030-03-01T20:00",
            "ends_at": "2030-03-02T06:00",
        },
        effect=shift_added_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "alerts:duty_remove",
        "POST",
        lambda w: f"/en/staff/alerts/duty/{a_shift(w).pk}/remove/",
        _written("302 /en/staff/alerts/duty/"),
        effect=shift_removed_then_restored,
        audit_actions=(AuditAction.DELETE,),
    ),
]


def state() -> dict[str, Any]:
    """The alert and duty tables, for a check that a refused write changed nothing."""
    from ventanilla.messaging.models_inbox import DutyShift, UrgentAlert

    return {
        "alerts": list(UrgentAlert.objects.order_by("pk").values()),
        "shifts": list(DutyShift.objects.order_by("pk").values()),
    }
