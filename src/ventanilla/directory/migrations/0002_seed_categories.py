"""The service categories every directory starts with (codes; labels are translated in code)."""

from django.db import migrations

CODES = [
    "medical", "mhpss", "shelter", "food", "nfi", "wash", "legal", "documentation", "family_tracing",
    "consular", "child_protection", "gbv", "counter_trafficking", "avr", "employment", "education",
    "cash", "transport", "information",
]


def seed(apps, schema_editor):
    category = apps.get_model("directory", "ServiceCategory")
    for position, code in enumerate(CODES):
        category.objects.update_or_create(code=code, defaults={"position": position})


def unseed(apps, schema_editor):
    apps.get_model("directory", "ServiceCategory").objects.filter(code__in=CODES).delete()


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
