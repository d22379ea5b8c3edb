"""What an imported SBOM becomes, whatever its format: one manifest built from the document's elements
(packages by element id), its dependency edges and its roots (the project itself), and the 422 errors
naming the field at fault. Shared by the SPDX and CycloneDX readers, whole or streamed."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from waybill.core.errors import FieldError, ValidationFailed
from waybill.dependencies import purls
from waybill.dependencies.schemas import Manifest, Relationship, Resolved, Scope

RESOURCE = "SbomImport"

# An element of the document that is a package: (key in the manifest, package, scope).
Element = tuple[str, purls.Package, Scope | None]


@dataclass(frozen=True)
class Read:
    """A document read: its root's name, when it was made, by which format and version, the manifest,
    and how many elements (packages or components, with or without a package URL) and edges it held."""

    name: str
    scanned: datetime | None
    tool: str
    manifest: Manifest
    elements: int
    edges: int


_paused = 0
_pause_lock = threading.Lock()


@contextmanager
def collection_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a large document is read and written. Reading one of
    250,000 components keeps millions of small objects alive, and each full collection walks them
    all: measured, it made the read 2.4 times slower (26.7 s against 11.2 s). Nothing an import
    builds is cyclic, so reference counting frees it all the same; cycles made elsewhere meanwhile
    wait until the last of the concurrent imports ends."""
    global _paused
    with _pause_lock:
        # Off already, and not by an import: leave it as it is.
        owned = _paused > 0 or gc.isenabled()
        if owned:
            _paused += 1
            gc.disable()
    try:
        yield
    finally:
        if owned:
            with _pause_lock:
                _paused -= 1
                if _paused == 0:
                    gc.enable()


def invalid(field: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed([FieldError(RESOURCE, field, "invalid", message, value)])


def package(raw: str, field: str) -> purls.Package:
    try:
        return purls.parse(raw)
    except purls.InvalidPurl as exc:
        raise invalid(field, f"{field} is not a valid package URL: {exc}", raw) from None


def manifest(packages: dict[str, Element], edges: dict[str, list[str]], roots: set[str]) -> Manifest:
    """``packages``: element id to element; ``edges``: element id to the ids it depends on;
    ``roots``: the ids of the project itself. The first element with a package URL keeps it."""
    direct = {child for root in roots for child in edges.get(root, ())}
    known_structure = bool(roots) and any(root in edges for root in roots)
    resolved = []
    seen: set[str] = set()
    for element, (key, pkg, scope) in packages.items():
        if element in roots or pkg.purl in seen:
            continue
        seen.add(pkg.purl)
        relationship = None
        if known_structure:
            relationship = Relationship.DIRECT if element in direct else Relationship.INDIRECT
        children: list[str] = []
        for child in edges.get(element, ()):
            target = packages.get(child)
            if target is not None and child not in roots and target[1].purl not in children:
                children.append(target[1].purl)
        resolved.append(Resolved(key, pkg, relationship, scope, None, tuple(children)))
    return Manifest(key="", name="", source_location=None, metadata=None, resolved=resolved)
