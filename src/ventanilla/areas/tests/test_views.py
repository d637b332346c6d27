import pytest
from django.test import Client

from ventanilla.core.roles import Role
from ventanilla.testing.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL = ["GT", "GT12", "GT1215", "MX", "MX07", "MX07089"]


@pytest.fixture
def areas():
    guatemala = AreaFactory(pcode="GT", level=0, name="Guatemala", names={"es": "Guatemala"})
    san_marcos = AreaFactory(pcode="GT12", level=1, name="San Marcos", parent=guatemala, country_pcode="GT")
    AreaFactory(
        pcode="GT1215",
        level=2,
        name="Malacatan",
        names={"es": "Malacatán"},
        parent=san_marcos,
        country_pcode="GT",
    )
    mexico = AreaFactory(pcode="MX", level=0, name="Mexico", names={"es": "México"})
    chiapas = AreaFactory(pcode="MX07", level=1, name="Chiapas", parent=mexico, country_pcode="MX")
    AreaFactory(pcode="MX07089", level=2, name="Tapachula", parent=chiapas, country_pcode="MX")


def pcodes_on_page(response):
    return [area.pcode for area in response.context["page"]]


def api_pcodes(response):
    return [area["pcode"] for area in response.json()["results"]]


# --- Staff page ----------------------------------------------------------------------------------------


def test_area_page_sends_anonymous_visitors_to_sign_in(areas):
    # when an anonymous visitor opens the page
    response = Client().get("/en/areas/")
    # then they are sent to the sign-in page and come back afterwards
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/?next=/en/areas/"


def test_area_page_lists_areas_for_a_signed_in_user(areas, client_for, django_assert_max_num_queries):
    # given a signed-in user without any role: areas are reference data
    client = client_for(UserFactory())
    # when opening the page, in a bounded number of queries (one of them counts unread notices)
    with django_assert_max_num_queries(9):
        response = client.get("/en/areas/")
    # then every area is listed in P-code order, with the name of its parent
    assert response.status_code == 200
    assert pcodes_on_page(response) == ALL
    assert "Malacatan" in response.content.decode()
    assert "<td>San Marcos</td>" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("Tapa", ["MX07089"]), ("gt12", ["GT12", "GT1215"]), ("mex", ["MX"]), ("nowhere", [])],
)
def test_area_page_searches_by_name_or_pcode_start(areas, client_for, query, expected):
    response = client_for(UserFactory()).get("/en/areas/", {"q": query})
    assert response.status_code == 200
    assert pcodes_on_page(response) == expected


def test_area_page_shows_names_in_the_active_language(areas, client_for):
    # when a Spanish-speaking user opens the page
    response = client_for(UserFactory()).get("/es/areas/")
    # then the COD's Spanish names are shown where it has them
    content = response.content.decode()
    assert "Malacatán" in content
    assert "México" in content


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_area_page_open_to_every_role_of_both_organisations(areas, world, client_for, role):
    for org in ("a", "b"):
        response = client_for(world.user(org, role)).get("/en/areas/")
        assert response.status_code == 200
        assert pcodes_on_page(response) == ALL


# --- API -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/areas/", "/api/v1/areas/MX07089/"])
def test_api_refuses_anonymous_callers(areas, url):
    response = Client().get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_api_lists_areas_for_a_signed_in_user(areas, client_for, django_assert_max_num_queries):
    client = client_for(UserFactory())
    with django_assert_max_num_queries(
        8
    ):  # session, user, count, one page of areas with parents, session save
        response = client.get("/api/v1/areas/")
    assert response.status_code == 200
    assert response.json()["count"] == 6
    assert api_pcodes(response) == ALL


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_api_open_to_every_role_of_both_organisations_and_outsiders(areas, world, client_for, role):
    users = [world.user("a", role), world.user("b", role), world.outsider]
    for user in users:
        response = client_for(user).get("/api/v1/areas/")
        assert response.status_code == 200
        assert api_pcodes(response) == ALL


def test_api_returns_one_area_by_pcode(areas, client_for):
    response = client_for(UserFactory()).get("/api/v1/areas/GT1215/")
    assert response.status_code == 200
    assert response.json() == {
        "pcode": "GT1215",
        "level": 2,
        "name": "Malacatan",
        "names": {"es": "Malacatán"},
        "parent": "GT12",
        "country_pcode": "GT",
    }


def test_api_unknown_pcode_is_404(areas, client_for):
    response = client_for(UserFactory()).get("/api/v1/areas/XX99/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"level": 1}, ["GT12", "MX07"]),
        ({"level": 0}, ["GT", "MX"]),
        ({"parent__pcode": "GT12"}, ["GT1215"]),
        ({"parent__pcode": "MX"}, ["MX07"]),
        ({"country_pcode": "MX", "level": 2}, ["MX07089"]),
    ],
)
def test_api_filters_by_level_parent_and_country(areas, client_for, params, expected):
    response = client_for(UserFactory()).get("/api/v1/areas/", params)
    assert response.status_code == 200
    assert api_pcodes(response) == expected
