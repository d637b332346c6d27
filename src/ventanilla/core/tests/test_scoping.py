from ventanilla.accounts.models import Membership, Organisation, Site


def test_each_user_sees_only_their_organisation(world):
    # given a caseworker of organisation A
    user = world.user("a", "caseworker")
    # when listing organisations and sites through the scoping layer
    organisations = list(Organisation.objects.visible_to(user))
    sites = set(Site.objects.visible_to(user))
    # then only A and A's sites are visible
    assert organisations == [world.a.organisation]
    assert sites == set(world.a.sites)


def test_outsider_and_anonymous_see_nothing(world):
    assert not Organisation.objects.visible_to(world.outsider).exists()
    assert not Site.objects.visible_to(None).exists()


def test_memberships_visible_to_administrator_of_own_organisation_only(world):
    admin = world.user("a", "administrator")
    visible = Membership.objects.visible_to(admin)
    assert visible.count() == len(world.a.users)
    assert not visible.filter(organisation=world.b.organisation).exists()
