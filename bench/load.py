"""Bulk-loading fixtures straight into the database (COPY on PostgreSQL, executemany on SQLite), row
values converted by each column's own SQLAlchemy type, so the loader follows the domain's tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from bench.backends import Backend

_DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.pysqlite.dialect(),
    "postgresql": postgresql.psycopg.dialect(),  # type: ignore[no-untyped-call]
}


def _processors(table: Table, columns: list[str], dialect: Dialect) -> list[Callable[[Any], Any]]:
    result = []
    for name in columns:
        processor = table.c[name].type.bind_processor(dialect)
        result.append(processor or (lambda v: v))
    return result


def _is_json(table: Table, column: str) -> bool:
    kind = table.c[column].type
    return isinstance(kind, JSON) or isinstance(getattr(kind, "impl", None), JSON)


def _json_text(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    return convert


def load(
    backend: Backend,
    table: Table,
    count: int,
    row: Callable[[int], Mapping[str, Any]],
    *,
    start: int = 0,
) -> int:
    """Insert rows ``row(start) .. row(start + count - 1)``; each gives every column it sets."""
    if count <= 0:
        return 0
    columns = list(row(start).keys())
    dialect = _DIALECTS[backend.name]
    processors = _processors(table, columns, dialect)
    if backend.name == "postgresql":
        # COPY takes JSON as its text; psycopg's own Jsonb wrapper is applied only by execute().
        processors = [
            _json_text(p) if _is_json(table, c) else p for p, c in zip(processors, columns, strict=True)
        ]

    def rows() -> Iterator[list[Any]]:
        # A value that is the very object of the previous row (a timestamp, a constant JSON) is
        # converted once: most columns of a fixture are such constants.
        last: list[Any] = [object()] * len(columns)
        converted: list[Any] = [None] * len(columns)
        pairs = list(enumerate(zip(processors, columns, strict=True)))
        for i in range(start, start + count):
            values = row(i)
            out = []
            for k, (processor, column) in pairs:
                value = values[column]
                if value is not last[k]:
                    last[k], converted[k] = value, processor(value)
                out.append(converted[k])
            yield out

    loaded = backend.bulk_insert(table.name, columns, rows())
    if backend.name == "postgresql" and "id" in columns:
        # Rows came with their own ids: move the sequence past them.
        backend.execute(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
        )
    return loaded


def max_id(backend: Backend, table: str) -> int:
    value: int = backend.scalar(f"SELECT coalesce(max(id), 0) FROM {table}")
    return value
