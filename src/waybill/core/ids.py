"""GitHub-style global node ids, derived from the integer id so that nothing extra is stored."""

from __future__ import annotations

import base64


def node_id(type_name: str, id_: int) -> str:
    # GitHub's legacy global id: base64 of "<len(type)>:<Type><id>" with a zero-padded length.
    return base64.b64encode(f"{len(type_name):02d}:{type_name}{id_}".encode()).decode()


# The database's BIGINT: ids beyond it name nothing.
MAX_ID = 2**63 - 1


def parse_id(raw: str) -> int | None:
    """An id written in a path: ASCII digits within BIGINT range, else None. (``str.isdigit``
    alone admits digits such as "²" that ``int`` refuses.)"""
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= MAX_ID else None
