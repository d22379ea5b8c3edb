"""Rows become a domain's values by field name, with the fields that need a type converted."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import literal, null, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.harness import Harness
from waybill.core.rows import values_of


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Paint:
    id: int
    colour: Colour
    shade: Colour | None
    note: str | None = None


async def _row(api: Harness, **columns: Any) -> Any:
    async def run(conn: AsyncConnection) -> Any:
        labelled = [(null() if v is None else literal(v)).label(k) for k, v in columns.items()]
        return (await conn.execute(select(*labelled))).one()

    return await api.tx(run)


async def test_columns_become_fields_and_named_ones_their_type(api: Harness) -> None:
    paint = values_of(Paint, colour=Colour, shade=Colour)
    got = paint(await _row(api, id=7, colour="red", shade=None))
    assert got == Paint(7, Colour.RED, None)
    assert type(got.colour) is Colour
    with_note = paint(await _row(api, id=8, colour="red", shade="red", note="matte"))
    assert with_note == Paint(8, Colour.RED, Colour.RED, "matte")


async def test_a_missing_column_is_an_error_not_a_none(api: Harness) -> None:
    with pytest.raises(KeyError):
        values_of(Paint)(await _row(api, id=7, colour="red"))


def test_converting_a_field_the_value_does_not_have_is_refused() -> None:
    with pytest.raises(TypeError, match="colur"):
        values_of(Paint, colur=Colour)


async def test_a_prefix_reads_a_value_beside_another_in_a_join(api: Harness) -> None:
    joined = values_of(Paint, prefix="paint__", colour=Colour, shade=Colour)
    row = await _row(api, id=1, paint__id=9, paint__colour="red", paint__shade=None)
    assert joined(row) == Paint(9, Colour.RED, None)
