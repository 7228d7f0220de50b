from typing import Any

from django.db.backends.postgresql import base
from django.db.backends.postgresql.schema import DatabaseSchemaEditor as PostgreSQLSchemaEditor

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
        name = _CHECK_NAME.format(table=model._meta.db_table, column=field.column)
        if len(name.encode()) > _MAX_NAME:
            name = self._create_index_name(model._meta.db_table, [field.column], suffix="_check")
        unnamed = self.sql_check_constraint
        self.sql_check_constraint = f"CONSTRAINT {self.quote_name(name)} {unnamed}"
        try:
            super().add_field(model, field)
        finally:
            self.sql_check_constraint = unnamed


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
