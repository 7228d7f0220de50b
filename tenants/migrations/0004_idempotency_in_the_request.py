# Idempotency keys are taken with an advisory lock in the request's own transaction,
# so a record always holds a response: in-flight rows and their lease go.

from django.db import migrations, models


def in_flight_rows_delete(apps, schema_editor):
    apps.get_model("tenants", "IdempotencyRecord").objects.filter(status_code__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_schema_migration_state"),
    ]

    operations = [
        migrations.RunPython(in_flight_rows_delete, migrations.RunPython.noop),
        migrations.RemoveField(model_name="idempotencyrecord", name="locked_until"),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="status_code",
            field=models.PositiveSmallIntegerField(),
        ),
    ]
