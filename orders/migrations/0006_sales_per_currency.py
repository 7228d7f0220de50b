"""
The sales aggregates per currency: a shop that changed its currency keeps its
old orders in theirs, and a day's figures must not add up two currencies.
Existing rows were all in the shop's currency (nothing else could be sold yet).
"""

from django.db import migrations, models

# Plain SQL, so the rolling migration replays it in each shop: the shop's schema is the
# first on the search path. The template and spare schemas have no rows to fill.
FILL = """
UPDATE {table} SET currency = (
    SELECT shop.currency FROM public.tenants_shop AS shop WHERE shop.schema_name = current_schema()
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_payment_settings_order_expires_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailysales",
            name="currency",
            field=models.CharField(
                default="", help_text="The currency the orders counted were placed in.", max_length=3
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dailyproductsales",
            name="currency",
            field=models.CharField(
                default="", help_text="The currency the orders counted were placed in.", max_length=3
            ),
            preserve_default=False,
        ),
        migrations.RunSQL(FILL.format(table="orders_dailysales"), migrations.RunSQL.noop),
        migrations.RunSQL(FILL.format(table="orders_dailyproductsales"), migrations.RunSQL.noop),
        migrations.AlterField(model_name="dailysales", name="date", field=models.DateField()),
        migrations.AlterModelOptions(
            name="dailysales",
            options={"ordering": ["date", "currency"], "verbose_name_plural": "daily sales"},
        ),
        migrations.AlterModelOptions(
            name="dailyproductsales",
            options={"ordering": ["date", "currency", "product_id"], "verbose_name_plural": "daily product sales"},
        ),
        migrations.AddConstraint(
            model_name="dailysales",
            constraint=models.UniqueConstraint(
                fields=("date", "currency"), name="orders_dailysales_date_currency_key"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="dailyproductsales", name="orders_dailyproductsales_date_product_id_key"
        ),
        migrations.AddConstraint(
            model_name="dailyproductsales",
            constraint=models.UniqueConstraint(
                fields=("date", "currency", "product_id"),
                name="orders_dailyproductsales_date_currency_product_id_key",
            ),
        ),
    ]
