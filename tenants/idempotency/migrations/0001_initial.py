# IdempotencyRecord moves from the `tenants` app (public only) to this app, in both
# SHARED_APPS and TENANT_APPS: the public table stays as it is (the platform host's records),
# each shop gets its own (a shop's POST then writes nothing in public), and a shop's records
# still within their 24 hours move from public into it, so a retry after the deploy replays.
from django.db import migrations, models

from tenants.schemas import current_schema, public_rows_move, table_here


def records_here(apps, schema_editor) -> None:
    if current_schema() == "public":
        return  # the table is tenants' 0001's
    model = apps.get_model("idempotency", "IdempotencyRecord")
    table_here(model, schema_editor)
    public_rows_move(model, current_schema())


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tenants", "0006_shop_directory_profile"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("schema_name", models.CharField(max_length=63)),
                        ("principal", models.CharField(max_length=80)),
                        ("key", models.CharField(max_length=255)),
                        ("method", models.CharField(max_length=8)),
                        ("path", models.CharField(max_length=2000)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("status_code", models.PositiveSmallIntegerField()),
                        ("response_body", models.BinaryField(null=True)),
                        ("response_content_type", models.CharField(blank=True, max_length=100)),
                        ("response_headers", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "tenants_idempotencyrecord",
                        "indexes": [models.Index(fields=["created_at"], name="idempotency_created_idx")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("schema_name", "principal", "key"), name="idempotency_scope_key_unique"
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(records_here, migrations.RunPython.noop, elidable=False),
    ]
