"""Key rotation: re-encrypt stored tokens column by column, in short transactions.

Raw SQL on purpose: the ORM would decrypt and re-encrypt through the field, and a row-by-row `save()`
would also rewrite every other column. Each batch commits on its own, so a stopped rotation resumes
where it stopped (old keys still decrypt what was not yet rotated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction

from ventanilla.core import crypto
from ventanilla.core.fields import encrypted_fields


@dataclass(frozen=True)
class Column:
    model: type[models.Model]
    field: models.Field

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    def count(self) -> int:
        table = connection.ops.quote_name(self.model._meta.db_table)
        column = connection.ops.quote_name(self.field.column)
        with connection.cursor() as cursor:
            # Raw SQL: the encrypted field refuses '=' lookups, and blank values are not rotated.
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''")  # noqa: S608
            return int(cursor.fetchone()[0])


def encrypted_columns() -> list[Column]:
    return [
        Column(model, field)
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
        for field in encrypted_fields(model)
    ]


def rotate_column(
    column: Column, *, batch_size: int = 500, progress: Callable[[int], object] | None = None
) -> int:
    table = connection.ops.quote_name(column.model._meta.db_table)
    pk = connection.ops.quote_name(column.model._meta.pk.column)
    col = connection.ops.quote_name(column.field.column)
    last = None
    rotated = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            where = f"{col} IS NOT NULL AND {col} <> ''" + (f" AND {pk} > %s" if last is not None else "")
            cursor.execute(
                f"SELECT {pk}, {col} FROM {table} WHERE {where} ORDER BY {pk} LIMIT %s",  # noqa: S608
                [*([last] if last is not None else []), batch_size],
            )
            rows = cursor.fetchall()
            if not rows:
                return rotated
            for row_pk, token in rows:
                cursor.execute(
                    f"UPDATE {table} SET {col} = %s WHERE {pk} = %s",  # noqa: S608
                    [crypto.rotate(token), row_pk],
                )
            last = rows[-1][0]
            rotated += len(rows)
        if progress is not None:
            progress(len(rows))
