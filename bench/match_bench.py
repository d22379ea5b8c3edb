"""Matching throughput: 100,000 dependency rows against 50,000 advisories, on one core.

The advisories are the 2,661 real PyPI records of ``shared/advisories``, copied under new package
names until there are 50,000 (each copy keeps its record's ranges and versions, so the number of
advisories per package and the shape of their ranges stay real). A third of the dependency rows
name a package that has advisories, at a version taken from its record (listed, introduced, fixed,
or a version past every range); the rest name packages no advisory mentions, as most do.

Printed: the rows matched per second; the same as "dependencies x advisories per second" (what a
brute-force matcher would have to compare); and two figures measured in the same run: the ceiling
(the index lookup alone, no version comparison) and the brute-force rate over a sample.

    WAYBILL_SHARED_DIR=../shared python bench/match_bench.py
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path
from typing import Any

import msgspec

from waybill.advisories import osv
from waybill.advisories.ecosystems import Ecosystem, normalise_name
from waybill.advisories.matching import MatchIndex

ADVISORIES = 50_000
DEPENDENCIES = 100_000

# A package with its ranges and listed versions, as an advisory names them.
Package = tuple[str, list[dict[str, Any]], list[str]]


def _real(shared: Path) -> list[osv.Document]:
    root = shared / "advisories" / "pypa-advisory-database"
    return [doc for name, data in osv.load(root) for doc in osv.parse(data, name)]


def _packages(docs: list[osv.Document]) -> list[Package]:
    out = []
    for doc in docs:
        for affected in doc.affected:
            if affected.package is not None and affected.package.ecosystem == "PyPI":
                ranges = [msgspec.to_builtins(r) for r in affected.ranges if r.type == "ECOSYSTEM"]
                out.append((affected.package.name, ranges, list(affected.versions)))
    return out


def build(real: list[Package], count: int) -> tuple[MatchIndex, list[Package]]:
    index = MatchIndex()
    made: list[Package] = []
    copy = 0
    while len(made) < count:
        for name, ranges, versions in real:
            if len(made) >= count:
                break
            package = name if copy == 0 else f"{name}-copy{copy}"
            index.add(f"ADV-{len(made)}", Ecosystem.PIP, package, ranges, versions)
            made.append((package, ranges, versions))
        copy += 1
    return index, made


def dependencies(made: list[Package], count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for i in range(count):
        if i % 3 == 0:
            package, ranges, versions = rng.choice(made)
            bounds = [v for r in ranges for e in r["events"] for v in e.values() if v != "0"]
            choices = [*versions[-3:], *bounds, "99999.0"]
            rows.append(("pypi", package, rng.choice(choices)))
        else:
            rows.append(
                ("pypi", f"unaffected-package-{i % 20_000}", f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.0")
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--advisories", type=int, default=ADVISORIES)
    parser.add_argument("--dependencies", type=int, default=DEPENDENCIES)
    args = parser.parse_args()
    shared = Path(os.environ.get("WAYBILL_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
    rng = random.Random(9)

    real = _packages(_real(shared))
    start = time.perf_counter()
    index, made = build(real, args.advisories)
    built = time.perf_counter() - start
    rows = dependencies(made, args.dependencies, rng)
    names = len(index.packages)
    print(f"advisories: {len(index):,} affected packages under {names:,} names, indexed in {built:.2f} s")
    print(f"dependency rows: {len(rows):,}")

    # Ceiling: the index lookup every match has to do, without comparing any version.
    start = time.perf_counter()
    for ecosystem, name, _ in rows:
        index.bucket(ecosystem, name)
    ceiling = len(rows) / (time.perf_counter() - start)

    results = []
    for label in ("cold (compiling, parsing)", "warm"):
        start = time.perf_counter()
        found = index.affected_batch(rows)
        elapsed = time.perf_counter() - start
        results.append((label, len(rows) / elapsed, elapsed, sum(len(f) for f in found)))

    # Without the index: each row's name compared with every advisory's package (versions not even
    # looked at), over a sample.
    sample = rows[:: max(1, len(rows) // 50)][:50]
    keys = [key for (_, key), bucket in index.packages.items() for _ in bucket.sources]
    start = time.perf_counter()
    for _, name, _ in sample:
        wanted = normalise_name(Ecosystem.PIP, name)
        sum(1 for key in keys if key == wanted)
    brute_pairs = len(sample) * len(keys) / (time.perf_counter() - start)

    for label, rate, elapsed, alerts in results:
        pairs = rate * len(index)
        print(
            f"{label:32s} {elapsed:6.2f} s  {rate:12,.0f} rows/s  "
            f"{pairs:16,.0f} dependencies x advisories /s  ({alerts:,} alerts)"
        )
    share = results[-1][1] / ceiling
    print(f"{'ceiling (index lookup only)':32s} {'':8s} {ceiling:12,.0f} rows/s  (warm is {share:.0%} of it)")
    print(f"{'without index (sample of 50)':32s} {'':8s} {brute_pairs:29,.0f} dependencies x advisories /s")


if __name__ == "__main__":
    main()
