"""What an imported SBOM becomes, whatever its format: one manifest built from the document's elements
(packages by element id), its dependency edges and its roots (the project itself), and the 422 errors
naming the field at fault. Shared by the SPDX and CycloneDX readers, whole or streamed."""

from __future__ import annotations

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
