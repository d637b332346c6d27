"""The data migration that moves translations to the "outdated once a newer source is published" rule."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from ventanilla.hub import services
from ventanilla.hub.models import ContentTranslation

pytestmark = pytest.mark.django_db

migration = importlib.import_module("ventanilla.hub.migrations.0003_outdated_from_published_source")


def test_forwards_fills_the_published_source_revision_and_recomputes_outdated(
    make_item, publish_text, author
):
    # given rows as the old rule left them: English published at revision 1, then edited as a draft
    # (revision 2), which flagged the published Spanish and the unpublished French outdated at once
    item = make_item("asylum")
    publish_text(item, "en", title="Asylum")
    publish_text(item, "es", title="Asilo")
    services.save_translation(item, language="fr", by=author, title="Asile")
    services.save_translation(item, language="en", by=author, title="Asylum 2")
    ContentTranslation.objects.filter(item=item).exclude(language="en").update(
        is_outdated=True, published_source_revision=None
    )
    # and an item whose source was published after its translations were made from revision 1
    other = make_item("work")
    publish_text(other, "en", title="Work")
    publish_text(other, "es", title="Trabajo")
    publish_text(other, "en", title="Work 2")
    ContentTranslation.objects.filter(item=other).update(published_source_revision=None, is_outdated=False)
    # when the data migration runs
    migration.forwards(apps, None)
    # then only translations behind the *published* source are outdated, and the published words
    # remember which source revision they came from
    rows = {
        (t.item.key, t.language): (t.is_outdated, t.published_source_revision)
        for t in ContentTranslation.objects.select_related("item")
    }
    assert rows == {
        ("asylum", "en"): (False, None),
        ("asylum", "es"): (False, 1),
        ("asylum", "fr"): (False, None),
        ("work", "en"): (False, None),
        ("work", "es"): (True, 1),
    }
    assert services.public_text(other, "es").is_outdated is True
    assert services.public_text(item, "es").is_outdated is False
    # and it can be reversed
    migration.backwards(apps, None)
    assert set(ContentTranslation.objects.values_list("published_source_revision", flat=True)) == {None}
