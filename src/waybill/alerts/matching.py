"""Is a package version affected by an advisory? OSV's evaluation rules, each ecosystem's own version
ordering (``univers``), and an index by (ecosystem, normalised package name) so that matching one
dependency only ever looks at the advisories of its own package.

Never a false alert: an unknown ecosystem, an unparsable dependency version or a range whose bounds
cannot be parsed all count as "not affected" (a range is dropped whole, since keeping ``introduced: 0``
without its ``fixed`` would claim every version).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from univers import versions as uv

from waybill.alerts.ecosystems import VERSION_CLASS, Ecosystem, normalise_name, parse

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


@dataclass(frozen=True, slots=True)
class CompiledRange:
    cls: type[uv.Version]
    # Sorted by version; ``None`` is OSV's "0" (before every version) and sorts first.
    events: tuple[tuple[uv.Version | None, Kind], ...]
    limits: tuple[uv.Version, ...]

    def contains(self, version: uv.Version) -> bool:
        for limit in self.limits:
            if version >= limit:
                return False
        affected = False
        for bound, kind in self.events:
            if kind is Kind.INTRODUCED:
                if bound is not None and version < bound:
                    break
                affected = True
            elif kind is Kind.FIXED:
                if version < bound:  # type: ignore[operator]
                    break
                affected = False
            else:
                if version <= bound:  # type: ignore[operator]
                    break
                affected = False
        return affected


def compile_range(
    ecosystem: Ecosystem, range_type: str, events: Sequence[dict[str, str]]
) -> CompiledRange | None:
    cls = _range_class(ecosystem, range_type)
    zero: list[tuple[uv.Version | None, Kind]] = []
    bounded: list[tuple[uv.Version, Kind]] = []
    limits: list[uv.Version] = []
    for event in events:
        for key, text in event.items():
            if key == "introduced" and text.strip() == "0":
                zero.append((None, Kind.INTRODUCED))
                continue
            version = parse_version(cls, text)
            if version is None:
                return None
            if key == "introduced":
                bounded.append((version, Kind.INTRODUCED))
            elif key == "fixed":
                bounded.append((version, Kind.FIXED))
            elif key == "last_affected":
                bounded.append((version, Kind.LAST_AFFECTED))
            elif key == "limit":
                limits.append(version)
    if not zero and not bounded:
        return None
    # At equal versions, the end of a range sorts before a new start (fixed 2.0, introduced 2.0).
    bounded.sort(key=lambda item: (item[0], -item[1]))
    return CompiledRange(cls, (*zero, *bounded), tuple(limits))


@dataclass(frozen=True, slots=True)
class Vulnerable:
    """One affected package of one advisory, ready to test versions against."""

    advisory: str
    ranges: tuple[CompiledRange, ...]
    versions: frozenset[str]
    parsed_versions: frozenset[uv.Version]
    cls: type[uv.Version]

    def affects(self, version: str) -> bool:
        if version in self.versions:
            return True
        parsed = parse_version(self.cls, version)
        if parsed is not None and parsed in self.parsed_versions:
            return True
        for compiled in self.ranges:
            candidate = parsed if compiled.cls is self.cls else parse_version(compiled.cls, version)
            if candidate is not None and compiled.contains(candidate):
                return True
        return False


def compile_package(
    advisory: str, ecosystem: Ecosystem, ranges: Iterable[dict[str, Any]], versions: Iterable[str]
) -> Vulnerable | None:
    cls = VERSION_CLASS[ecosystem]
    compiled = tuple(
        c
        for r in ranges
        if r.get("type") in VERSION_RANGE_TYPES
        and (c := compile_range(ecosystem, r["type"], r.get("events", []))) is not None
    )
    listed = frozenset(v.strip() for v in versions)
    parsed = frozenset(p for v in listed if (p := parse_version(cls, v)) is not None)
    if not compiled and not listed:
        return None
    return Vulnerable(advisory, compiled, listed, parsed, cls)


@dataclass
class MatchIndex:
    """Advisories' affected packages, by (ecosystem, normalised package name)."""

    packages: dict[tuple[Ecosystem, str], list[Vulnerable]] = field(default_factory=dict)

    def add(
        self,
        advisory: str,
        ecosystem: Ecosystem,
        name: str,
        ranges: Iterable[dict[str, Any]],
        versions: Iterable[str],
    ) -> None:
        compiled = compile_package(advisory, ecosystem, ranges, versions)
        if compiled is not None:
            self.packages.setdefault((ecosystem, normalise_name(ecosystem, name)), []).append(compiled)

    def __len__(self) -> int:
        return sum(len(v) for v in self.packages.values())

    def candidates(self, ecosystem: str, name: str) -> list[Vulnerable]:
        parsed = parse(ecosystem)
        if parsed is None:
            return []
        return self.packages.get((parsed, normalise_name(parsed, name)), [])

    def affected(self, ecosystem: str, name: str, version: str) -> list[str]:
        """Identifiers of the advisories affecting ``name`` at ``version``, each once, in index order."""
        found: list[str] = []
        for vulnerable in self.candidates(ecosystem, name):
            if vulnerable.advisory not in found and vulnerable.affects(version):
                found.append(vulnerable.advisory)
        return found

    def affected_batch(self, items: Iterable[tuple[str, str, str]]) -> list[list[str]]:
        """``affected`` for many (ecosystem, name, version) at once, in the same order."""
        return [self.affected(ecosystem, name, version) for ecosystem, name, version in items]


def describe(ecosystem: Ecosystem, ranges: Iterable[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """GitHub's (``vulnerable_version_range``, ``first_patched_version``) pairs for OSV ranges,
    e.g. ``(">= 1.0, < 1.2.3", "1.2.3")``, ``("<= 2.0", None)``."""
    out: list[tuple[str, str | None]] = []
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
            if key == "fixed":
                out.append((f"{lower}< {text}", text))
            else:
                out.append((f"{lower}<= {text}", None))
            start, open_range = None, False
        if open_range:
            out.append((f">= {start}" if start else ">= 0", None))
    return out
