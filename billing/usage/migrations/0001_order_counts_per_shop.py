# The month's order count moves into each shop's schema; each shop starts from the counts
# public.billing_usageperiod holds for it (orders counted there by a process still running the
# old code after this ran are not carried over: at most the deploy's few minutes of orders).
from django.db import migrations, models

from tenants.schemas import current_schema


def counts_copy(apps, schema_editor) -> None:
    if current_schema() == "public":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_usage_ordercount (period, orders) "
            "SELECT u.period, u.orders FROM public.billing_usageperiod u "
            "JOIN public.tenants_shop s ON s.id = u.shop_id WHERE s.schema_name = %s "
            "ON CONFLICT (period) DO NOTHING",
            [current_schema()],
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("billing", "0002_seed_plans"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrderCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("period", models.DateField(help_text="First day of the month.", unique=True)),
                ("orders", models.PositiveIntegerField(default=0)),
            ],
            options={
                "ordering": ["-period"],
            },
        ),
        migrations.RunPython(counts_copy, migrations.RunPython.noop, elidable=False),
    ]
