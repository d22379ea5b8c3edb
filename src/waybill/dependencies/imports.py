"""SBOM import (a Waybill extension): a CycloneDX (1.4-1.6) or SPDX (2.2, 2.3) JSON document becomes
a dependency snapshot, so tools that only emit SBOMs can feed the graph.

The documents are parsed with the formats' own libraries (cyclonedx-python-lib, spdx-tools). Packages
are the components/packages carrying a package URL; the document's root (CycloneDX
``metadata.component``, SPDX packages the document ``DESCRIBES``) is the project itself, and what it
depends on is ``direct``. GitHub's own SBOM export (``{"sbom": {...}}``) is accepted as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import msgspec

from waybill.core import clock
from waybill.core.errors import BadRequest, FieldError, ValidationFailed
from waybill.dependencies import purls
from waybill.dependencies.schemas import Manifest, Relationship, Resolved, Scope, Snapshot

RESOURCE = "SbomImport"
DETECTOR_NAME = "waybill-sbom-import"
# No public page describes the importer; a URN names it without pointing anywhere.
DETECTOR_URL = "urn:waybill:sbom-import"
CYCLONEDX_VERSIONS = ("1.4", "1.5", "1.6")
SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
_SHA = re.compile(r"^.{40,64}$")


def _invalid(field: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed([FieldError(RESOURCE, field, "invalid", message, value)])


@dataclass(frozen=True)
class Options:
    sha: str | None = None
    ref: str | None = None
    correlator: str | None = None
    manifest: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Options:
        return cls(
            sha=query.get("sha") or None,
            ref=query.get("ref") or None,
            correlator=query.get("correlator") or None,
            manifest=query.get("manifest") or None,
        )

    def merged(self, body: Mapping[str, Any]) -> Options:
        """Options given beside the document in a wrapping body; the query wins."""
        values = {}
        for name in ("sha", "ref", "correlator", "manifest"):
            given = body.get(name)
            if given is not None and not isinstance(given, str):
                raise _invalid(name, f"{name} must be a string", given)
            values[name] = getattr(self, name) or given
        return Options(**values)


@dataclass(frozen=True)
class Parsed:
    """A document turned into a snapshot, short of the ref when none was given (the repository's
    default branch, known only inside the transaction)."""

    base: Snapshot
    ref_given: bool

    def snapshot(self, default_branch: str) -> Snapshot:
        return self.base if self.ref_given else replace(self.base, ref=f"refs/heads/{default_branch}")


def parse(raw: bytes, options: Options) -> Parsed:
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise BadRequest("Problems parsing JSON") from None
    if not isinstance(document, dict):
        raise _invalid("body", "the body must be a CycloneDX or SPDX JSON document")
    if "sbom" in document and "bomFormat" not in document and "spdxVersion" not in document:
        options = options.merged(document)
        document = document["sbom"]
        if not isinstance(document, dict):
            raise _invalid("sbom", "sbom must be a CycloneDX or SPDX JSON document")
    if options.sha is None:
        raise ValidationFailed([FieldError(RESOURCE, "sha", "missing_field", "sha is missing")])
    if not _SHA.match(options.sha):
        raise _invalid("sha", "sha must be 40 to 64 characters long", options.sha)
    if options.ref is not None and not options.ref.startswith("refs/"):
        raise _invalid("ref", "ref must match the pattern ^refs/", options.ref)
    if document.get("bomFormat") == "CycloneDX":
        name, scanned, tool, manifest = _cyclonedx(document)
    elif "spdxVersion" in document:
        name, scanned, tool, manifest = _spdx(document)
    else:
        raise _invalid("body", "not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document")
    manifest_name = options.manifest or name
    snapshot = Snapshot(
        version=0,
        job_id=f"sbom-import-{clock.now().strftime('%Y%m%dT%H%M%SZ')}",
        correlator=options.correlator or f"{DETECTOR_NAME}:{manifest_name}",
        job_html_url=None,
        sha=options.sha,
        ref=options.ref or "",
        detector_name=DETECTOR_NAME,
        detector_version=tool,
        detector_url=DETECTOR_URL,
        metadata=None,
        scanned=_aware(scanned) if scanned is not None else clock.now(),
        manifests=[replace(manifest, key=manifest_name, name=manifest_name)],
    )
    return Parsed(snapshot, options.ref is not None)


def _aware(value: datetime) -> datetime:
    # SPDX's ``created`` is UTC by definition ("...Z"), yet parsers may hand it back naive.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _package(raw: str, field: str) -> purls.Package:
    try:
        return purls.parse(raw)
    except purls.InvalidPurl as exc:
        raise _invalid(field, f"{field} is not a valid package URL: {exc}", raw) from None


def _manifest(
    packages: dict[str, tuple[str, purls.Package, Scope | None]],
    edges: dict[str, list[str]],
    roots: set[str],
) -> Manifest:
    """``packages``: element id to (key, package, scope); ``edges``: element id to the ids it
    depends on; ``roots``: the ids of the project itself."""
    direct = {child for root in roots for child in edges.get(root, ())}
    known_structure = bool(roots) and any(root in edges for root in roots)
    resolved = []
    seen: set[str] = set()
    for element, (key, package, scope) in packages.items():
        if element in roots or package.purl in seen:
            continue
        seen.add(package.purl)
        relationship = None
        if known_structure:
            relationship = Relationship.DIRECT if element in direct else Relationship.INDIRECT
        children = []
        for child in edges.get(element, ()):
            target = packages.get(child)
            if target is not None and child not in roots and target[1].purl not in children:
                children.append(target[1].purl)
        resolved.append(Resolved(key, package, relationship, scope, None, tuple(children)))
    return Manifest(key="", name="", source_location=None, metadata=None, resolved=resolved)


# The format libraries are imported when a document arrives: they are slow to import, and most
# servers never import an SBOM.


def _cyclonedx(document: dict[str, Any]) -> tuple[str, datetime | None, str, Manifest]:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import ComponentScope

    version = document.get("specVersion")
    if version not in CYCLONEDX_VERSIONS:
        raise _invalid("specVersion", f"CycloneDX {', '.join(CYCLONEDX_VERSIONS)} are supported", version)
    try:
        bom = Bom.from_json(document)  # type: ignore[attr-defined]
    except Exception as exc:
        raise _invalid("body", f"not a valid CycloneDX document: {exc}") from None
    scopes = {ComponentScope.REQUIRED: Scope.RUNTIME, ComponentScope.OPTIONAL: Scope.DEVELOPMENT}
    packages: dict[str, tuple[str, purls.Package, Scope | None]] = {}
    for component in bom._get_all_components():
        if component.purl is None:
            continue
        ref = str(component.bom_ref.value or component.purl)
        package = _package(str(component.purl), f"components.{ref}.purl")
        packages[ref] = (component.name, package, scopes.get(component.scope) if component.scope else None)
    edges = {
        str(dep.ref.value): [str(target.ref.value) for target in dep.dependencies] for dep in bom.dependencies
    }
    root = bom.metadata.component
    roots = {str(root.bom_ref.value)} if root is not None and root.bom_ref.value else set()
    name = root.name if root is not None else "sbom.cdx.json"
    return name, bom.metadata.timestamp, f"CycloneDX-{version}", _manifest(packages, edges, roots)


def _spdx(document: dict[str, Any]) -> tuple[str, datetime | None, str, Manifest]:
    from spdx_tools.spdx.model.relationship import RelationshipType
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

    version = document.get("spdxVersion")
    if version not in SPDX_VERSIONS:
        raise _invalid("spdxVersion", f"{' and '.join(SPDX_VERSIONS)} are supported", version)
    try:
        parsed = JsonLikeDictParser().parse(document)  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        problems = "; ".join(exc.get_messages())  # type: ignore[no-untyped-call]
        raise _invalid("body", f"not a valid SPDX document: {problems[:1000]}") from None
    packages: dict[str, tuple[str, purls.Package, Scope | None]] = {}
    for element in parsed.packages:
        for ref in element.external_references:
            if ref.reference_type == "purl":
                field = f"packages.{element.spdx_id}.externalRefs"
                packages[element.spdx_id] = (element.name, _package(ref.locator, field), None)
                break
    edges: dict[str, list[str]] = {}
    roots: set[str] = set()
    development: set[str] = set()
    runtime: set[str] = set()
    for rel in parsed.relationships:
        source, kind, target = rel.spdx_element_id, rel.relationship_type, str(rel.related_spdx_element_id)
        if kind is RelationshipType.DESCRIBES and source == "SPDXRef-DOCUMENT":
            roots.add(target)
        elif kind is RelationshipType.DESCRIBED_BY and target == "SPDXRef-DOCUMENT":
            roots.add(source)
        elif kind is RelationshipType.DEPENDS_ON:
            edges.setdefault(source, []).append(target)
        elif kind in (
            RelationshipType.DEPENDENCY_OF,
            RelationshipType.RUNTIME_DEPENDENCY_OF,
            RelationshipType.DEV_DEPENDENCY_OF,
            RelationshipType.BUILD_DEPENDENCY_OF,
            RelationshipType.TEST_DEPENDENCY_OF,
            RelationshipType.OPTIONAL_DEPENDENCY_OF,
            RelationshipType.PROVIDED_DEPENDENCY_OF,
        ):
            edges.setdefault(target, []).append(source)
            if kind is RelationshipType.RUNTIME_DEPENDENCY_OF:
                runtime.add(source)
            elif kind is not RelationshipType.DEPENDENCY_OF:
                development.add(source)
    for spdx_id, (key, package, _) in list(packages.items()):
        scope = Scope.RUNTIME if spdx_id in runtime else Scope.DEVELOPMENT if spdx_id in development else None
        packages[spdx_id] = (key, package, scope)
    info = parsed.creation_info
    return info.name, info.created, version, _manifest(packages, edges, roots)
