"""SBOM import (a Waybill extension): a CycloneDX (1.4-1.6) or SPDX (2.2, 2.3) JSON document becomes
a dependency snapshot, so tools that only emit SBOMs can feed the graph.

Packages are the components/packages carrying a package URL; the document's root (CycloneDX
``metadata.component``, SPDX packages the document ``DESCRIBES``) is the project itself, and what it
depends on is ``direct``. GitHub's own SBOM export (``{"sbom": {...}}``) is accepted as it is.

``read`` takes the document as a file: a CycloneDX document is streamed from it (``cyclonedx``), so
one of hundreds of megabytes is imported in bounded memory; SPDX documents and wrapping bodies are read
whole and parsed with spdx-tools, as ``parse`` does with a body in memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import IO, Any

import msgspec

from waybill.core import clock
from waybill.core.errors import BadRequest, FieldError, ValidationFailed
from waybill.dependencies import cyclonedx
from waybill.dependencies.sbom_graph import (
    RESOURCE,
    Element,
    Read,
    collection_paused,
    invalid,
    manifest,
    package,
)
from waybill.dependencies.schemas import Scope, Snapshot

__all__ = ["RESOURCE", "Options", "Parsed", "parse", "read"]

DETECTOR_NAME = "waybill-sbom-import"
# No public page describes the importer; a URN names it without pointing anywhere.
DETECTOR_URL = "urn:waybill:sbom-import"
SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
_SHA = re.compile(r"^.{40,64}$")


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
                raise invalid(name, f"{name} must be a string", given)
            values[name] = getattr(self, name) or given
        return Options(**values)

    def check(self) -> None:
        if self.sha is None:
            raise ValidationFailed([FieldError(RESOURCE, "sha", "missing_field", "sha is missing")])
        if not _SHA.match(self.sha):
            raise invalid("sha", "sha must be 40 to 64 characters long", self.sha)
        if self.ref is not None and not self.ref.startswith("refs/"):
            raise invalid("ref", "ref must match the pattern ^refs/", self.ref)


@dataclass(frozen=True)
class Parsed:
    """A document turned into a snapshot, short of the ref when none was given (the repository's
    default branch, known only inside the transaction)."""

    base: Snapshot
    ref_given: bool
    # What the document held: components or packages (with or without a package URL) and edges.
    elements: int = 0
    edges: int = 0

    def snapshot(self, default_branch: str) -> Snapshot:
        return self.base if self.ref_given else replace(self.base, ref=f"refs/heads/{default_branch}")


def read(file: IO[bytes], options: Options, progress: cyclonedx.Progress | None = None) -> Parsed:
    """The document in ``file`` (seekable, read from its start): CycloneDX streamed, others whole."""
    with collection_paused():
        top = cyclonedx.head(file)
        if top.kind != "cyclonedx":
            file.seek(0)
            return parse(file.read(), options)
        options.check()
        return _parsed(options, cyclonedx.stream(file, top, progress))


def parse(raw: bytes, options: Options) -> Parsed:
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise BadRequest("Problems parsing JSON") from None
    if not isinstance(document, dict):
        raise invalid("body", "the body must be a CycloneDX or SPDX JSON document")
    if "sbom" in document and "bomFormat" not in document and "spdxVersion" not in document:
        options = options.merged(document)
        document = document["sbom"]
        if not isinstance(document, dict):
            raise invalid("sbom", "sbom must be a CycloneDX or SPDX JSON document")
    options.check()
    if document.get("bomFormat") == "CycloneDX":
        return _parsed(options, cyclonedx.from_document(document))
    if "spdxVersion" in document:
        return _parsed(options, _spdx(document))
    raise invalid("body", "not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document")


def _parsed(options: Options, found: Read) -> Parsed:
    manifest_name = options.manifest or found.name
    snapshot = Snapshot(
        version=0,
        job_id=f"sbom-import-{clock.now().strftime('%Y%m%dT%H%M%SZ')}",
        correlator=options.correlator or f"{DETECTOR_NAME}:{manifest_name}",
        job_html_url=None,
        sha=options.sha or "",
        ref=options.ref or "",
        detector_name=DETECTOR_NAME,
        detector_version=found.tool,
        detector_url=DETECTOR_URL,
        metadata=None,
        scanned=_aware(found.scanned) if found.scanned is not None else clock.now(),
        manifests=[replace(found.manifest, key=manifest_name, name=manifest_name)],
    )
    return Parsed(snapshot, options.ref is not None, found.elements, found.edges)


def _aware(value: datetime) -> datetime:
    # SPDX's ``created`` is UTC by definition ("...Z"), yet parsers may hand it back naive.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# spdx-tools is imported when an SPDX document arrives: it is slow to import, and most servers never
# import an SBOM.


def _spdx(document: dict[str, Any]) -> Read:
    """The library checks the whole document; SPDX documents are read whole."""
    from spdx_tools.spdx.model.relationship import RelationshipType
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser

    version = document.get("spdxVersion")
    if version not in SPDX_VERSIONS:
        raise invalid("spdxVersion", f"{' and '.join(SPDX_VERSIONS)} are supported", version)
    try:
        parsed = JsonLikeDictParser().parse(document)  # type: ignore[no-untyped-call]
    except SPDXParsingError as exc:
        problems = "; ".join(exc.get_messages())  # type: ignore[no-untyped-call]
        raise invalid("body", f"not a valid SPDX document: {problems[:1000]}") from None
    packages: dict[str, Element] = {}
    for element in parsed.packages:
        for ref in element.external_references:
            if ref.reference_type == "purl":
                field = f"packages.{element.spdx_id}.externalRefs"
                packages[element.spdx_id] = (element.name, package(ref.locator, field), None)
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
    for spdx_id, (key, pkg, _) in list(packages.items()):
        scope = Scope.RUNTIME if spdx_id in runtime else Scope.DEVELOPMENT if spdx_id in development else None
        packages[spdx_id] = (key, pkg, scope)
    info = parsed.creation_info
    found = manifest(packages, edges, roots)
    edge_count = sum(len(r.dependencies) for r in found.resolved)
    return Read(info.name, info.created, version, found, len(parsed.packages), edge_count)
