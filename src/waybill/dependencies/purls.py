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


# Package URLs already in canonical form, of the common shape ``pkg:type/namespace/name@version``
# (no qualifiers or subpath), are taken apart here rather than by ``packageurl``, which normalises
# each one three times over (parsing it, building it, printing it) and costs about 15 us a package:
# most of a large submission's CPU when its packages are new. Only strings that ``packageurl``
# prints back unchanged qualify, so both ways give the same package; the rest (other escapes,
# letter cases a type folds, types with rules of their own) take the general way.
_UNRESERVED = r"[A-Za-z0-9._~-]"
# Escapes that decode to a character ``packageurl`` encodes again in the same form.
_ESCAPE = r"%40|%2B"
# Non-empty, and unrolled so that a failing match cannot backtrack through the ways to split a run.
_SEGMENT = rf"(?={_UNRESERVED}|{_ESCAPE}){_UNRESERVED}*(?:(?:{_ESCAPE}){_UNRESERVED}*)*"
_CANONICAL = re.compile(rf"pkg:([a-z][a-z0-9.-]*)/((?:{_SEGMENT}/)*)({_SEGMENT})(?:@({_SEGMENT}))?")
# Types whose rules ``packageurl`` applies are mirrored here: the set lower-casing the namespace,
# the set lower-casing the name (whose escapes it lower-cases too, so none may appear there).
_NAMESPACE_FOLDED = frozenset(
    {"bitbucket", "github", "pypi", "gitlab", "composer", "luarocks", "qpkg", "alpm", "apk", "hex"}
)
_NAME_FOLDED = frozenset(
    {"bitbucket", "github", "pypi", "gitlab", "composer", "luarocks", "npm", "alpm", "apk", "bitnami", "hex"}
)
_FAST_TYPES = frozenset(
    {"npm", "pypi", "maven", "nuget", "gem", "golang", "cargo", "composer", "githubactions", "github"}
    | {"swift", "hex", "cocoapods", "conda", "docker", "generic", "deb", "rpm", "apk", "alpm"}
    | {"bitbucket", "gitlab", "luarocks", "qpkg", "bitnami", "cran", "conan"}
)


def _decoded(text: str) -> str:
    return text.replace("%40", "@").replace("%2B", "+") if "%" in text else text


def _canonical(raw: str) -> Package | None:
    """The package of an already canonical package URL of the common shape; None for any other."""
    match = _CANONICAL.fullmatch(raw)
    if match is None:
        return None
    type_, namespace, name, version = match.groups()
    if type_ not in _FAST_TYPES:
        return None
    if type_ in _NAMESPACE_FOLDED and namespace != namespace.lower():
        return None
    if type_ in _NAME_FOLDED and ("%" in name or name != name.lower() or (type_ == "pypi" and "_" in name)):
        return None
    return Package(
        purl=raw,
        type=type_,
        namespace=_decoded(namespace[:-1]) if namespace else None,
        name=_decoded(name),
        version=None if version is None else _decoded(version),
    )


@lru_cache(maxsize=200_000)
def parse(raw: str) -> Package:
    """The package behind a package URL; ``InvalidPurl`` says why it is not one.

    Cached: submissions of one repository (and of many) name the same packages again and again.
    """
    if len(raw) > MAX_LENGTH:
        raise InvalidPurl(f"package URL is longer than {MAX_LENGTH} characters")
    fast = _canonical(raw)
    if fast is not None:
        return fast
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
