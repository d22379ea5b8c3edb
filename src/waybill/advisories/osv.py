"""OSV documents (https://ossf.github.io/osv-schema/) parsed into typed values at the edge, and the
places they come from: a JSON or YAML file, a directory tree (a checkout of an advisory database such
as GitHub's or PyPA's), or a zip archive (OSV's per-ecosystem exports)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import yaml  # type: ignore[import-untyped]

SUFFIXES = (".json", ".yaml", ".yml")

try:  # the C loader when libyaml is present; the pure-Python one otherwise
    _YamlLoader: Any = yaml.CBaseLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.BaseLoader


class Event(msgspec.Struct, frozen=True, omit_defaults=True):
    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limit: str | None = None


class Range(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    events: list[Event] = []
    repo: str | None = None


class Package(msgspec.Struct, frozen=True, omit_defaults=True):
    ecosystem: str
    name: str
    purl: str | None = None


class Severity(msgspec.Struct, frozen=True):
    type: str
    score: str


class Affected(msgspec.Struct, frozen=True, omit_defaults=True):
    package: Package | None = None
    ranges: list[Range] = []
    versions: list[str] = []
    severity: list[Severity] = []
    ecosystem_specific: dict[str, Any] | None = None
    database_specific: dict[str, Any] | None = None


class Reference(msgspec.Struct, frozen=True):
    type: str
    url: str


class Credit(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    contact: list[str] = []
    type: str | None = None


class Document(msgspec.Struct, frozen=True, omit_defaults=True):
    """One OSV record. Unknown fields are ignored: the schema grows, and old readers must cope."""

    id: str
    modified: datetime
    schema_version: str | None = None
    published: datetime | None = None
    withdrawn: datetime | None = None
    aliases: list[str] = []
    related: list[str] = []
    summary: str | None = None
    details: str | None = None
    severity: list[Severity] = []
    affected: list[Affected] = []
    references: list[Reference] = []
    credits: list[Credit] = []
    database_specific: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        # Some databases omit the zone; OSV timestamps are UTC (RFC 3339 with Z).
        for field in ("modified", "published", "withdrawn"):
            value = getattr(self, field)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, field, value.replace(tzinfo=UTC))


class InvalidDocument(ValueError):
    pass


def _documents(raw: Any) -> list[Any]:
    # OSV's API and some exports put several records in one JSON array.
    return raw if isinstance(raw, list) else [raw]


def parse(data: bytes, name: str) -> list[Document]:
    """The OSV records in one file's bytes; ``name`` (its path) tells JSON from YAML."""
    try:
        # YAML through BaseLoader keeps every scalar a string (``1.10`` stays a version, not 1.1).
        raw = (
            json.loads(data) if name.lower().endswith(".json") else yaml.load(data, Loader=_YamlLoader)  # noqa: S506 (BaseLoader builds no objects)
        )
        return [msgspec.convert(item, Document, strict=False) for item in _documents(raw)]
    except (ValueError, yaml.YAMLError, msgspec.ValidationError) as error:
        raise InvalidDocument(f"{name}: {error}") from None


@dataclass(frozen=True)
class Entry:
    """One file found in a source: its name (for messages) and how to read its bytes."""

    name: str
    archive: Path | None = None
    member: str | None = None

    def read(self) -> bytes:
        if self.archive is None:
            return Path(self.name).read_bytes()
        with zipfile.ZipFile(self.archive) as zf:
            return zf.read(self.member or self.name)


def entries(path: Path) -> list[Entry]:
    """Every OSV file under ``path``, in a stable order; dot-directories (``.git``) are skipped."""
    if path.is_dir():
        found = [
            p
            for p in path.rglob("*")
            if p.suffix.lower() in SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
        return [Entry(str(p)) for p in sorted(found)]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            members = sorted(n for n in zf.namelist() if n.lower().endswith(SUFFIXES) and not n.endswith("/"))
        return [Entry(f"{path}!{m}", archive=path, member=m) for m in members]
    if path.is_file():
        return [Entry(str(path))]
    raise FileNotFoundError(str(path))


def read_zip(path: Path) -> Iterator[tuple[str, bytes]]:
    """Members of an archive with their bytes, opening it once (``Entry.read`` reopens per file)."""
    with zipfile.ZipFile(path) as zf:
        for member in sorted(zf.namelist()):
            if member.lower().endswith(SUFFIXES) and not member.endswith("/"):
                yield f"{path}!{member}", zf.read(member)


def load(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every OSV file under ``path``."""
    if path.is_file() and zipfile.is_zipfile(path):
        yield from read_zip(path)
        return
    for entry in entries(path):
        yield entry.name, entry.read()
