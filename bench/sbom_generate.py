"""A large, realistic CycloneDX JSON document for the SBOM import benchmark and tests.

    python -m bench.sbom_generate OUT [--components 250000] [--spec 1.6] [--seed 1]

Components span several ecosystems (npm with scopes, PyPI, Maven, Go, Cargo, RubyGems, NuGet), each
with the fields real generators write: hashes, licences, external references, properties. The
document's root (``metadata.component``) depends on a few dozen components, and every component on up
to six others, so the graph has direct and indirect packages. A few components share a package URL
(the import keeps one) and a few have none (the import skips them), as in real SBOMs. At 250,000
components the document is about 256 MB.

The output is a pure function of the arguments, so two runs compare.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import msgspec

LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "BSD-2-Clause", "MPL-2.0", "LGPL-2.1-only")
WORDS = [
    "core",
    "util",
    "http",
    "json",
    "parse",
    "stream",
    "async",
    "cache",
    "config",
    "log",
    "test",
    "io",
    "net",
    "crypto",
    "auth",
    "db",
    "orm",
    "cli",
    "format",
    "codec",
    "image",
    "date",
    "time",
    "path",
    "fs",
    "queue",
    "pool",
    "client",
    "server",
    "proto",
    "schema",
    "type",
    "lint",
]
# Every 997th component repeats an earlier one's package URL; every 1,009th has none.
DUPLICATE_EVERY = 997
NO_PURL_EVERY = 1009
ROOT_DIRECT = 40


def _name(rng: random.Random, i: int) -> str:
    return f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}"


def _version(rng: random.Random) -> str:
    return f"{rng.randint(0, 12)}.{rng.randint(0, 40)}.{rng.randint(0, 99)}"


def _coordinates(rng: random.Random, i: int) -> tuple[str, str | None, str, str, str]:
    """(purl, group, name, version, distribution URL) of component ``i``."""
    name, version = _name(rng, i), _version(rng)
    kind = i % 7
    if kind == 0:
        scope = rng.choice(WORDS)
        return (
            f"pkg:npm/%40{scope}/{name}@{version}",
            f"@{scope}",
            name,
            version,
            f"https://registry.npmjs.org/@{scope}/{name}/-/{name}-{version}.tgz",
        )
    if kind == 1:
        return f"pkg:npm/{name}@{version}", None, name, version, f"https://registry.npmjs.org/{name}"
    if kind == 2:
        return (
            f"pkg:pypi/{name}@{version}",
            None,
            name,
            version,
            f"https://pypi.org/project/{name}/{version}/",
        )
    if kind == 3:
        group = f"org.{rng.choice(WORDS)}.{rng.choice(WORDS)}"
        return (
            f"pkg:maven/{group}/{name}@{version}?type=jar",
            group,
            name,
            version,
            f"https://repo.maven.apache.org/maven2/{group.replace('.', '/')}/{name}/{version}/",
        )
    if kind == 4:
        group = f"github.com/{rng.choice(WORDS)}-{i % 5000}"
        return f"pkg:golang/{group}/{name}@v{version}", group, name, f"v{version}", f"https://{group}/{name}"
    if kind == 5:
        return (
            f"pkg:cargo/{name}@{version}",
            None,
            name,
            version,
            f"https://crates.io/crates/{name}/{version}",
        )
    if i % 2:
        return f"pkg:gem/{name}@{version}", None, name, version, f"https://rubygems.org/gems/{name}"
    return (
        f"pkg:nuget/{name}@{version}",
        None,
        name,
        version,
        f"https://www.nuget.org/packages/{name}/{version}",
    )


def _component(rng: random.Random, i: int, earlier: list[str]) -> tuple[str, dict[str, object]]:
    purl, group, name, version, url = _coordinates(rng, i)
    if i % DUPLICATE_EVERY == 0 and earlier:
        purl = earlier[rng.randrange(len(earlier))]
    digest = hashlib.sha256(f"{purl}#{i}".encode()).digest()
    component: dict[str, object] = {"type": "library", "bom-ref": f"{purl}#{i}"}
    if group:
        component["group"] = group
    component["name"] = name
    component["version"] = version
    component["description"] = f"The {name} package: {' '.join(rng.sample(WORDS, 8))}."
    component["scope"] = rng.choice(("required", "required", "required", "optional"))
    component["hashes"] = [
        {"alg": "SHA-256", "content": digest.hex()},
        {"alg": "SHA-512", "content": hashlib.sha512(digest).hexdigest()},
    ]
    component["licenses"] = [{"license": {"id": rng.choice(LICENSES)}}]
    if i % NO_PURL_EVERY != 0:
        component["purl"] = purl
    component["externalReferences"] = [
        {"type": "distribution", "url": url},
        {"type": "vcs", "url": f"https://github.com/{rng.choice(WORDS)}/{name}"},
    ]
    component["properties"] = [{"name": "cdx:generator:path", "value": f"/deps/{name}/{version}"}]
    return purl, component


def write(out: IO[bytes], components: int, spec: str = "1.6", seed: int = 1) -> None:
    """Write the document to ``out``, component by component: the whole never exists in memory."""
    rng = random.Random(seed)
    encode = msgspec.json.Encoder().encode
    root = "app-root"
    head = {
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "serialNumber": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}",
        "version": 1,
        "metadata": {
            "timestamp": "2026-03-01T12:00:00Z",
            "tools": {"components": [{"type": "application", "name": "bench-sbom-generate"}]},
            "component": {"type": "application", "bom-ref": root, "name": "bench-app", "version": "1.0.0"},
        },
    }
    out.write(encode(head)[:-1] + b',"components":[')
    refs: list[str] = []
    purls: list[str] = []
    for i in range(components):
        purl, component = _component(rng, i, purls)
        purls.append(purl)
        refs.append(str(component["bom-ref"]))
        out.write((b"," if i else b"") + encode(component))
    out.write(b'],"dependencies":[')
    direct = rng.sample(refs, min(ROOT_DIRECT, len(refs)))
    out.write(encode({"ref": root, "dependsOn": direct}))
    for edges in _edges(rng, refs):
        out.write(b"," + encode(edges))
    out.write(b"]}")


def _edges(rng: random.Random, refs: list[str]) -> Iterator[dict[str, object]]:
    for ref in refs:
        count = min(rng.choice((0, 1, 2, 3, 4, 6)), len(refs))
        yield {"ref": ref, "dependsOn": rng.sample(refs, count)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--components", type=int, default=250_000)
    parser.add_argument("--spec", choices=("1.5", "1.6"), default="1.6")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with args.out.open("wb", buffering=1 << 20) as out:
        write(out, args.components, args.spec, args.seed)
    size = args.out.stat().st_size
    print(f"{args.out}: {args.components} components, {size / 2**20:.1f} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
