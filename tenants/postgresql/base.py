from typing import Any

from django.db.backends.postgresql import base
from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgreSQLSchemaEditor
from django.db.backends.utils import truncate_name

# The name PostgreSQL gives an unnamed column CHECK constraint, so a column added
# by a migration looks the same as one created with its table.
_CHECK_NAME = "{table}_{column}_check"
_MAX_NAME = 63


class DatabaseSchemaEditor(PostgreSQLSchemaEditor):
    def add_field(self, model: Any, field: Any) -> None:
        """
        Add a column with its CHECK constraint named. Django writes `ADD COLUMN
        ... CHECK (...)` unnamed (a PositiveIntegerField's); Citus refuses that
        on a distributed table, as it must name each constraint on every node.
        """
        if not field.db_parameters(connection=self.connection)["check"]:
            super().add_field(model, field)
            return
        # Too long a name is cut, with a hash of the whole, as Django cuts its own.
        name = truncate_name(_CHECK_NAME.format(table=model._meta.db_table, column=field.column), _MAX_NAME)
        unnamed = self.sql_check_constraint
        self.sql_check_constraint = f"CONSTRAINT {self.quote_name(name)} {unnamed}"
        try:
            super().add_field(model, field)
        finally:
            self.sql_check_constraint = unnamed


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
