"""Package URLs: parsed once into the canonical form packages are keyed by, and named the way
GitHub's dependency graph names ecosystems and packages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from packageurl import PackageURL

# Longer package URLs than this would not fit PostgreSQL's B-tree index on the package key.
MAX_LENGTH = 2048

_BASE_END = re.compile(r"[@?#]")

# Package-URL types to GitHub's ecosystem names (as the dependency review API reports them).
_ECOSYSTEMS = {
    "npm": "npm",
    "pypi": "pip",
    "maven": "maven",
    "nuget": "nuget",
    "gem": "rubygems",
    "golang": "go",
    "cargo": "cargo",
    "composer": "composer",
    "githubactions": "actions",
    "github": "actions",
    "pub": "pub",
    "swift": "swift",
    "hex": "erlang",
    "cocoapods": "cocoapods",
    "conda": "conda",
    "docker": "docker",
    "oci": "docker",
}


@dataclass(frozen=True, slots=True)
class Package:
    purl: str  # canonical
    type: str
    namespace: str | None
    name: str
    version: str | None

    @property
    def base(self) -> str:
        """The package URL without version, qualifiers and subpath. In the canonical form every
        ``@``, ``?`` and ``#`` inside the namespace and name is percent-encoded, so the first one
        starts the version, qualifiers or subpath."""
        return _BASE_END.split(self.purl, 1)[0]

    @property
    def ecosystem(self) -> str:
        return ecosystem(self.type)

    @property
    def display_name(self) -> str:
        return display_name(self.type, self.namespace, self.name)


def ecosystem(purl_type: str) -> str:
    return _ECOSYSTEMS.get(purl_type, purl_type)


def display_name(purl_type: str, namespace: str | None, name: str) -> str:
    if not namespace:
        return name
    # Maven coordinates are group:artifact; every other ecosystem joins its path with slashes.
    return f"{namespace}:{name}" if purl_type == "maven" else f"{namespace}/{name}"


class InvalidPurl(ValueError):
    pass


@lru_cache(maxsize=200_000)
def parse(raw: str) -> Package:
    """The package behind a package URL; ``InvalidPurl`` says why it is not one.

    Cached: submissions of one repository (and of many) name the same packages again and again.
    """
    if len(raw) > MAX_LENGTH:
        raise InvalidPurl(f"package URL is longer than {MAX_LENGTH} characters")
    try:
        parsed = PackageURL.from_string(raw)
    except ValueError as exc:
        raise InvalidPurl(str(exc)) from None
    return Package(
        purl=parsed.to_string(),
        type=parsed.type,
        namespace=parsed.namespace or None,
        name=parsed.name,
        version=parsed.version or None,
    )
