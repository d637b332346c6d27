"""The overdue list reads a page of a site's waiting referrals / open tasks straight off an index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("status__in", ["sent", "expired"])),
                fields=["site", "respond_by", "id"],
                name="referral_site_waiting_idx",
            ),
        ),
    ]
