"""GitHub-style global node ids, derived from the integer id so that nothing extra is stored."""

from __future__ import annotations

import base64


def node_id(type_name: str, id_: int) -> str:
    # GitHub's legacy global id: base64 of "<len(type)>:<Type><id>" with a zero-padded length.
    return base64.b64encode(f"{len(type_name):02d}:{type_name}{id_}".encode()).decode()
