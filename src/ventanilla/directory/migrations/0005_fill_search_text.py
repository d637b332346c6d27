"""Fill the search keys of rows written before they existed, and create the directory's state row."""

from django.db import migrations

from ventanilla.core.text import search_key

BATCH = 1000
SOURCES = {
    "ServiceProvider": ("name",),
    "ServicePoint": ("name", "address"),
    "ServicePointText": ("description",),
}


def fill(apps, schema_editor):
    for model_name, sources in SOURCES.items():
        model = apps.get_model("directory", model_name)
        rows = []
        for row in model.objects.order_by("pk").only("pk", *sources).iterator(chunk_size=BATCH):
            # The same value as SearchTextField.compute(): each field's key, a newline between them.
            row.search_text = "\n".join(search_key(getattr(row, source) or "") for source in sources)
            rows.append(row)
            if len(rows) == BATCH:
                model.objects.bulk_update(rows, ["search_text"])
                rows = []
        if rows:
            model.objects.bulk_update(rows, ["search_text"])
    apps.get_model("directory", "DirectoryState").objects.update_or_create(pk=1, defaults={"version": 1})


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_search_text_and_state")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
