"""The matching engine against versions taken from the advisories themselves (real PyPI records)
and against synthetic records for the other ecosystems' version rules."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from univers.versions import PypiVersion

from tests.advisories.osv_docs import osv_document, typed
from waybill.advisories import osv
from waybill.advisories.ecosystems import Ecosystem, normalise_name, parse, purl_package
from waybill.advisories.matching import MatchIndex, describe, parse_version


def _index(*docs: osv.Document) -> MatchIndex:
    index = MatchIndex()
    for doc in docs:
        for affected in doc.affected:
            assert affected.package is not None
            ecosystem = parse(affected.package.ecosystem)
            if ecosystem is None:
                continue
            index.add(
                doc.id,
                ecosystem,
                affected.package.name,
                [msgspec.to_builtins(r) for r in affected.ranges],
                affected.versions,
            )
    return index


@pytest.fixture(scope="module")
def pypa(shared_dir: Path) -> list[osv.Document]:
    root = shared_dir / "advisories" / "pypa-advisory-database"
    return [doc for name, data in osv.load(root) for doc in osv.parse(data, name)]


def test_every_boundary_of_every_real_pypi_advisory(pypa: list[osv.Document]) -> None:
    checked = {"introduced": 0, "fixed": 0, "last_affected": 0, "versions": 0, "below_fixed": 0}
    wrong: list[tuple[str, str, str]] = []
    for doc in pypa:
        for affected in doc.affected:
            assert affected.package is not None
            index = _index(osv.Document(id=doc.id, modified=doc.modified, affected=[affected]))
            name = affected.package.name
            listed = set(affected.versions)
            starts = {e.introduced for r in affected.ranges if r.type == "ECOSYSTEM" for e in r.events}

            def expect(
                kind: str,
                version: str,
                hit: bool,
                name: str = name,
                index: MatchIndex = index,
                doc: osv.Document = doc,
            ) -> None:
                checked[kind] += 1
                if bool(index.affected("PyPI", name, version)) is not hit:
                    wrong.append((doc.id, kind, version))

            for r in affected.ranges:
                if r.type != "ECOSYSTEM":
                    continue
                for event in r.events:
                    if event.introduced and event.introduced != "0":
                        expect("introduced", event.introduced, True)
                    if event.last_affected:
                        expect("last_affected", event.last_affected, True)
                    if event.fixed:
                        # A fixed version may start the next range (or be listed) and stay affected.
                        expect("fixed", event.fixed, event.fixed in starts or event.fixed in listed)
            for version in affected.versions:
                expect("versions", version, True)
            # Just below each fixed version: the last listed version before it in the record's order.
            for r in affected.ranges:
                for event in r.events if r.type == "ECOSYSTEM" else []:
                    fixed = parse_version(PypiVersion, event.fixed or "")
                    if fixed is not None:
                        below = [
                            p for v in affected.versions if (p := parse_version(PypiVersion, v)) is not None
                        ]
                        below = [p for p in below if p < fixed]
                        if below:
                            expect("below_fixed", max(below).string, True)
    assert wrong == []
    assert checked == {
        "introduced": 3009,
        "fixed": 4917,
        "last_affected": 1,
        "versions": 140847,
        "below_fixed": checked["below_fixed"],
    }
    assert checked["below_fixed"] > 4000


def test_just_below_introduced_is_not_affected(pypa: list[osv.Document]) -> None:
    """Single-range records starting at a real version: its PEP 440 dev release comes before it."""
    checked = 0
    for doc in pypa:
        for affected in doc.affected:
            ranges = [r for r in affected.ranges if r.type == "ECOSYSTEM"]
            if len(ranges) != 1 or not ranges[0].events or affected.package is None:
                continue
            first = ranges[0].events[0].introduced
            if not first or first == "0" or len(ranges[0].events) != 2:
                continue
            index = _index(osv.Document(id=doc.id, modified=doc.modified, affected=[affected]))
            assert index.affected("PyPI", affected.package.name, f"{first}.dev0") == [], doc.id
            assert index.affected("PyPI", affected.package.name, first) == [doc.id]
            checked += 1
    assert checked == 209


def test_one_real_record_end_to_end(pypa: list[osv.Document]) -> None:
    """PYSEC-2021-76: aiohttp before 3.7.4 (ranges introduced 0, fixed 3.7.4; versions listed)."""
    index = _index(*[d for d in pypa if d.id == "PYSEC-2021-76"])
    assert index.affected("pypi", "AIOHTTP", "3.7.3") == ["PYSEC-2021-76"]
    assert index.affected("PyPI", "aiohttp", "0.1") == ["PYSEC-2021-76"]
    assert index.affected("pip", "aiohttp", "3.7.4") == []
    assert index.affected("PyPI", "aiohttp", "3.8.0") == []


SYNTHETIC = [
    # (ecosystem, name, events, versions, {version: affected})
    (
        "npm",
        "@Scope/Left-Pad",
        [
            {"introduced": "1.2.0"},
            {"fixed": "1.4.0"},
            {"introduced": "2.0.0-beta.1"},
            {"last_affected": "2.1.0"},
        ],
        ["0.9.9"],
        {
            "1.1.9": False,
            "1.2.0": True,
            "1.3.99": True,
            "1.4.0-rc.1": True,
            "1.4.0": False,
            "2.0.0-alpha": False,
            "2.0.0-beta.1": True,
            "2.1.0": True,
            "2.1.1": False,
            "0.9.9": True,
        },
    ),
    (
        "Maven",
        "org.example:lib",
        [{"introduced": "2.0"}, {"fixed": "2.10.1"}],
        [],
        {
            "1.9": False,
            "2.0": True,
            "2.0.0": True,
            "2.9": True,
            "2.10": True,
            "2.10.1": False,
            "2.10.1-SNAPSHOT": True,
        },
    ),
    (
        "Go",
        "github.com/example/Mod",
        [{"introduced": "0"}, {"fixed": "1.5.2"}],
        [],
        {
            "v1.5.1": True,
            "1.5.1": True,
            "v1.5.2": False,
            "v0.0.0-20200101000000-abcdef123456": True,
            "v1.10.0": False,
        },
    ),
    (
        "RubyGems",
        "Rails",
        [{"introduced": "6.0.0"}, {"fixed": "6.1.7.1"}],
        [],
        {
            "5.2.8": False,
            "6.0.0": True,
            "6.1.7": True,
            "6.1.7.1.pre": True,
            "6.1.7.1": False,
            "6.1.7.2": False,
        },
    ),
    (
        "crates.io",
        "tokio_util",
        [{"introduced": "0.1.0"}, {"last_affected": "0.6.9"}],
        [],
        {"0.0.9": False, "0.1.0": True, "0.6.9": True, "0.6.10": False, "0.7.0": False},
    ),
    (
        "NuGet",
        "Newtonsoft.Json",
        [{"introduced": "0"}, {"fixed": "13.0.1"}],
        [],
        {"12.0.3": True, "13.0.1-beta1": True, "13.0.1": False},
    ),
    (
        "Packagist",
        "Symfony/HTTP-Kernel",
        [{"introduced": "5.0.0"}, {"fixed": "5.4.20"}],
        [],
        {"4.4.0": False, "5.0.0": True, "5.4.19": True, "v5.4.19": True, "5.4.20": False},
    ),
]


@pytest.mark.parametrize(("ecosystem", "name", "events", "versions", "expected"), SYNTHETIC)
def test_ecosystem_version_rules(
    ecosystem: str, name: str, events: list[dict[str, str]], versions: list[str], expected: dict[str, bool]
) -> None:
    index = _index(typed(osv_document("TEST-1", ecosystem, name, events, versions=versions)))
    got = {v: bool(index.affected(ecosystem, name, v)) for v in expected}
    assert got == expected


def test_names_are_compared_the_way_each_registry_compares_them() -> None:
    index = _index(
        typed(osv_document("PY-1", "PyPI", "Django_Rest.Framework", [{"introduced": "0"}, {"fixed": "3.0"}])),
        typed(osv_document("RS-1", "crates.io", "tokio_util", [{"introduced": "0"}, {"fixed": "1.0.0"}])),
        typed(
            osv_document("GO-1", "Go", "github.com/Example/mod", [{"introduced": "0"}, {"fixed": "1.0.0"}])
        ),
    )
    assert index.affected("pypi", "django-rest-framework", "2.0") == ["PY-1"]
    assert index.affected("cargo", "Tokio-Util", "0.5.0") == ["RS-1"]
    # Go module paths are case-sensitive.
    assert index.affected("golang", "github.com/example/mod", "v0.5.0") == []
    assert (
        normalise_name(Ecosystem.SWIFT, "https://GitHub.com/apple/swift-nio.git")
        == "github.com/apple/swift-nio"
    )
    assert purl_package("maven", "org.apache", "commons") == (Ecosystem.MAVEN, "org.apache:commons")
    assert purl_package("npm", "@babel", "core") == (Ecosystem.NPM, "@babel/core")
    assert purl_package("deb", "debian", "openssl") is None


def test_never_a_false_alert() -> None:
    everything = [{"introduced": "0"}, {"fixed": "not a version at all"}]
    index = _index(
        typed(osv_document("NPM-1", "npm", "left-pad", [{"introduced": "0"}, {"fixed": "1.0.0"}])),
        # A fixed bound that cannot be parsed drops its range: "introduced 0" alone would claim all.
        typed(osv_document("NPM-2", "npm", "right-pad", everything)),
        typed(
            osv_document(
                "GIT-1", "npm", "up-pad", [{"introduced": "0"}, {"fixed": "abc123"}], range_type="GIT"
            )
        ),
        typed(osv_document("DEB-1", "Debian:12", "openssl", [{"introduced": "0"}, {"fixed": "3.0.0"}])),
    )
    assert index.affected("npm", "left-pad", "0.5.0") == ["NPM-1"]
    assert index.affected("npm", "left-pad", "not-a-version") == []
    assert index.affected("conda", "left-pad", "0.5.0") == []
    assert index.affected("npm", "right-pad", "0.5.0") == []
    assert index.affected("npm", "up-pad", "0.5.0") == []
    assert index.affected("deb", "openssl", "1.0.0") == []


def test_limit_caps_a_range() -> None:
    events = [{"introduced": "1.0.0"}, {"limit": "2.0.0"}]
    index = _index(typed(osv_document("NPM-3", "npm", "pad", events, range_type="SEMVER")))
    assert index.affected_batch(
        [("npm", "pad", "1.5.0"), ("npm", "pad", "2.0.0"), ("npm", "pad", "0.1.0")]
    ) == [
        ["NPM-3"],
        [],
        [],
    ]


def test_github_ranges_are_described_from_osv_events() -> None:
    ranges = [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.3"}]},
        {
            "type": "ECOSYSTEM",
            "events": [{"introduced": "2.0"}, {"last_affected": "2.4"}, {"introduced": "3.0"}],
        },
        {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc"}]},
    ]
    assert describe(Ecosystem.NPM, ranges) == [
        ("< 1.0.3", "1.0.3"),
        (">= 2.0, <= 2.4", None),
        (">= 3.0", None),
    ]
