"""
`rows_insert()`: Django's `bulk_create()` for the hot writes, without its cost.

On the checkout path each `create()` or `bulk_create()` cost several times the
statement itself in CPU (object preparation, the SQL compiler, the
returning-fields machinery), and a checkout writes six tables: a large share of
the request (the figures are in the README's benchmark section).
`rows_insert()` does what `bulk_create()` does for plain rows: each value comes
from its field (`pre_save()` for `auto_now`, then `get_db_prep_save()`, as the
ORM does), one INSERT writes all the rows, and a database-generated id is set on
each object. The statement's text is built once
per model and row count. Like `bulk_create()`, it sends no signals and calls no
`save()`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import AutoField, BigAutoField, Field, Model, SmallAutoField

M = TypeVar("M", bound=Model)
_GENERATED_IDS = (AutoField, BigAutoField, SmallAutoField)


@functools.cache
def _columns(model: type[Model]) -> tuple[tuple[Field[Any, Any], ...], bool]:
    """The fields an INSERT writes, and whether the database makes the id."""
    pk = model._meta.pk
    generated = isinstance(pk, _GENERATED_IDS)
    fields = tuple(field for field in model._meta.concrete_fields if not (generated and field is pk))
    return fields, generated


@functools.lru_cache(maxsize=256)
def _statement(model: type[Model], rows: int) -> str:
    fields, generated = _columns(model)
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = f" RETURNING {quote(model._meta.pk.column)}" if generated else ""
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * rows)}{returning}"
    )


def rows_insert(objs: Sequence[M]) -> list[M]:
    """Insert unsaved objects of one model in one statement, in the caller's transaction; return them."""
    if not objs:
        return []
    model = type(objs[0])
    fields, generated = _columns(model)
    params: list[Any] = []
    for obj in objs:
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    with connection.cursor() as cursor:
        cursor.execute(_statement(model, len(objs)), params)
        if generated:
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)
