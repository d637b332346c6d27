"""The access-changed email: to the person it names, in their language, only what their access is now."""

from __future__ import annotations

from django.core import mail
from django.utils import translation

from ventanilla.accounts import services, tasks
from ventanilla.accounts.models import Membership
from ventanilla.testing.factories import UserFactory


def test_grant_email_is_in_the_users_language_whatever_the_administrators(
    world, client_for, django_capture_on_commit_callbacks
):
    # given a member of A who reads Spanish, and A's administrator working on the English pages
    member = world.user("a", "auditor")
    member.preferred_language = "es"
    member.save(update_fields=["preferred_language"])
    # when the administrator gives them a caseworker role
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.user("a", "administrator")).post(
            f"/en/organisations/{world.a.organisation.pk}/members/new/",
            {"user": member.pk, "role": "caseworker"},
        )
    # then the email is in Spanish, role name included
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["a_auditor@example.org"]
    assert message.subject == "Su acceso a Ventanilla cambió"
    assert message.body.split("\n\n") == [
        "Ahora tiene el rol Gestor/a de casos en A.",
        "Si no esperaba este cambio, avise a su administrador/a.",
    ]


def test_removal_email_in_spanish(world, django_capture_on_commit_callbacks):
    member = world.user("a", "caseworker")
    member.preferred_language = "es"
    member.save(update_fields=["preferred_language"])
    membership = Membership.objects.get(user=member, organisation=world.a.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_membership(membership, by=world.user("a", "administrator"), is_active=False)
    [message] = mail.outbox
    assert message.body.splitlines()[0] == "Se le retiró el rol Gestor/a de casos en A."


def test_email_in_english_for_an_english_reader(world, django_capture_on_commit_callbacks):
    with translation.override("es"), django_capture_on_commit_callbacks(execute=True):
        services.grant_membership(
            user=world.user("a", "auditor"),
            organisation=world.a.organisation,
            role="caseworker",
            by=world.user("a", "administrator"),
        )
    [message] = mail.outbox
    assert (message.subject, message.body.splitlines()[0]) == (
        "Your Ventanilla access changed",
        "You now have the role Caseworker in A.",
    )


def test_task_leaves_the_active_language_as_it_was(world):
    member = world.user("a", "auditor")
    member.preferred_language = "ar"
    member.save(update_fields=["preferred_language"])
    membership = Membership.objects.get(user=member, organisation=world.a.organisation)
    with translation.override("fr"):
        assert tasks.notify_access_changed(membership.pk) is True
        assert translation.get_language() == "fr"


def test_no_email_for_a_user_without_an_address_or_a_membership_that_is_gone(world):
    # given a member without an email address
    silent = UserFactory(username="silent", email="")
    membership = services.grant_membership(
        user=silent, organisation=world.a.organisation, role="auditor", by=world.user("a", "administrator")
    )
    # when the task runs for them, and for a membership id that no longer exists
    # then it sends nothing and says so
    assert tasks.notify_access_changed(membership.pk) is False
    assert tasks.notify_access_changed(membership.pk + 10_000) is False
    assert mail.outbox == []


def test_task_is_safe_to_run_twice(world):
    membership = Membership.objects.get(user=world.user("a", "auditor"), organisation=world.a.organisation)
    assert tasks.notify_access_changed(membership.pk) is True
    assert tasks.notify_access_changed(membership.pk) is True
    first, second = mail.outbox
    assert (first.to, first.subject, first.body) == (second.to, second.subject, second.body)
