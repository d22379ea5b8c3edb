"""Package ecosystems: the names GitHub, OSV and package URLs give them, how each normalises a package
name, and which version rules (``univers``) each compares versions with."""

from __future__ import annotations

import re
from enum import StrEnum

from univers import versions as uv


class Ecosystem(StrEnum):
    """GitHub's ``security-advisory-ecosystems`` (less ``other``, which no version rules fit)."""

    PIP = "pip"
    NPM = "npm"
    MAVEN = "maven"
    GO = "go"
    RUBYGEMS = "rubygems"
    NUGET = "nuget"
    COMPOSER = "composer"
    RUST = "rust"
    ERLANG = "erlang"
    PUB = "pub"
    SWIFT = "swift"
    ACTIONS = "actions"


# OSV's ecosystem names (https://ossf.github.io/osv-schema/#affectedpackage-field).
OSV_NAMES: dict[str, Ecosystem] = {
    "PyPI": Ecosystem.PIP,
    "npm": Ecosystem.NPM,
    "Maven": Ecosystem.MAVEN,
    "Go": Ecosystem.GO,
    "RubyGems": Ecosystem.RUBYGEMS,
    "NuGet": Ecosystem.NUGET,
    "Packagist": Ecosystem.COMPOSER,
    "crates.io": Ecosystem.RUST,
    "Hex": Ecosystem.ERLANG,
    "Pub": Ecosystem.PUB,
    "SwiftURL": Ecosystem.SWIFT,
    "GitHub Actions": Ecosystem.ACTIONS,
}

# Package URL types (what dependency snapshots carry).
PURL_TYPES: dict[str, Ecosystem] = {
    "pypi": Ecosystem.PIP,
    "npm": Ecosystem.NPM,
    "maven": Ecosystem.MAVEN,
    "golang": Ecosystem.GO,
    "gem": Ecosystem.RUBYGEMS,
    "nuget": Ecosystem.NUGET,
    "composer": Ecosystem.COMPOSER,
    "cargo": Ecosystem.RUST,
    "hex": Ecosystem.ERLANG,
    "pub": Ecosystem.PUB,
    "swift": Ecosystem.SWIFT,
    "githubactions": Ecosystem.ACTIONS,
    "github": Ecosystem.ACTIONS,
}

_BY_ANY_NAME: dict[str, Ecosystem] = {
    **{k.lower(): v for k, v in OSV_NAMES.items()},
    **PURL_TYPES,
    **{e.value: e for e in Ecosystem},
}

OSV_NAME_OF: dict[Ecosystem, str] = {v: k for k, v in OSV_NAMES.items()}


def parse(name: str) -> Ecosystem | None:
    """An ecosystem from any of its names (GitHub's, OSV's, a purl type), or None when unknown.

    OSV qualifies some ecosystems with a release (``Debian:11``); none of those is one GitHub serves.
    """
    return _BY_ANY_NAME.get(name.strip().lower())


VERSION_CLASS: dict[Ecosystem, type[uv.Version]] = {
    Ecosystem.PIP: uv.PypiVersion,
    Ecosystem.NPM: uv.SemverVersion,
    Ecosystem.MAVEN: uv.MavenVersion,
    Ecosystem.GO: uv.GolangVersion,
    Ecosystem.RUBYGEMS: uv.RubygemsVersion,
    Ecosystem.NUGET: uv.NugetVersion,
    Ecosystem.COMPOSER: uv.ComposerVersion,
    Ecosystem.RUST: uv.SemverVersion,
    Ecosystem.ERLANG: uv.SemverVersion,
    Ecosystem.PUB: uv.SemverVersion,
    Ecosystem.SWIFT: uv.SemverVersion,
    Ecosystem.ACTIONS: uv.SemverVersion,
}

_PEP503 = re.compile(r"[-_.]+")


def normalise_name(ecosystem: Ecosystem, name: str) -> str:
    """The key two spellings of one package share, following each registry's own rules."""
    name = name.strip()
    match ecosystem:
        case Ecosystem.PIP:
            return _PEP503.sub("-", name).lower()
        case Ecosystem.RUST:
            # crates.io refuses names differing only in case or in '-' versus '_'.
            return name.lower().replace("_", "-")
        case Ecosystem.SWIFT:
            lowered = name.lower().removesuffix(".git")
            return lowered.removeprefix("https://").removeprefix("http://")
        case Ecosystem.MAVEN | Ecosystem.GO:
            # Maven coordinates and Go module paths are case-sensitive.
            return name
        case (
            Ecosystem.NPM
            | Ecosystem.RUBYGEMS
            | Ecosystem.NUGET
            | Ecosystem.COMPOSER
            | Ecosystem.ERLANG
            | Ecosystem.PUB
            | Ecosystem.ACTIONS
        ):
            return name.lower()


def purl_package(purl_type: str, namespace: str | None, name: str) -> tuple[Ecosystem, str] | None:
    """(ecosystem, package name as advisories spell it) for a package URL's parts."""
    ecosystem = PURL_TYPES.get(purl_type.lower())
    if ecosystem is None:
        return None
    if not namespace:
        return ecosystem, name
    separator = ":" if ecosystem is Ecosystem.MAVEN else "/"
    return ecosystem, f"{namespace}{separator}{name}"


PURL_TYPE_OF: dict[Ecosystem, str] = {
    Ecosystem.PIP: "pypi",
    Ecosystem.NPM: "npm",
    Ecosystem.MAVEN: "maven",
    Ecosystem.GO: "golang",
    Ecosystem.RUBYGEMS: "gem",
    Ecosystem.NUGET: "nuget",
    Ecosystem.COMPOSER: "composer",
    Ecosystem.RUST: "cargo",
    Ecosystem.ERLANG: "hex",
    Ecosystem.PUB: "pub",
    Ecosystem.SWIFT: "swift",
    Ecosystem.ACTIONS: "githubactions",
}


def purl_of(ecosystem: Ecosystem, name: str) -> str:
    """A package URL (without version) for a package as advisories name it: Maven's ``group:artifact``
    becomes a namespace, as does every path before the last ``/``; an npm scope's ``@`` is escaped."""
    if ecosystem is Ecosystem.MAVEN and ":" in name:
        name = name.replace(":", "/", 1)
    name = name.replace("@", "%40")
    return f"pkg:{PURL_TYPE_OF[ecosystem]}/{name}"
