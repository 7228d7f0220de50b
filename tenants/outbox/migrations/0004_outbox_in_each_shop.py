# Each shop's events move into its own schema: a shop's write touches nothing in public, so on
# Citus its transaction stays on the shop's node. Shops migrated before the app was a tenant
# app recorded 0001-0003 without a table; this gives them one (a new schema has it from 0001)
# and moves the shop's rows, pending or not, out of the public outbox (never losing an event;
# what a transaction begun before this commits to public afterwards, the relay moves).
from django.db import migrations

from tenants.outbox.services import PUBLIC_SCHEMA, leftovers_move
from tenants.schemas import current_schema, table_here


def outbox_here(apps, schema_editor) -> None:
    schema = current_schema()
    if schema == PUBLIC_SCHEMA:
        return
    model = apps.get_model("outbox", "OutboxEvent")
    table_here(model, schema_editor)
    leftovers_move(schema=schema, model=model)


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0003_order_expiry_index"),
    ]

    operations = [
        migrations.RunPython(outbox_here, migrations.RunPython.noop, elidable=False),
    ]
