"""The compact published directory (ventanilla.directory.dataset) and its view at /directory.json."""

from __future__ import annotations

import datetime
import gzip
import json

import pytest
from django.test import Client
from django.utils.http import http_date

from ventanilla.directory.dataset import compact_dataset, dataset_etag, dataset_version
from ventanilla.directory.models import PublicationStatus
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory, at_position
from ventanilla.testing.factories import AreaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def points():
    area = AreaFactory(pcode="MX07089", level=2, name="Tapachula")
    provider = ProviderFactory(name="Casa del Migrante")
    clinic = PointFactory(
        provider=provider,
        name="Clínica Esperanza",
        categories=["shelter", "medical"],
        area=area,
        phone="+529621234567",
        languages=",es,en,",
        **at_position(14.90594, -92.26327),
    )
    desk = PointFactory(provider=provider, name="Information desk", categories=["information"])
    PointFactory(
        provider=provider, name="Draft point", status=PublicationStatus.DRAFT, **at_position(15, -92)
    )
    PointFactory(provider=provider, name="Archived point", status=PublicationStatus.ARCHIVED)
    hidden = ProviderFactory(name="Unpublished provider", status=PublicationStatus.DRAFT)
    PointFactory(provider=hidden, name="Point of an unpublished provider", **at_position(15, -92))
    return clinic, desk


def test_compact_dataset_holds_only_published_points_of_published_providers(points):
    # given two published points (one without coordinates), a draft, an archived point and a
    # published point of an unpublished provider
    clinic, desk = points
    # when the dataset is built
    data = compact_dataset()
    # then only the two published points are in it, in the compact shape, coordinates to 4 decimals,
    # categories in the directory's order, and nulls for what is not known
    assert data["v"] == 1
    assert data["points"] == [
        {
            "id": clinic.pk,
            "n": "Clínica Esperanza",
            "lat": 14.9059,
            "lon": -92.2633,
            "c": ["medical", "shelter"],
            "a": "MX07089",
            "p": "+529621234567",
            "l": ["es", "en"],
        },
        {
            "id": desk.pk,
            "n": "Information desk",
            "lat": None,
            "lon": None,
            "c": ["information"],
            "a": None,
            "p": None,
            "l": [],
        },
    ]


def test_compact_dataset_says_when_it_was_generated(points):
    # when the dataset is built
    generated = datetime.datetime.fromisoformat(compact_dataset()["generated"])
    # then its time stamp is an aware date-time of now
    assert generated.tzinfo is not None
    assert abs((datetime.datetime.now(datetime.UTC) - generated).total_seconds()) < 60


@pytest.mark.parametrize("extra", [0, 25])
def test_compact_dataset_takes_two_queries_whatever_its_size(points, extra, django_assert_num_queries):
    # given some more published points, each in two categories
    for _number in range(extra):
        PointFactory(categories=["food", "wash"], **at_position(14.9, -92.2))
    # when the dataset is built, then two queries are made
    with django_assert_num_queries(2):
        data = compact_dataset()
    assert len(data["points"]) == 2 + extra


def test_empty_directory_gives_an_empty_dataset_and_a_stable_etag(db):
    # when nothing is published
    version = dataset_version()
    # then the dataset is empty, nothing was modified, and the tag is the same each time
    assert compact_dataset()["points"] == []
    assert version.last_modified is None
    assert dataset_etag() == version.etag


def test_dataset_etag_takes_one_query_and_is_stable_while_nothing_changes(points, django_assert_num_queries):
    # when the tag is asked for twice
    with django_assert_num_queries(1):
        first = dataset_etag()
    # then it is the same
    assert dataset_etag() == first


def test_dataset_etag_changes_when_a_point_is_edited_unpublished_published_or_deleted(points):
    clinic, _desk = points
    tags = [dataset_etag()]
    # when a point is edited
    clinic.name = "Clínica Esperanza (Centro)"
    clinic.save()
    tags.append(dataset_etag())
    # ... unpublished
    clinic.status = PublicationStatus.DRAFT
    clinic.save()
    tags.append(dataset_etag())
    # ... published again
    clinic.status = PublicationStatus.PUBLISHED
    clinic.save()
    tags.append(dataset_etag())
    # ... its provider is unpublished
    clinic.provider.status = PublicationStatus.DRAFT
    clinic.provider.save()
    tags.append(dataset_etag())
    # then every change gave a new tag
    assert len(set(tags)) == len(tags)


def test_dataset_etag_changes_when_a_published_point_is_deleted(points):
    # given the tag now
    _clinic, desk = points
    before = dataset_etag()
    # when a published point is deleted
    desk.delete()
    # then the tag changed
    assert dataset_etag() != before


# --- The view ---------------------------------------------------------------------------------------------


def test_dataset_view_serves_the_compact_dataset_with_cache_headers(points):
    # when anyone asks for the dataset
    response = Client().get("/directory.json")
    # then it is the compact dataset, cacheable for five minutes by anyone, with its tag and date
    version = dataset_version()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    expected = compact_dataset()
    assert body["points"] == expected["points"]
    assert body["v"] == 1
    assert response["ETag"] == f'W/"{version.etag}"'
    assert response["Last-Modified"] == http_date(int(version.last_modified.timestamp()))
    assert sorted(response["Cache-Control"].split(", ")) == ["max-age=300", "public"]


def test_dataset_view_is_compact_json(points):
    # when the dataset is fetched
    content = Client().get("/directory.json").content.decode()
    # then it has no spaces between items and keeps accents as they are
    assert '"n":"Clínica Esperanza"' in content
    assert ", " not in content


def test_dataset_view_answers_304_when_the_browser_has_the_current_copy(points):
    # given a browser that fetched the dataset
    client = Client()
    etag = client.get("/directory.json")["ETag"]
    # when it asks again with the tag
    response = client.get("/directory.json", HTTP_IF_NONE_MATCH=etag)
    # then it is told its copy is current, with no body, and still may cache it
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "max-age=300" in response["Cache-Control"]


def test_dataset_view_answers_304_to_if_modified_since(points):
    # given the date of the last change
    last_modified = Client().get("/directory.json")["Last-Modified"]
    # when a client asks whether it changed since
    response = Client().get("/directory.json", HTTP_IF_MODIFIED_SINCE=last_modified)
    # then it has not
    assert response.status_code == 304


def test_dataset_view_sends_the_new_dataset_after_a_change(points):
    # given a browser holding the current copy
    client = Client()
    etag = client.get("/directory.json")["ETag"]
    clinic, _desk = points
    # when a point is unpublished and the browser asks with its old tag
    clinic.status = PublicationStatus.DRAFT
    clinic.save()
    response = client.get("/directory.json", HTTP_IF_NONE_MATCH=etag)
    # then it gets the new dataset, without the point
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert [point["n"] for point in response.json()["points"]] == ["Information desk"]


def test_dataset_view_is_compressed_for_browsers_that_accept_it(points):
    # given a directory big enough to gain from compression (Django pads gzip with up to 100 random
    # bytes against BREACH, and sends a tiny answer as it is when padding would make it longer)
    for _number in range(10):
        PointFactory(categories=["food"], **at_position(14.9, -92.2))
    # when a browser that accepts gzip asks
    response = Client().get("/directory.json", HTTP_ACCEPT_ENCODING="gzip")
    # then the answer is compressed, and says that it varies with the encoding
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert len(json.loads(gzip.decompress(response.content))["points"]) == 12


def test_dataset_view_refuses_writes(points):
    # when someone posts to the dataset, then it is not allowed
    assert Client().post("/directory.json").status_code == 405


def test_dataset_view_is_private_for_a_signed_in_user(points, world, client_for):
    # given a signed-in member of staff (whose session cookie may be refreshed on any answer)
    client = client_for(world.user("a", "caseworker"))
    # when they fetch the dataset
    response = client.get("/directory.json")
    # then it is the same dataset, which their browser may keep but no shared cache may
    assert response.status_code == 200
    assert sorted(response["Cache-Control"].split(", ")) == ["max-age=300", "private"]
    assert len(response.json()["points"]) == 2
