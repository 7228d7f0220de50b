import django.db.models.fields.json
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without blocking the outbox's writers (every checkout inserts into it).
    atomic = False

    dependencies = [
        ("outbox", "0002_claims"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboxevent",
            index=models.Index(
                django.db.models.fields.json.KeyTextTransform("expires_at", "payload"),
                condition=models.Q(("type", "order.created")),
                name="outbox_order_expiry_idx",
            ),
        ),
    ]
