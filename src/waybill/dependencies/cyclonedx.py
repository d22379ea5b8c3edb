"""CycloneDX JSON (1.4-1.6) to the graph, from a decoded document or streamed from a file.

Both ways go through ``Collector``, which takes the document's parts one object at a time: the
metadata, each component (with its nested components) and each dependency entry. Only what the graph
needs is read and checked (names, package URLs, bom-refs, scopes, dependency refs, the timestamp);
hashes, licences and the other fields are skipped unread, so a malformed licence does not refuse an
import that stores no licence.

The streamed reader makes a few passes over a seekable file with ijson's C parser, each building one
component or dependency entry at a time: a 256 MB document never exists in memory as objects, only
the packages and edges taken from it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
import msgspec

from waybill.core.errors import BadRequest
from waybill.dependencies.sbom_graph import Element, Read, invalid, manifest, package
from waybill.dependencies.schemas import Scope

VERSIONS = ("1.4", "1.5", "1.6")
# The manifest's name when the document names no root component.
DEFAULT_NAME = "sbom.cdx.json"
_SCOPES = {"required": Scope.RUNTIME, "optional": Scope.DEVELOPMENT, "excluded": None}
# Bytes per read from the file: large enough that the per-call overhead vanishes, small enough to
# report progress smoothly.
_CHUNK = 1 << 20

# Called with a phase ("components", "dependencies", "metadata"), the bytes read so far in it and the
# file's size.
Progress = Callable[[str, int, int], None]


class Collector:
    """The parts of one CycloneDX document, in document order; the metadata may come at any time."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.packages: dict[str, Element] = {}
        self.edges: dict[str, list[str]] = {}
        self.roots: set[str] = set()
        self.name = DEFAULT_NAME
        self.scanned: datetime | None = None
        self.components = 0
        self.edge_count = 0

    def metadata(self, value: Any) -> None:
        if value is None:
            return
        meta = _object(value, "metadata")
        timestamp = meta.get("timestamp")
        if timestamp is not None:
            self.scanned = _timestamp(timestamp)
        root = meta.get("component")
        if root is None:
            return
        root = _object(root, "metadata.component")
        # The root first, as a package like any other: it is left out of the manifest only when a
        # bom-ref names it as the root.
        self.component(root, "metadata.component", at_root=True)
        self.name = root["name"]
        ref = root.get("bom-ref")
        if ref:
            self.roots.add(ref)

    def component(self, value: Any, field: str, *, at_root: bool = False) -> None:
        component = _object(value, field)
        ref = component.get("bom-ref")
        if ref is not None and not isinstance(ref, str):
            raise invalid(f"{field}.bom-ref", "bom-ref must be a string", ref)
        if not at_root and ref:
            field = f"components.{ref}"
        name = component.get("name")
        if not isinstance(name, str) or not name:
            raise invalid(f"{field}.name", f"{field}.name is missing", name)
        # The root is the project, not one of its components.
        self.components += 0 if at_root else 1
        raw_purl = component.get("purl")
        if raw_purl is not None:
            if not isinstance(raw_purl, str):
                raise invalid(f"{field}.purl", f"{field}.purl must be a string", raw_purl)
            element = ref or raw_purl
            pkg = package(raw_purl, f"components.{element}.purl")
            scope_name = component.get("scope")
            if scope_name is not None and (not isinstance(scope_name, str) or scope_name not in _SCOPES):
                message = f"{field}.scope must be one of {', '.join(_SCOPES)}"
                raise invalid(f"{field}.scope", message, scope_name)
            self.packages[element] = (name, pkg, _SCOPES[scope_name] if scope_name else None)
        nested = component.get("components")
        if nested is not None:
            if not isinstance(nested, list):
                raise invalid(f"{field}.components", f"{field}.components must be an array")
            for index, child in enumerate(nested):
                self.component(child, f"{field}.components[{index}]")

    def dependency(self, value: Any, field: str) -> None:
        entry = _object(value, field)
        ref = entry.get("ref")
        if not isinstance(ref, str):
            raise invalid(f"{field}.ref", f"{field}.ref must be a string", ref)
        targets = entry.get("dependsOn") or []
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise invalid(f"{field}.dependsOn", f"{field}.dependsOn must be an array of bom-refs")
        # Two entries for one ref: it depends on what either names.
        self.edges.setdefault(ref, []).extend(targets)
        self.edge_count += len(targets)

    def read(self) -> Read:
        return Read(
            name=self.name,
            scanned=self.scanned,
            tool=f"CycloneDX-{self.version}",
            manifest=manifest(self.packages, self.edges, self.roots),
            elements=self.components,
            edges=self.edge_count,
        )


def check_version(version: Any) -> str:
    if version not in VERSIONS:
        raise invalid("specVersion", f"CycloneDX {', '.join(VERSIONS)} are supported", version)
    return str(version)


def from_document(document: dict[str, Any]) -> Read:
    """A decoded document, already known to be CycloneDX."""
    collector = Collector(check_version(document.get("specVersion")))
    collector.metadata(document.get("metadata"))
    for index, component in enumerate(_array(document.get("components"), "components")):
        collector.component(component, f"components[{index}]")
    for index, entry in enumerate(_array(document.get("dependencies"), "dependencies")):
        collector.dependency(entry, f"dependencies[{index}]")
    return collector.read()


# Streamed.


@dataclass(frozen=True)
class Head:
    """What the top level of a document says before its large arrays are read."""

    kind: str  # "cyclonedx", "other" (SPDX or a wrapping body: read whole) or "unknown"
    version: Any = None
    metadata: Any = None


def head(file: IO[bytes]) -> Head:
    """Scan the top level of the document for its format, version and metadata. Real documents put
    these before ``components``, so the scan stops after a few hundred bytes; one that does not is
    scanned on (its arrays skipped without being built) until they are found."""
    file.seek(0)
    found: dict[str, Any] = {}
    events = ijson.parse(file, buf_size=64 * 1024, use_float=True)
    try:
        _, event, _ = next(events)
        if event != "start_map":
            return Head("unknown")
        for prefix, event, value in events:
            if prefix == "" and event == "end_map":
                break
            if event != "map_key":
                continue
            if value in ("spdxVersion", "sbom"):
                return Head("other")
            if value in ("bomFormat", "specVersion", "metadata"):
                found[value] = _build(events)
            else:
                _skip(events)
            if found.get("bomFormat") not in (None, "CycloneDX"):
                return Head("unknown")
            if len(found) == 3:
                break
    except ijson.JSONError:
        raise BadRequest("Problems parsing JSON") from None
    if found.get("bomFormat") != "CycloneDX":
        return Head("unknown")
    return Head("cyclonedx", found.get("specVersion"), found.get("metadata"))


def stream(file: IO[bytes], top: Head, progress: Progress | None = None) -> Read:
    """The components and dependencies of the CycloneDX document in ``file``, one pass for each."""
    collector = Collector(check_version(top.version))
    collector.metadata(top.metadata)
    size = _size(file)
    try:
        for index, component in enumerate(_items(file, "components.item", "components", size, progress)):
            collector.component(component, f"components[{index}]")
        for index, entry in enumerate(_items(file, "dependencies.item", "dependencies", size, progress)):
            collector.dependency(entry, f"dependencies[{index}]")
    except ijson.JSONError:
        raise BadRequest("Problems parsing JSON") from None
    return collector.read()


def _items(file: IO[bytes], prefix: str, phase: str, size: int, progress: Progress | None) -> Iterator[Any]:
    file.seek(0)
    source: Any = file if progress is None else _Counting(file, phase, size, progress)
    yield from ijson.items(source, prefix, buf_size=_CHUNK, use_float=True)
    if progress is not None:
        progress(phase, size, size)


class _Counting:
    """The file, reporting the bytes read through it (ijson needs only ``read``)."""

    def __init__(self, file: IO[bytes], phase: str, size: int, progress: Progress) -> None:
        self.file, self.phase, self.size, self.progress = file, phase, size, progress
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(size)
        self.done += len(chunk)
        self.progress(self.phase, self.done, self.size)
        return chunk


def _size(file: IO[bytes]) -> int:
    position = file.tell()
    end = file.seek(0, io.SEEK_END)
    file.seek(position)
    return end


def _build(events: Iterator[tuple[str, str, Any]]) -> Any:
    """The value whose first event is next in ``events``, built."""
    builder = ijson.ObjectBuilder()
    depth = 0
    for _, event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:
            break
    return builder.value


def _skip(events: Iterator[tuple[str, str, Any]]) -> None:
    depth = 0
    for _, event, _ in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if depth == 0:
            return


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(field, f"{field} must be an object")
    return value


def _array(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(field, f"{field} must be an array")
    return value


def _timestamp(value: Any) -> datetime:
    try:
        parsed = msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        raise invalid("metadata.timestamp", "metadata.timestamp must be a date-time", value) from None
    # A timestamp without an offset is taken as UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
