"""The overdue list reads a page of a site's waiting referrals / open tasks straight off an index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="casetask",
            index=models.Index(
                condition=models.Q(("done_at__isnull", True)),
                fields=["site", "due_on", "id"],
                name="task_site_open_due_idx",
            ),
        ),
    ]
