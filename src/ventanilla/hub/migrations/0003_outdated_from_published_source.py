"""Data: fill `published_source_revision` and recompute `is_outdated` under the new rule.

Before, editing the source flagged every translation outdated at once, even while the public still read
the older published source. Now a translation is outdated only when a *published* source revision is
newer than the one it was made from. The published words of an existing translation are taken to come
from its `source_revision` (the only record there is). Reversing clears the new column and leaves the
flags as they are (the old rule cannot be replayed: it depended on the order of past edits).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    ContentTranslation = apps.get_model("hub", "ContentTranslation")
    ContentItem = apps.get_model("hub", "ContentItem")
    for item in ContentItem.objects.only("pk", "source_language").iterator():
        translations = list(ContentTranslation.objects.filter(item_id=item.pk))
        source = next((t for t in translations if t.language == item.source_language), None)
        published_source = source.published_revision if source is not None else None
        for translation in translations:
            if translation.language == item.source_language:
                translation.published_source_revision = None
                translation.is_outdated = False
            else:
                translation.published_source_revision = (
                    translation.source_revision if translation.published_revision is not None else None
                )
                translation.is_outdated = (
                    published_source is not None and translation.source_revision < published_source
                )
        ContentTranslation.objects.bulk_update(
            translations, ["published_source_revision", "is_outdated"], batch_size=500
        )


def backwards(apps, schema_editor):
    apps.get_model("hub", "ContentTranslation").objects.update(published_source_revision=None)


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0002_translation_published_source_revision"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
