"""Request shapes of the dependency graph (the ``snapshot`` schema, exactly), parsed at the edge into
a ``Snapshot`` whose package URLs are already parsed and whose dependency references are resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType

from waybill.core.errors import FieldError, ValidationFailed
from waybill.dependencies import purls
from waybill.dependencies.purls import Package
from waybill.http.body import decode, field_error

RESOURCE = "Snapshot"

Scalar = str | int | float | bool | None
# The ``metadata`` schema: at most 8 keys, scalar values.
Metadata = Annotated[dict[str, Scalar], Meta(max_length=8)]


class Relationship(StrEnum):
    DIRECT = "direct"
    INDIRECT = "indirect"


class Scope(StrEnum):
    RUNTIME = "runtime"
    DEVELOPMENT = "development"


class JobBody(Struct, forbid_unknown_fields=True):
    id: str
    correlator: str
    html_url: str | UnsetType = UNSET


class DetectorBody(Struct, forbid_unknown_fields=True):
    name: str
    version: str
    url: str


class FileBody(Struct, forbid_unknown_fields=True):
    source_location: str | UnsetType = UNSET


class DependencyBody(Struct, forbid_unknown_fields=True):
    # The schema's pattern (^pkg) is checked with the package URL itself, so the error can name
    # the manifest and key (msgspec paths do not name map keys).
    package_url: str | UnsetType = UNSET
    metadata: Metadata | UnsetType = UNSET
    # Decoded into the enums by msgspec itself (the same errors as literals would give).
    relationship: Relationship | UnsetType = UNSET
    scope: Scope | UnsetType = UNSET
    dependencies: list[str] | UnsetType = UNSET


class ManifestBody(Struct, forbid_unknown_fields=True):
    name: str
    file: FileBody | UnsetType = UNSET
    metadata: Metadata | UnsetType = UNSET
    resolved: dict[str, DependencyBody] | UnsetType = UNSET


class _ManifestShallow(Struct, forbid_unknown_fields=True):
    name: str
    file: FileBody | UnsetType = UNSET
    metadata: Metadata | UnsetType = UNSET
    resolved: dict[str, Raw] | UnsetType = UNSET


class SnapshotBody(Struct, forbid_unknown_fields=True):
    # Stored as INTEGER; the description sets no bounds, the column does.
    version: Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
    job: JobBody
    sha: Annotated[str, Meta(min_length=40, max_length=64)]
    ref: Annotated[str, Meta(pattern="^refs/")]
    detector: DetectorBody
    scanned: Annotated[datetime, Meta(tz=True)]
    metadata: Metadata | UnsetType = UNSET
    # Decoded one manifest at a time, so that an error can name the manifest and key.
    manifests: dict[str, Raw] | UnsetType = UNSET


@dataclass(frozen=True, slots=True)
class Resolved:
    key: str
    package: Package
    relationship: Relationship | None
    scope: Scope | None
    metadata: dict[str, Scalar] | None
    # Canonical package URLs of the packages this one depends on.
    dependencies: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    key: str
    name: str
    source_location: str | None
    metadata: dict[str, Scalar] | None
    resolved: list[Resolved]

    @property
    def path(self) -> str:
        """What GitHub reports as a dependency's ``manifest``: the file's path in the repository."""
        return manifest_path(self.name, self.source_location)


def manifest_path(name: str, source_location: str | None) -> str:
    return source_location.lstrip("/") if source_location else name


@dataclass(frozen=True)
class Snapshot:
    version: int
    job_id: str
    correlator: str
    job_html_url: str | None
    sha: str
    ref: str
    detector_name: str
    detector_version: str
    detector_url: str
    metadata: dict[str, Scalar] | None
    scanned: datetime
    manifests: list[Manifest]

    def packages(self) -> dict[str, Package]:
        """Every package the snapshot names (resolved, and depended on), by canonical package URL."""
        found: dict[str, Package] = {}
        for manifest in self.manifests:
            for entry in manifest.resolved:
                found[entry.package.purl] = entry.package
                for child in entry.dependencies:
                    if child not in found:
                        found[child] = purls.parse(child)
        return found


def _unset(value: Any) -> Any:
    return None if value is UNSET else value


def _at(error: msgspec.ValidationError, prefix: str) -> FieldError:
    """The validation error, its path placed under ``prefix`` (``manifests.<name>...``)."""
    text = str(error)
    if " - at `$" in text:
        text = text.replace(" - at `$", f" - at `$.{prefix}", 1)
    else:
        text = f"{text} - at `$.{prefix}`"
    return field_error(text, RESOURCE)


def _fail(field: str, code: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed([FieldError(RESOURCE, field, code, message, value)])


_manifest_decoder = msgspec.json.Decoder(ManifestBody)
_shallow_decoder = msgspec.json.Decoder(_ManifestShallow)
_dependency_decoder = msgspec.json.Decoder(DependencyBody)


def _decode_manifest(name: str, raw: Raw) -> ManifestBody:
    try:
        return _manifest_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        first = exc
    # Only on failure: find which manifest field or resolved key is wrong, to name it.
    try:
        shallow = _shallow_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([_at(exc, f"manifests.{name}")]) from None
    for key, entry in (shallow.resolved or {}).items():
        try:
            _dependency_decoder.decode(entry)
        except msgspec.ValidationError as exc:
            raise ValidationFailed([_at(exc, f"manifests.{name}.resolved.{key}")]) from None
    raise ValidationFailed([_at(first, f"manifests.{name}")])


def _parse_purl(raw: str, field: str) -> Package:
    if not raw.startswith("pkg"):
        raise _fail(field, "invalid", f"{field} must match the pattern ^pkg", raw)
    try:
        return purls.parse(raw)
    except purls.InvalidPurl as exc:
        raise _fail(field, "invalid", f"{field} is not a valid package URL: {exc}", raw) from None


def _manifest(key: str, body: ManifestBody) -> Manifest:
    entries = body.resolved or {}
    parsed: dict[str, Package] = {}
    # A dependency may be named by its resolved key (as in GitHub's documented example) or by its
    # package URL (as the submission toolkit does).
    by_reference: dict[str, str] = {}
    for name, dep in entries.items():
        if dep.package_url is UNSET:
            continue
        package = _parse_purl(dep.package_url, f"manifests.{key}.resolved.{name}.package_url")
        parsed[name] = package
        by_reference[name] = package.purl
        by_reference.setdefault(dep.package_url, package.purl)
    merged: dict[str, Resolved] = {}
    for name, package in parsed.items():
        dep = entries[name]
        children: list[str] = []
        for index, reference in enumerate(dep.dependencies or ()):
            target = by_reference.get(reference)
            if target is None and reference.startswith("pkg:"):
                field = f"manifests.{key}.resolved.{name}.dependencies[{index}]"
                target = _parse_purl(reference, field).purl
            # A name that is neither a key of this manifest nor a package URL cannot be placed in
            # the graph; GitHub drops such references too rather than refusing the snapshot.
            if target is not None and target != package.purl and target not in children:
                children.append(target)
        entry = Resolved(
            key=name,
            package=package,
            relationship=None if dep.relationship is UNSET else dep.relationship,
            scope=None if dep.scope is UNSET else dep.scope,
            metadata=_unset(dep.metadata),
            dependencies=tuple(children),
        )
        previous = merged.get(package.purl)
        merged[package.purl] = entry if previous is None else _merge(previous, entry)
    file = body.file
    return Manifest(
        key=key,
        name=body.name,
        source_location=None if file is UNSET else _unset(file.source_location),
        metadata=_unset(body.metadata),
        resolved=list(merged.values()),
    )


def _merge(a: Resolved, b: Resolved) -> Resolved:
    """Two keys of one manifest naming the same package: it is as direct and as runtime as either."""
    relationship = (
        Relationship.DIRECT
        if Relationship.DIRECT in (a.relationship, b.relationship)
        else a.relationship or b.relationship
    )
    scope = Scope.RUNTIME if Scope.RUNTIME in (a.scope, b.scope) else a.scope or b.scope
    children = a.dependencies + tuple(c for c in b.dependencies if c not in a.dependencies)
    return Resolved(a.key, a.package, relationship, scope, a.metadata or b.metadata, children)


def parse_snapshot(raw: bytes) -> Snapshot:
    body = decode(raw, SnapshotBody, RESOURCE)
    manifests = [
        _manifest(key, _decode_manifest(key, value)) for key, value in (body.manifests or {}).items()
    ]
    return from_body(body, manifests)


def from_body(body: SnapshotBody, manifests: list[Manifest]) -> Snapshot:
    return Snapshot(
        version=body.version,
        job_id=body.job.id,
        correlator=body.job.correlator,
        job_html_url=_unset(body.job.html_url),
        sha=body.sha,
        ref=body.ref,
        detector_name=body.detector.name,
        detector_version=body.detector.version,
        detector_url=body.detector.url,
        metadata=_unset(body.metadata),
        scanned=body.scanned,
        manifests=manifests,
    )


def snapshot_created(snapshot_id: int, created_at: str, result: str, message: str) -> dict[str, Any]:
    return {"id": snapshot_id, "created_at": created_at, "result": result, "message": message}
