"""Rows into a domain's values: a repository turns each row it reads, once, into the dataclass its
callers use, matching the row's columns (or labels) to the dataclass's fields by name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def values_of(cls: type[T], prefix: str = "", **convert: Callable[[Any], Any]) -> Callable[[Any], T]:
    """A converter from rows to ``cls``. Every field without a default must be a column (named
    ``prefix`` and the field's name, for a value read beside another's in a join); one with a
    default is read when the row has it. ``convert`` names the fields whose stored value becomes a
    type of its own (an enum, say); a NULL stays None."""
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields if _required(f))
    optional = tuple(f.name for f in fields if not _required(f))
    missing = set(convert) - {f.name for f in fields}
    if missing:
        raise TypeError(f"{cls.__name__} has no fields {sorted(missing)}")
    converted = tuple(convert.items())

    def make(row: Any) -> T:
        m = row._mapping
        values = {name: m[prefix + name] for name in names}
        for name in optional:
            if prefix + name in m:
                values[name] = m[prefix + name]
        for name, to in converted:
            value = values.get(name)
            if value is not None:
                values[name] = to(value)
        return cls(**values)

    return make


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
