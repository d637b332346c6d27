"""The organisation's retention period: only its administrators change it, within bounds, audited."""

from __future__ import annotations

from django.urls import reverse

from ventanilla.core.models import AuditEntry


def test_administrator_sets_the_retention_period(world, client_for):
    organisation = world.a.organisation
    url = reverse("accounts:data_protection", args=[organisation.pk])
    client = client_for(world.a.users["administrator"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"retention_days": "365"})
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.retention_days == 365
    entry = AuditEntry.objects.filter(action="update", fields=["retention_days"]).get()
    assert entry.detail == {"days": 365}


def test_out_of_bounds_is_refused_and_nothing_changes(world, client_for):
    organisation = world.a.organisation
    url = reverse("accounts:data_protection", args=[organisation.pk])
    response = client_for(world.a.users["administrator"]).post(url, {"retention_days": "5"})
    assert response.status_code == 422
    assert "retention_days" in response.context["form"].errors
    organisation.refresh_from_db()
    assert organisation.retention_days == 730


def test_others_may_not(world, client_for):
    url = reverse("accounts:data_protection", args=[world.a.organisation.pk])
    assert client_for(world.a.users["site_manager"]).post(url, {"retention_days": "365"}).status_code == 403
    assert client_for(world.b.users["administrator"]).get(url).status_code == 404
