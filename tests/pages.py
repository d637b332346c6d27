"""Every GET page of the URLconf, with its arguments taken from the shared world.

A new URL pattern with arguments must be added to `_arguments` below (or to `NOT_PAGES`), or the tests
that use this list fail and say so: no page escapes the external-URL checks by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils import translation

from ventanilla.accounts.models import Membership
from ventanilla.directory.models import ImportJob, ImportStatus
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory
from ventanilla.hub import services as hub_services
from ventanilla.hub.models import ContentItem
from ventanilla.questionnaires.models import Questionnaire
from ventanilla.questionnaires.tests.factories import kept_form
from ventanilla.registration import exports
from ventanilla.registration import services as registration_services
from ventanilla.registration.models import ExportJob, Registration
from ventanilla.registration.tests.test_register import TODAY, answers
from ventanilla.testing.factories import AreaFactory
from ventanilla.testing.world import World

# Reached by POST only: a GET answers 405 and renders nothing.
NOT_PAGES = {"accounts:logout", "accounts:revoke_token", "openrosa_staff:device_revoke"}
# OpenRosa submission: HEAD and POST from phones only.
NOT_PAGES |= {"openrosa:submission"}
# API actions, reached by POST only.
NOT_PAGES |= {
    "flag-dismiss",
    "service-point-archive",
    "service-point-publish",
    "service-point-verify",
    "content-item-translation-publish",
    "content-item-translation-send-back",
    "content-item-translation-submit",
    "content-item-verify",
    "person-erase",
    "person-withdraw-consent",
    "person-duplicate-merge",
    "person-duplicate-not-same",
    "person-duplicate-undo",
}
# Staff buttons (publish, verify, workflow steps), reached by POST only.
NOT_PAGES |= {
    "directory:point_status",
    "directory:point_verify",
    "content:item_verify",
    "content:translation_submit",
    "content:translation_publish",
    "content:translation_send_back",
    "content:translation_archive",
}
# Forms and people: choosing the version in use, and the caseworker's decisions on a record.
NOT_PAGES |= {
    "questionnaires:make_current",
    "registration:withdraw_consent",
    "registration:dismiss_flag",
    "registration:decide_duplicate",
}
# Referrals and cases: status changes, links, answers and case actions are POST only.
NOT_PAGES |= {
    "referrals:change_status",
    "referrals:issue_link",
    "referrals:revoke_link",
    "referrals:inbox_answer",
    "cases:decide_transfer",
    "cases:add_task",
    "cases:complete_task",
    "cases:add_note",
}
# The referrals and cases API's actions, reached by POST only.
NOT_PAGES |= {"referral-status", "case-close", "case-task-done"}
# The inbox's changes to a conversation, reached by POST only.
NOT_PAGES |= {"inbox:triage", "inbox:assign", "inbox:status", "inbox:add_note", "inbox:reply", "inbox:person"}
# Channels: rotating a webhook key; the messaging API's actions (reply, opt-out) are POST only.
NOT_PAGES |= {"channels:rotate_key", "conversation-reply", "contact-opt-out"}
# Urgent alerts: acknowledging and removing a duty shift are POST only.
NOT_PAGES |= {"alerts:acknowledge", "alerts:duty_remove"}


def _names(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name


def _public_article(world: World) -> ContentItem:
    """A published article (made once per world, as page_paths may be called more than once)."""
    existing = ContentItem.objects.filter(key="pages-article").first()
    if existing is not None:
        return existing
    by = world.user("a", "information_officer")
    item = hub_services.create_item(owner=world.a.organisation, key="pages-article", kind="rights", by=by)
    words = hub_services.save_translation(item, language="en", by=by, title="Your rights")
    hub_services.publish(hub_services.submit_for_review(words, by=by), by=by)
    return item


def _arguments(world: World) -> dict[str, dict[str, Any]]:
    organisation, site = world.a.organisation, world.a.sites[0]
    membership = Membership.objects.get(user=world.user("a", "caseworker"), organisation=organisation)
    area = AreaFactory()
    return {
        "accounts:organisation_detail": {"pk": organisation.pk},
        "accounts:site_create": {"organisation_pk": organisation.pk},
        "accounts:site_edit": {"organisation_pk": organisation.pk, "pk": site.pk},
        "accounts:membership_grant": {"organisation_pk": organisation.pk},
        "accounts:staff_member_create": {"organisation_pk": organisation.pk},
        "accounts:role_policies": {"organisation_pk": organisation.pk},
        "accounts:data_protection": {"organisation_pk": organisation.pk},
        "accounts:membership_edit": {"pk": membership.pk},
        "organisation-detail": {"pk": organisation.pk},
        "site-detail": {"pk": site.pk},
        "membership-detail": {"pk": membership.pk},
        "area-detail": {"pcode": area.pcode},
        # A published point with a WhatsApp number: its page holds the one allowed external link.
        "hub:service": {"pk": PointFactory(categories=["medical"], whatsapp="+529621234568").pk},
        "hub:article": {"key": _public_article(world).key},
        # OpenRosa (phones, Digest only): pages answer 401 to a session, in XML.
        "openrosa:form_download": {"form_id": "ventanilla_registration", "version": "1"},
        "openrosa:manifest": {"form_id": "ventanilla_registration", "version": "1"},
        **_api_arguments(world),
        **_staff_arguments(world),
        **_export_arguments(world),
        **_registration_arguments(world),
        **_referral_arguments(world),
        **_referral_api_arguments(world),
        "messaging_hook": {"key": "00000000-0000-0000-0000-000000000000"},
        **_inbox_arguments(world),
        **_channel_arguments(world),
    }


def _inbox_arguments(world: World) -> dict[str, dict[str, Any]]:
    """A conversation of A (a message to its generic JSON channel) and one of A's reply templates."""
    from ventanilla.api.tests.matrix_inbox import a_conversation, a_template
    from ventanilla.messaging.models import Gateway

    conversation = a_conversation(world)
    # The browsable API would show the provider's sending address as a link to another host.
    Gateway.objects.filter(pk=conversation.gateway_id).update(send_url="")
    return {
        "inbox:detail": {"pk": conversation.pk},
        "inbox:template_edit": {"pk": a_template(world).pk},
    }


def _api_arguments(world: World) -> dict[str, dict[str, Any]]:
    """The Find Help API's detail routes: a published point and its provider, the published article
    (also asked for as an alert, which it is not: a 404 page), and that article's staff routes."""
    point = PointFactory(categories=["shelter"], name="API point")
    article = _public_article(world).key
    return {
        "service-point-detail": {"pk": point.pk},
        "service-provider-detail": {"pk": point.provider_id},
        "article-detail": {"key": article},
        "alert-detail": {"key": article},
        "content-item-detail": {"key": article},
        "content-item-translation": {"key": article, "language": "en"},
        **_registration_api_arguments(world),
    }


def _registration_api_arguments(world: World) -> dict[str, dict[str, Any]]:
    """The forms and registration API's detail routes: the shipped form and a person of A."""
    from ventanilla.registration import services as registration_services
    from ventanilla.registration.models import Person
    from ventanilla.registration.tests.test_register import answers

    version = registration_services.shipped_form()
    person = Person.objects.filter(organisation=world.a.organisation).first()
    if person is None:
        person = registration_services.register(
            version,
            answers(),
            organisation=world.a.organisation,
            site=world.a.sites[0],
            by=world.user("a", "caseworker"),
        ).person
    form = {"pk": version.questionnaire_id}
    in_version = {**form, "version_pk": version.pk}
    by_reference = {"reference": person.reference}
    return {
        "form-detail": form,
        "form-versions": form,
        "form-version-xlsx": in_version,
        "form-version-xform": in_version,
        "form-version-schema": in_version,
        "registration-detail": {"pk": person.registrations.first().pk},
        "person-detail": by_reference,
        "person-consents": by_reference,
        "person-flags": by_reference,
        "person-duplicates": by_reference,
    }


def _import_job(world: World) -> ImportJob:
    """A finished import of A with one row error, so its page shows the report."""
    return ImportJob.objects.create(
        organisation=world.a.organisation,
        created_by=world.user("a", "information_officer"),
        file_name="points.csv",
        stored_name="gone.csv",
        status=ImportStatus.FAILED,
        errors=[{"row": 2, "column": "categories", "message": "Unknown categories: x"}],
    )


def _staff_arguments(world: World) -> dict[str, dict[str, Any]]:
    """The staff pages of the directory and the content: a point and a provider of A, A's article."""
    point = PointFactory(
        provider=ProviderFactory(owner=world.a.organisation, name="Staff pages provider"),
        categories=["food"],
        name="Staff pages point",
    )
    article = {"pk": _public_article(world).pk}
    return {
        "directory:point_edit": {"pk": point.pk},
        "directory:provider_edit": {"pk": point.provider_id},
        "directory:import_job": {"pk": _import_job(world).pk},
        "content:item_detail": article,
        "content:item_settings": article,
        "content:translation_edit": {**article, "language": "ar"},
        "content:translation_review": {**article, "language": "en"},
        "content:translation_history": {**article, "language": "en"},
    }


def _export_arguments(world: World) -> dict[str, dict[str, Any]]:
    """A written de-identified export of A's site manager (its pages answer 404 to anyone else)."""
    job = ExportJob.objects.filter(requested_by=world.user("a", "site_manager")).first()
    if job is None:
        job = exports.request_export(
            by=world.user("a", "site_manager"),
            kind="deidentified",
            file_format="xlsx",
            reason="",
            filters=exports.Filters(),
        )
        exports.run_export(job)
    return {
        "registration_exports:status": {"pk": job.pk},
        "registration_exports:download": {"pk": job.pk},
    }


def _registration_arguments(world: World) -> dict[str, dict[str, Any]]:
    """A's own form (made once per world) and a person registered at A's first site with the shipped form."""
    questionnaire = Questionnaire.objects.filter(owner=world.a.organisation).first()
    if questionnaire is None:
        questionnaire = kept_form(world.a.organisation)[0].questionnaire
    registration = Registration.objects.filter(person__isnull=False, site=world.a.sites[0]).first()
    if registration is None:
        registration = registration_services.register(
            registration_services.shipped_form(),
            answers(),
            organisation=world.a.organisation,
            site=world.a.sites[0],
            by=world.user("a", "caseworker"),
            language="en",
            today=TODAY,
        ).registration
    assert registration is not None
    assert registration.person is not None
    form = {"pk": questionnaire.pk}
    version = {**form, "version_pk": questionnaire.current_id}
    person = {"reference": registration.person.reference}
    return {
        "questionnaires:detail": form,
        "questionnaires:try": form,
        "questionnaires:xlsx": version,
        "questionnaires:xform": version,
        "registration:person_detail": person,
        "registration:receipt": person,
        "registration:erase": person,
        "registration:correct": {**person, "registration_id": registration.pk},
    }


def _referral_arguments(world: World) -> dict[str, dict[str, Any]]:
    """A referral from A to B (sent, so B's partner sees it), a pathway, a case and a live link."""
    from ventanilla.cases import services as case_services
    from ventanilla.cases.models import Case
    from ventanilla.referrals import links
    from ventanilla.referrals import services as referral_services
    from ventanilla.referrals.models import Pathway, Referral
    from ventanilla.testing.referrals import pathway, register_person

    referral = Referral.objects.filter(organisation=world.a.organisation).first()
    if referral is None:
        person = register_person(world)
        referral = referral_services.create_referral(
            person, pathway=pathway(world), category="medical", by=world.user("a", "caseworker"), need="x"
        )
    case = Case.objects.filter(organisation=world.a.organisation).first() or case_services.open_case(
        referral.person, by=world.user("a", "caseworker")
    )
    token = links.issue(referral, by=world.user("a", "caseworker")).url.rstrip("/").rsplit("/", 1)[1]
    person_ref = {"person_reference": referral.person.reference}
    return {
        "referrals:create": person_ref,
        "referrals:detail": {"reference": referral.reference},
        "referrals:inbox_detail": {"reference": referral.reference},
        "referrals:pathway_edit": {
            "pk": Pathway.objects.filter(organisation=world.a.organisation).first().pk
        },
        "referral_link": {"token": token},
        "cases:open": person_ref,
        "cases:detail": {"reference": case.reference},
        "cases:edit": {"reference": case.reference},
        "cases:close": {"reference": case.reference},
        "cases:reassign": {"reference": case.reference},
        "cases:transfer": {"reference": case.reference},
    }


def _referral_api_arguments(world: World) -> dict[str, dict[str, Any]]:
    """The referrals and cases API's detail routes: A's referral, pathway and case (made by
    `_referral_arguments`) and a webhook of A."""
    from ventanilla.cases.models import Case
    from ventanilla.referrals import webhooks
    from ventanilla.referrals.models import PartnerWebhook, Pathway, Referral

    referral = Referral.objects.filter(organisation=world.a.organisation).first()
    case = Case.objects.filter(organisation=world.a.organisation).first()
    # On this host: the browsable API (development) shows the address as a link.
    hook = PartnerWebhook.objects.filter(organisation=world.a.organisation).first() or webhooks.add_webhook(
        world.a.organisation, url="https://testserver/hook", by=world.user("a", "administrator")
    )
    assert referral is not None
    assert case is not None
    return {
        "referral-detail": {"reference": referral.reference},
        "referral-events": {"reference": referral.reference},
        "pathway-detail": {"pk": Pathway.objects.filter(organisation=world.a.organisation).first().pk},
        "webhook-detail": {"pk": hook.pk},
        "case-detail": {"reference": case.reference},
        "case-tasks": {"reference": case.reference},
    }


def _channel_arguments(world: World) -> dict[str, dict[str, Any]]:
    """A hotline of A with one logged call, and A's web form (so /<lang>/feedback/ opens). Neither has a
    webhook or sending address: the browsable API would show those as links to another host."""
    from ventanilla.messaging import ingest
    from ventanilla.messaging.models_inbox import Gateway
    from ventanilla.testing.messaging import gateway

    channel = Gateway.objects.filter(organisation=world.a.organisation, kind="hotline").first()
    if channel is None:
        channel = gateway(world, "hotline", address="+529621000099")
        gateway(world, "web_form", address="")
    message = ingest.record_inbound(channel, sender="+529625550101", text="Necesito ayuda", medium="hotline")
    assert message is not None
    return {
        "channels:edit": {"pk": channel.pk},
        "conversation-detail": {"pk": message.conversation_id},
        "conversation-messages": {"pk": message.conversation_id},
        "contact-detail": {"pk": message.conversation.contact_id},
        "channel-detail": {"pk": channel.pk},
        "response-times-detail": {"pk": world.a.organisation.pk},
    }


def page_paths(world: World, *, language: str = "en") -> list[str]:
    """Paths of every GET page; admin pages with arguments are left out (Django's own templates)."""
    arguments = _arguments(world)
    paths: list[str] = []
    unknown: list[str] = []
    with translation.override(language):
        for name in dict.fromkeys(_names(get_resolver().url_patterns)):
            if name in NOT_PAGES:
                continue
            try:
                path = reverse(name, kwargs=arguments.get(name))
            except NoReverseMatch:
                if not name.startswith("admin:"):
                    unknown.append(name)
                continue
            paths.append(path)
    assert not unknown, f"Add the arguments of these URL patterns to tests/pages.py: {unknown}"
    return list(dict.fromkeys(paths))
