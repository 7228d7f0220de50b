# IdempotencyRecord now belongs to the `idempotency` app (its table, unchanged, too).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0006_shop_directory_profile"),
        ("idempotency", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="IdempotencyRecord")]),
    ]
