"""Operations that several apps' migrations share."""

from __future__ import annotations

from django.db import migrations
from django.db.migrations.operations.base import Operation


def drop_own_indexes(
    state_operations: list[Operation], indexes: list[tuple[str, str, str]]
) -> migrations.SeparateDatabaseAndState:
    """Foreign keys that lose their one-column index (`state_operations`: their
    `AlterField`s to `db_index=False`): the database loses only those `indexes` (name,
    table, column), by SQL, put back on reversal. An `AlterField` would make SQLite rebuild
    the table, and with it drop its triggers (the search index's on `cases_case`)."""
    return migrations.SeparateDatabaseAndState(
        state_operations=state_operations,
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{name}"',
                reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
            )
            for name, table, column in indexes
        ],
    )
