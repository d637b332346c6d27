import pytest
from django.test import Client

from ventanilla.areas.models import AdministrativeArea
from ventanilla.testing.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "/en/admin/areas/administrativearea/"


@pytest.fixture
def admin_client_signed_in():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def tapachula():
    chiapas = AreaFactory(pcode="MX07", level=1, name="Chiapas", country_pcode="MX")
    return AreaFactory(pcode="MX07089", level=2, name="Tapachula", parent=chiapas, country_pcode="MX")


def test_admin_lists_searches_and_filters_areas(admin_client_signed_in, tapachula):
    # when searching by name and filtering by level
    by_name = admin_client_signed_in.get(ADMIN, {"q": "Tapa"})
    by_level = admin_client_signed_in.get(ADMIN, {"level__exact": 1})
    # then
    assert by_name.status_code == 200
    assert [area.pcode for area in by_name.context["cl"].result_list] == ["MX07089"]
    assert [area.pcode for area in by_level.context["cl"].result_list] == ["MX07"]


def test_admin_cannot_add_or_delete_areas_nor_change_the_hierarchy(admin_client_signed_in, tapachula):
    # when trying to add, delete, or move an area to another parent
    add = admin_client_signed_in.get(f"{ADMIN}add/")
    delete = admin_client_signed_in.get(f"{ADMIN}{tapachula.pk}/delete/")
    change = admin_client_signed_in.post(
        f"{ADMIN}{tapachula.pk}/change/",
        {"name": "Tapachula de Córdova y Ordóñez", "names": '{"es": "Tapachula"}', "pcode": "XX", "level": 0},
    )
    # then adding and deleting are refused, and only the names change
    assert (add.status_code, delete.status_code, change.status_code) == (403, 403, 302)
    tapachula.refresh_from_db()
    assert (tapachula.pcode, tapachula.level, tapachula.parent.pcode) == ("MX07089", 2, "MX07")
    assert (tapachula.name, tapachula.names) == ("Tapachula de Córdova y Ordóñez", {"es": "Tapachula"})
    assert AdministrativeArea.objects.count() == 2
