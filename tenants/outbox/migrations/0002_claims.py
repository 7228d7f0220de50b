# The outbox dispatches per shop in batches: claims, and the per-shop pending index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="outboxevent",
            name="outbox_pending_idx",
        ),
        migrations.AddField(
            model_name="outboxevent",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="outboxevent",
            index=models.Index(
                condition=models.Q(("dispatched_at__isnull", True)),
                fields=["schema_name", "created_at"],
                name="outbox_shop_pending_idx",
            ),
        ),
    ]
