"""Property: over random referral networks, a partner reads exactly the active referrals sent to its
organisation — by queryset, by link — and never a person; senders read theirs by site.

Hypothesis draws the network (who has pathways to whom, which referrals go where, how far each one
moves along the lifecycle, which links are revoked); the people and users are made once per class.
"""

from __future__ import annotations

import datetime
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from ventanilla.accounts import services as accounts
from ventanilla.directory.models import PublicationStatus, ServiceProvider
from ventanilla.questionnaires.models import Submission
from ventanilla.referrals import lifecycle, links, services
from ventanilla.referrals.models import Pathway, Referral, ReferralStatus, Via
from ventanilla.registration import services as registration
from ventanilla.registration.models import Person
from ventanilla.testing.factories import SiteFactory, UserFactory
from ventanilla.testing.referrals import CHILD_ANSWERS, categories

ORGS = 3
PEOPLE_PER_ORG = 3
# How far a referral goes: each path is a valid walk through the lifecycle table.
WALKS: list[list[tuple[str, str]]] = [
    [],
    [("accepted", "partner")],
    [("accepted", "partner"), ("in_progress", "partner")],
    [("accepted", "partner"), ("delivered", "partner")],
    [("accepted", "partner"), ("delivered", "partner"), ("closed", "sender")],
    [("declined", "partner")],
    [("withdrawn", "sender")],
    [("expired", "system")],
    [("accepted", "partner"), ("not_delivered", "partner")],
]
REASONS = {"declined": "no_capacity", "withdrawn": "sent_in_error", "not_delivered": "did_not_arrive"}

referral_spec = st.tuples(
    st.integers(0, ORGS - 1),  # sending organisation
    st.integers(0, PEOPLE_PER_ORG - 1),  # which of its people
    st.integers(0, ORGS),  # partner organisation (ORGS = a provider without accounts)
    st.integers(0, len(WALKS) - 1),  # how far it goes
    st.booleans(),  # a link is issued
    st.booleans(),  # and revoked
)


class ReferralIsolation(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.orgs = []
        form = registration.shipped_form()
        for index in range(ORGS):
            organisation = accounts.create_organisation(
                name=f"Org {index}", kind="ngo", short_name=f"O{index}"
            )
            site = SiteFactory(organisation=organisation, name=f"Org {index} site")
            other_site = SiteFactory(organisation=organisation, name=f"Org {index} other site")
            users = {}
            for role, sites in (
                ("caseworker", [site]),
                ("partner_focal_point", []),
                ("site_manager", [other_site]),
            ):
                user = UserFactory(username=f"o{index}_{role}")
                accounts.grant_membership(
                    user=user, organisation=organisation, role=role, sites=sites, by=None
                )
                users[role] = user
            people = [
                registration.register(
                    form,
                    {**CHILD_ANSWERS, "given_name": f"P{index}{n}"},
                    organisation=organisation,
                    site=site,
                    by=users["caseworker"],
                    today=datetime.date(2026, 11, 26),
                ).person
                for n in range(PEOPLE_PER_ORG)
            ]
            cls.orgs.append({"organisation": organisation, "site": site, "users": users, "people": people})

    def pathway(self, sender: int, partner: int) -> Pathway:
        organisation = self.orgs[sender]["organisation"]
        partner_org = self.orgs[partner]["organisation"] if partner < ORGS else None
        provider, _ = ServiceProvider.objects.get_or_create(
            owner=organisation,
            name=f"Partner {partner} of {sender}",
            defaults={"organisation": partner_org, "status": PublicationStatus.PUBLISHED},
        )
        path, created = Pathway.objects.get_or_create(
            organisation=organisation,
            provider=provider,
            defaults={"name": f"{sender}→{partner}", "valid_from": datetime.date(2026, 1, 1)},
        )
        if created:
            path.categories.set(categories("medical"))
        return path

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(referral_spec, min_size=1, max_size=8))
    def test_partners_read_exactly_the_active_referrals_sent_to_them(self, specs):
        # given a random network of referrals, each moved along a valid walk, some with links
        tokens: dict[int, tuple[str, bool]] = {}
        for sender, who, partner, walk, with_link, revoke in specs:
            org = self.orgs[sender]
            caseworker = org["users"]["caseworker"]
            referral = services.create_referral(
                org["people"][who], pathway=self.pathway(sender, partner), category="medical", by=caseworker
            )
            if with_link:
                issued = links.issue(referral, by=caseworker)
                if revoke:
                    links.revoke(issued.link, by=caseworker)
                tokens[referral.pk] = (issued.url.rstrip("/").rsplit("/", 1)[1], revoke)
            for status, side in WALKS[walk]:
                by = None
                if side == "partner":
                    by = self.orgs[partner]["users"]["partner_focal_point"] if partner < ORGS else None
                elif side == "sender":
                    by = caseworker
                via = {"partner": Via.PARTNER, "sender": Via.STAFF, "system": Via.SYSTEM}[side]
                link = None
                if side == "partner" and by is None:  # a partner without accounts answers by link
                    via = Via.LINK
                    link = links.ReferralLink.objects.create(
                        referral=referral,
                        secret_hash=f"walk-{referral.pk}-{status}",
                        expires_at=referral.sent_at + datetime.timedelta(days=1),
                    )
                services.transition(
                    referral, status, by=by, via=via, reason=REASONS.get(status, ""), link=link
                )

        referrals = list(Referral.objects.all())
        # then each partner focal point reads exactly the active referrals to its organisation
        for org in self.orgs:
            partner_user = org["users"]["partner_focal_point"]
            expected = {
                r.pk
                for r in referrals
                if r.partner_organisation_id == org["organisation"].pk
                and r.status in lifecycle.PARTNER_VISIBLE
            }
            assert set(Referral.objects.visible_to(partner_user).values_list("pk", flat=True)) == expected
            # ... and the same set through the API, the inbox page and the detail pages
            references = {r.reference for r in referrals if r.pk in expected}
            self.client.force_login(partner_user)
            listed = self.client.get("/api/v1/referrals/?limit=500").json()["results"]
            assert {row["reference"] for row in listed} == references
            inbox = self.client.get("/en/staff/referrals/inbox/").content.decode()
            assert set(re.findall(r"RF-[A-Z0-9]{4}-[A-Z0-9]{4}", inbox)) == references
            for other in referrals:
                seen = self.client.get(f"/api/v1/referrals/{other.reference}/").status_code
                assert seen == (200 if other.pk in expected else 404)
            assert self.client.get("/en/staff/people/").status_code == 403
            # ... and never a person, a registration or answers
            assert not Person.objects.visible_to(partner_user).exists()
            assert not Submission.objects.visible_to(partner_user).exists()
            # the sending caseworker reads every referral of its site, whatever its status
            sent_here = {r.pk for r in referrals if r.site_id == org["site"].pk}
            caseworker = org["users"]["caseworker"]
            assert set(Referral.objects.visible_to(caseworker).values_list("pk", flat=True)) == sent_here
            # and the manager of the other site reads none of them
            manager = org["users"]["site_manager"]
            assert not Referral.objects.visible_to(manager).filter(pk__in=sent_here).exists()

        # then a link opens exactly while its referral is active and the link was not revoked
        for referral in referrals:
            if referral.pk not in tokens:
                continue
            token, revoked = tokens[referral.pk]
            usable = referral.status in lifecycle.PARTNER_VISIBLE and not revoked
            try:
                links.resolve(token)
                opened = True
            except links.LinkUnusable:
                opened = False
            assert opened == usable, (referral.status, revoked)
            assert ReferralStatus(referral.status)
