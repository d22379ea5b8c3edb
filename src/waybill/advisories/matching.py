"""Is a package version affected by an advisory? OSV's evaluation rules, each ecosystem's own version
ordering (``univers``), and an index by (ecosystem, normalised package name) so that matching one
dependency only ever looks at the advisories of its own package.

Never a false alert: an unknown ecosystem, an unparsable dependency version or a range whose bounds
cannot be parsed all count as "not affected" (a range is dropped whole, since keeping ``introduced: 0``
without its ``fixed`` would claim every version).
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from univers import versions as uv

from waybill.advisories.ecosystems import VERSION_CLASS, Ecosystem, normalise_name, parse
from waybill.advisories.types import AffectedPackage

# Range types whose events are versions; GIT ranges name commits, which a version cannot be compared to.
VERSION_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")


class Kind(IntEnum):
    INTRODUCED = 0
    FIXED = 1
    LAST_AFFECTED = 2


_PARSED: dict[type[uv.Version], dict[str, uv.Version | None]] = {}
_PARSED_MAX = 262_144


def parse_version(cls: type[uv.Version], text: str) -> uv.Version | None:
    """``text`` under ``cls``'s rules, or None; remembered, since one version string recurs a lot."""
    cache = _PARSED.setdefault(cls, {})
    try:
        return cache[text]
    except KeyError:
        pass
    try:
        parsed: uv.Version | None = cls(text.strip())
    except Exception:  # univers raises InvalidVersion, ValueError, TypeError... depending on the scheme
        parsed = None
    if len(cache) >= _PARSED_MAX:
        cache.clear()
    cache[text] = parsed
    return parsed


def _range_class(ecosystem: Ecosystem, range_type: str) -> type[uv.Version]:
    cls = VERSION_CLASS[ecosystem]
    if range_type == "SEMVER" and cls not in (uv.SemverVersion, uv.GolangVersion):
        return uv.SemverVersion
    return cls


INFINITY = 1 << 62


def _events(
    cls: type[uv.Version], events: Sequence[dict[str, str]]
) -> list[tuple[Kind | None, uv.Version | None]] | None:
    """Parsed events (``None`` kind: a limit; ``None`` version: OSV's "0"), or None when a bound
    cannot be parsed: the whole range is then dropped."""
    out: list[tuple[Kind | None, uv.Version | None]] = []
    for event in events:
        for key, text in event.items():
            if key not in _KINDS:
                continue
            kind = _KINDS[key]
            if kind is Kind.INTRODUCED and text.strip() == "0":
                out.append((kind, None))
                continue
            version = parse_version(cls, text)
            if version is None:
                return None
            out.append((kind, version))
    return out if any(kind is not None for kind, _ in out) else None


_KINDS: dict[str, Kind | None] = {
    "introduced": Kind.INTRODUCED,
    "fixed": Kind.FIXED,
    "last_affected": Kind.LAST_AFFECTED,
    "limit": None,
}


class _Group:
    """The ranges of one package that share a version scheme, compiled together.

    Every bound of every range, sorted and deduplicated, cuts the versions into slots: slot ``2i+1``
    is exactly bound ``i``, slot ``2i+2`` lies between bounds ``i`` and ``i+1``, slot 0 before them
    all. Each range becomes intervals of slots, so testing a version is one binary search among the
    bounds and then integer comparisons, whatever the number of advisories."""

    __slots__ = ("bounds", "intervals", "memo")

    def __init__(self, ranges: list[tuple[int, list[tuple[Kind | None, uv.Version | None]]]]) -> None:
        distinct = sorted({v for _, events in ranges for _, v in events if v is not None})
        bounds: list[uv.Version] = []
        for version in distinct:
            if not bounds or bounds[-1] != version:  # 1.0 and 1.0.0 are one PEP 440 version
                bounds.append(version)
        self.bounds = bounds
        self.intervals: list[tuple[int, int, int]] = []
        for advisory, events in ranges:
            self.intervals.extend((advisory, lo, hi) for lo, hi in self._slots(events))
        self.memo: dict[int, tuple[int, ...]] = {}

    def _position(self, version: uv.Version) -> int:
        return bisect_left(self.bounds, version)

    def _slots(self, events: list[tuple[Kind | None, uv.Version | None]]) -> list[tuple[int, int]]:
        marks: list[tuple[int, int]] = []  # (slot, 0 = ends here, 1 = starts here)
        cap = INFINITY
        for kind, version in events:
            at = 0 if version is None else 2 * self._position(version) + 1
            if kind is None:
                cap = min(cap, at)
            elif kind is Kind.INTRODUCED:
                marks.append((at, 1))
            elif kind is Kind.FIXED:
                marks.append((at, 0))
            else:  # last_affected: the bound itself is still affected
                marks.append((at + 1, 0))
        # At one slot an end sorts before a start: "fixed 2.0, introduced 2.0" leaves 2.0 affected.
        marks.sort()
        out: list[tuple[int, int]] = []
        since: int | None = None
        for slot, starts in marks:
            if starts and since is None:
                since = slot
            elif not starts and since is not None:
                if slot > since:
                    out.append((since, slot))
                since = None
        if since is not None:
            out.append((since, INFINITY))
        return [(lo, min(hi, cap)) for lo, hi in out if lo < cap]

    def affected(self, version: uv.Version) -> tuple[int, ...]:
        i = self._position(version)
        slot = 2 * i + 1 if i < len(self.bounds) and self.bounds[i] == version else 2 * i
        found = self.memo.get(slot)
        if found is None:
            found = self.memo[slot] = tuple(sorted({a for a, lo, hi in self.intervals if lo <= slot < hi}))
        return found


class Bucket:
    """Every advisory of one package; compiled on first use, so an index builds in one pass."""

    __slots__ = ("advisories", "cls", "compiled", "groups", "listed", "listed_parsed", "sources")

    def __init__(self, cls: type[uv.Version]) -> None:
        self.cls = cls
        self.sources: list[tuple[str, Ecosystem, list[dict[str, Any]], list[str]]] = []
        self.compiled = False
        self.advisories: list[str] = []
        self.groups: list[tuple[type[uv.Version], _Group]] = []
        self.listed: dict[str, set[int]] = {}
        self.listed_parsed: dict[uv.Version, set[int]] = {}

    def _compile(self) -> None:
        self.listed, self.listed_parsed = {}, {}
        numbers: dict[str, int] = {}
        by_class: dict[type[uv.Version], list[tuple[int, list[tuple[Kind | None, uv.Version | None]]]]] = {}
        for advisory, ecosystem, ranges, versions in self.sources:
            number = numbers.setdefault(advisory, len(numbers))
            for r in ranges:
                if r.get("type") not in VERSION_RANGE_TYPES:
                    continue
                cls = _range_class(ecosystem, r["type"])
                events = _events(cls, r.get("events", []))
                if events is not None:
                    by_class.setdefault(cls, []).append((number, events))
            for text in versions:
                self.listed.setdefault(text.strip(), set()).add(number)
                parsed = parse_version(self.cls, text)
                if parsed is not None:
                    self.listed_parsed.setdefault(parsed, set()).add(number)
        self.advisories = list(numbers)
        self.groups = [(cls, _Group(ranges)) for cls, ranges in by_class.items()]
        self.compiled = True

    def affected(self, version: str) -> list[str]:
        if not self.compiled:
            self._compile()
        found: set[int] = set(self.listed.get(version, ()))
        parsed = parse_version(self.cls, version)
        if parsed is not None:
            found.update(self.listed_parsed.get(parsed, ()))
        for cls, group in self.groups:
            candidate = parsed if cls is self.cls else parse_version(cls, version)
            if candidate is not None:
                found.update(group.affected(candidate))
        return [self.advisories[n] for n in sorted(found)]


@dataclass
class MatchIndex:
    """Advisories' affected packages, by (ecosystem, normalised package name)."""

    packages: dict[tuple[Ecosystem, str], Bucket] = field(default_factory=dict)
    size: int = 0

    def add(
        self,
        advisory: str,
        ecosystem: Ecosystem,
        name: str,
        ranges: Iterable[dict[str, Any]],
        versions: Iterable[str],
    ) -> None:
        key = (ecosystem, normalise_name(ecosystem, name))
        bucket = self.packages.get(key)
        if bucket is None:
            bucket = self.packages[key] = Bucket(VERSION_CLASS[ecosystem])
        bucket.sources.append((advisory, ecosystem, list(ranges), list(versions)))
        bucket.compiled = False
        self.size += 1

    def __len__(self) -> int:
        return self.size

    def bucket(self, ecosystem: str, name: str) -> Bucket | None:
        parsed = parse(ecosystem)
        if parsed is None:
            return None
        return self.packages.get((parsed, normalise_name(parsed, name)))

    def affected(self, ecosystem: str, name: str, version: str) -> list[str]:
        """Identifiers of the advisories affecting ``name`` at ``version``, each once, in the order
        they were added."""
        bucket = self.bucket(ecosystem, name)
        return [] if bucket is None else bucket.affected(version)

    def affected_batch(self, items: Iterable[tuple[str, str, str]]) -> list[list[str]]:
        """``affected`` for many (ecosystem, name, version) at once, in the same order."""
        return [self.affected(ecosystem, name, version) for ecosystem, name, version in items]


def _segments(
    ecosystem: Ecosystem, ranges: Iterable[dict[str, Any]]
) -> list[tuple[dict[str, Any], str, str | None]]:
    """Each introduced-to-end stretch of OSV ranges as a range of its own, with GitHub's text for it."""
    out: list[tuple[dict[str, Any], str, str | None]] = []
    for r in ranges:
        if r.get("type") not in VERSION_RANGE_TYPES:
            continue
        cls = _range_class(ecosystem, r["type"])
        flat = [(k, v) for event in r.get("events", []) for k, v in event.items() if k != "limit"]

        def order(item: tuple[str, str], cls: type[uv.Version] = cls) -> tuple[int, Any]:
            key, text = item
            if key == "introduced" and text == "0":
                return (0, 0)
            return (1, parse_version(cls, text))

        with contextlib.suppress(TypeError):  # an unparsable bound: keep the document's order
            flat.sort(key=order)
        start: str | None = None
        open_range = False
        for key, text in flat:
            if key == "introduced":
                start, open_range = (None if text == "0" else text), True
                continue
            lower = f">= {start}, " if start else ""
            events = [{"introduced": start or "0"}, {key: text}]
            if key == "fixed":
                out.append(({"type": r["type"], "events": events}, f"{lower}< {text}", text))
            else:
                out.append(({"type": r["type"], "events": events}, f"{lower}<= {text}", None))
            start, open_range = None, False
        if open_range:
            events = [{"introduced": start or "0"}]
            out.append(({"type": r["type"], "events": events}, f">= {start}" if start else ">= 0", None))
    return out


def describe(ecosystem: Ecosystem, ranges: Iterable[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """GitHub's (``vulnerable_version_range``, ``first_patched_version``) pairs for OSV ranges,
    e.g. ``(">= 1.0, < 1.2.3", "1.2.3")``, ``("<= 2.0", None)``."""
    return [(text, patched) for _, text, patched in _segments(ecosystem, ranges)]


class RangeFinder:
    """Which stretch of one package's ranges a version falls in: each stretch compiled once, for
    finding the ranges of many versions."""

    __slots__ = ("listed", "segments")

    def __init__(
        self, ecosystem: Ecosystem, ranges: Iterable[dict[str, Any]], versions: Sequence[str]
    ) -> None:
        self.segments: list[tuple[Bucket, str, str | None]] = []
        for segment, text, patched in _segments(ecosystem, ranges):
            bucket = Bucket(VERSION_CLASS[ecosystem])
            bucket.sources.append(("", ecosystem, [segment], []))
            self.segments.append((bucket, text, patched))
        self.listed = Bucket(VERSION_CLASS[ecosystem])
        self.listed.sources.append(("", ecosystem, [], list(versions)))

    def find(self, version: str) -> tuple[str, str | None] | None:
        for bucket, text, patched in self.segments:
            if bucket.affected(version):
                return text, patched
        if self.listed.affected(version):
            return f"= {version}", None
        return None


def matched_range(
    ecosystem: Ecosystem, ranges: Iterable[dict[str, Any]], versions: Sequence[str], version: str
) -> tuple[str, str | None] | None:
    """The (``vulnerable_version_range``, ``first_patched_version``) of the stretch of the ranges
    that ``version`` falls in; ``= version`` for a version the explicit list names; None when the
    version is not affected."""
    return RangeFinder(ecosystem, ranges, versions).find(version)


@dataclass
class AdvisoryIndex:
    """Live alerting advisories of some packages, ready to match versions against."""

    matcher: MatchIndex = field(default_factory=MatchIndex)
    advisory_ids: dict[str, int] = field(default_factory=dict)
    # (advisory id, ecosystem, package key) -> the (name, ranges, versions) of its affected entries.
    entries: dict[tuple[int, str, str], list[tuple[str, list[dict[str, Any]], list[str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _finders: dict[tuple[int, str, str], list[RangeFinder]] = field(default_factory=dict)
    _ranges: dict[tuple[int, str, str, str], tuple[str, str | None] | None] = field(default_factory=dict)

    @classmethod
    def of_rows(cls, rows: Iterable[AffectedPackage]) -> AdvisoryIndex:
        index = cls()
        for row in rows:
            index.matcher.add(row.ghsa_id, row.ecosystem, row.package_name, row.ranges, row.versions)
            index.advisory_ids[row.ghsa_id] = row.advisory_id
            index.entries[(row.advisory_id, row.ecosystem, row.package_key)].append(
                (row.package_name, row.ranges, row.versions)
            )
        return index

    def affected(self, eco: Ecosystem, name: str, version: str) -> list[int]:
        return [self.advisory_ids[g] for g in self.matcher.affected(eco.value, name, version)]

    def range_of(self, advisory_id: int, eco: Ecosystem, key: str, version: str) -> tuple[str, str | None]:
        """The advisory's range that the version falls in (GitHub's text and first patched version)."""
        memo = (advisory_id, eco.value, key, version)
        if memo not in self._ranges:
            package = (advisory_id, eco.value, key)
            finders = self._finders.get(package)
            if finders is None:
                finders = self._finders[package] = [
                    RangeFinder(eco, ranges, versions)
                    for _, ranges, versions in self.entries.get(package, [])
                ]
            self._ranges[memo] = next((r for f in finders if (r := f.find(version)) is not None), None)
        return self._ranges[memo] or (f"= {version}", None)
