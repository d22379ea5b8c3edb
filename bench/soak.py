"""The memory soak (``make soak``): mixed load against a real ``waybill serve --workers 2`` on each
database, with every process's resident memory printed every 10 s and, at the end, the slope of each
process's memory over the last minutes of the run (the warm part), in MiB per minute.

The load is a steady mix at ``--rate`` requests/s: deployment record upserts (most update a known
deployment to a new digest, some add one), storage records, reads of both kinds of record by digest,
attestation lists in both API versions, and dependency snapshots of 200 packages.

    python -m bench.soak [--backends sqlite,postgresql] [--minutes 10] [--rate 80] [--workers 2]
                         [--tracemalloc DIR]

``SOAK_MINUTES`` sets ``--minutes`` (``make soak SOAK_MINUTES=4``). With ``--tracemalloc DIR`` every
server process traces its allocations and writes a snapshot to DIR each minute; at the end the
largest growths between each worker's first and last snapshot are printed, by allocation site.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.backends import Backend, Fixture, backends
from bench.procs import _status_kib, process_tree, start_server
from bench.runner import shared_dir
from bench.scenarios import bundle_template, deployment_record_body, snapshot, storage_record_body

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SAMPLE_SECONDS = 10.0
SLOPE_MINUTES = 5.0
API = "2022-11-28"

# Each process writes a tracemalloc snapshot to $SOAK_TRACEMALLOC_DIR every minute (the soak puts
# this file's folder on PYTHONPATH, so that the supervisor, each worker and the verification pool
# all run it).
SITECUSTOMIZE = """
import os, threading, time, tracemalloc
_dir = os.environ.get("SOAK_TRACEMALLOC_DIR")
if _dir:
    def _dump():
        # Tracing starts once the process has started and warmed (tracing its imports would slow
        # start-up past the supervisor's patience); the snapshots show what grows after that.
        time.sleep(45)
        tracemalloc.start(12)
        n = 0
        while True:
            time.sleep(60)
            tracemalloc.take_snapshot().dump(os.path.join(_dir, f"{os.getpid()}-{n:03d}.snap"))
            n += 1
    threading.Thread(target=_dump, daemon=True, name="soak-tracemalloc").start()
"""


@dataclass
class Mix:
    """The requests of the mix, built once; each call picks one at random."""

    fixture: Fixture
    bundle: dict[str, Any]
    payload: str
    rng: random.Random = field(default_factory=lambda: random.Random(16))
    deployment_digests: list[str] = field(default_factory=list)
    storage_digests: list[str] = field(default_factory=list)
    attestation_digests: list[str] = field(default_factory=list)
    deployments: int = 0

    def headers(self, version: str = API) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.fixture.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": version,
        }

    def digest(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def upsert(self) -> tuple[str, str, dict[str, Any] | None]:
        # Nine in ten move a known deployment to a new digest; one in ten adds a deployment.
        if self.deployments == 0 or self.rng.random() < 0.1:
            self.deployments += 1
            name = f"svc-{self.deployments}"
        else:
            name = f"svc-{self.rng.randint(1, self.deployments)}"
        digest = self.digest()
        self._remember(self.deployment_digests, digest)
        body = deployment_record_body(self.fixture.repo, digest, name)
        return "POST", f"/orgs/{self.fixture.org}/artifacts/metadata/deployment-record", body

    def storage(self) -> tuple[str, str, dict[str, Any] | None]:
        digest = self.digest()
        self._remember(self.storage_digests, digest)
        body = storage_record_body(self.fixture.repo, digest)
        return "POST", f"/orgs/{self.fixture.org}/artifacts/metadata/storage-record", body

    def attestation(self) -> tuple[str, str, dict[str, Any] | None]:
        digest = self.digest()
        self.attestation_digests.append(digest)
        payload = base64.b64encode(self.payload.replace("{{hex}}", digest).encode()).decode()
        bundle = json.loads(json.dumps(self.bundle).replace('"{{payload}}"', json.dumps(payload)))
        return "POST", f"/repos/{self.fixture.org}/{self.fixture.repo}/attestations", {"bundle": bundle}

    def read(self) -> tuple[str, str, dict[str, Any] | None]:
        if self.rng.random() < 0.5 and self.deployment_digests:
            digest = self.rng.choice(self.deployment_digests)
            return (
                "GET",
                f"/orgs/{self.fixture.org}/artifacts/sha256:{digest}/metadata/deployment-records",
                None,
            )
        digest = self.rng.choice(self.storage_digests or [self.digest()])
        return "GET", f"/orgs/{self.fixture.org}/artifacts/sha256:{digest}/metadata/storage-records", None

    def attestation_list(self) -> tuple[str, str, dict[str, Any] | None]:
        digest = self.rng.choice(self.attestation_digests)
        return "GET", f"/repos/{self.fixture.org}/{self.fixture.repo}/attestations/sha256:{digest}", None

    def snapshot(self) -> tuple[str, str, dict[str, Any] | None]:
        sha = self.digest()[:40]
        body = snapshot(200, sha, variant=str(self.rng.randint(0, 9)), correlator="soak")
        return "POST", f"/repos/{self.fixture.org}/{self.fixture.repo}/dependency-graph/snapshots", body

    def pick(self) -> tuple[str, tuple[str, str, dict[str, Any] | None]]:
        roll = self.rng.random()
        for limit, kind, build in (
            (0.30, "upsert", self.upsert),
            (0.45, "storage", self.storage),
            (0.75, "read", self.read),
            (0.90, "attestation list", self.attestation_list),
            (0.95, "snapshot 200", self.snapshot),
        ):
            if roll < limit:
                return kind, build()
        return "attestation", self.attestation()

    @staticmethod
    def _remember(pool: list[str], digest: str) -> None:
        # Reads go to the records of the last thousand writes, as clients read what they just wrote.
        pool.append(digest)
        if len(pool) > 1000:
            del pool[: len(pool) - 1000]


def roles(server_pid: int) -> dict[int, str]:
    """Each process of the server by what it is: the supervisor, its workers, and their pools."""
    named: dict[int, str] = {}
    workers = 0
    for pid in process_tree(server_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if pid == server_pid:
            named[pid] = "supervisor"
        elif "resource_tracker" in cmdline:
            named[pid] = f"resource tracker {pid}"
        elif ppid == server_pid:
            workers += 1
            named[pid] = f"worker {workers} ({pid})"
        else:
            named[pid] = f"{named.get(ppid, str(ppid)).split(' (')[0]} child ({pid})"
    return named


def slope_mib_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute."""
    if len(samples) < 3:
        return float("nan")
    xs, ys = [t for t, _ in samples], [m for _, m in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


async def drive(base: str, mix: Mix, rate: float, seconds: float, server_pid: int) -> dict[str, Any]:
    """Requests at ``rate`` per second for ``seconds`` (at most 32 in flight), memory every 10 s."""
    statuses: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    rss: dict[str, list[tuple[float, float]]] = {}
    started = time.monotonic()
    in_flight = asyncio.Semaphore(32)
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(kind: str, request: tuple[str, str, dict[str, Any] | None]) -> None:
            method, path, body = request
            version = "2026-03-10" if kind == "attestation list" and mix.rng.random() < 0.5 else API
            try:
                response = await client.request(method, path, json=body, headers=mix.headers(version))
                statuses[f"{kind} {response.status_code}"] += 1
            except httpx.HTTPError as exc:
                statuses[f"{kind} {type(exc).__name__}"] += 1
            finally:
                in_flight.release()

        async def sample() -> None:
            while True:
                now = time.monotonic() - started
                named = roles(server_pid)
                for pid, role in named.items():
                    if role.startswith("resource tracker"):
                        continue
                    rss.setdefault(role, []).append((now, _status_kib(pid, "VmRSS") / 1024))
                done = sum(statuses.values())
                line = "  ".join(
                    f"{role.split(' (')[0]} {points[-1][1]:6.1f}"
                    for role, points in rss.items()
                    if points and points[-1][0] == now
                )
                print(f"  {now:5.0f} s  {done:6d} requests  RSS MiB: {line}", flush=True)
                await asyncio.sleep(SAMPLE_SECONDS)

        # The attestation lists need attestations to list.
        for _ in range(20):
            method, path, body = mix.attestation()
            response = await client.request(method, path, json=body, headers=mix.headers())
            if response.status_code != 201:
                raise RuntimeError(
                    f"attestation upload answered {response.status_code}: {response.text[:300]}"
                )
        sampler = asyncio.get_running_loop().create_task(sample())
        tasks: set[asyncio.Task[None]] = set()
        sent = 0
        while (elapsed := time.monotonic() - started) < seconds:
            # Open loop, but a server that falls behind is not sent a backlog all at once.
            due = min(int(elapsed * rate) - sent, 32)
            for _ in range(max(due, 0)):
                await in_flight.acquire()
                kind, request = mix.pick()
                kinds[kind] += 1
                task = asyncio.get_running_loop().create_task(one(kind, request))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        sampler.cancel()
    return {"seconds": time.monotonic() - started, "statuses": statuses, "rss": rss, "sent": sent}


def report(result: dict[str, Any], minutes: float) -> dict[str, Any]:
    end = result["seconds"]
    # The warm part: the last five minutes, or the second half of a shorter run.
    window = min(SLOPE_MINUTES * 60, end / 2)
    slopes = {}
    for role, points in result["rss"].items():
        warm = [(t, m) for t, m in points if t >= end - window]
        slopes[role] = {
            "start_mib": round(points[0][1], 1),
            "end_mib": round(points[-1][1], 1),
            "slope_mib_per_min": round(slope_mib_per_min(warm), 3),
        }
    ok = sum(n for k, n in result["statuses"].items() if k.rsplit(" ", 1)[1].startswith("2"))
    failed = {k: n for k, n in result["statuses"].items() if not k.rsplit(" ", 1)[1].startswith("2")}
    print(
        f"  {result['sent']} requests in {end:.0f} s ({result['sent'] / end:.1f}/s), {ok} answered 2xx"
        + (f"; others: {dict(sorted(failed.items()))}" if failed else "")
    )
    print(f"  RSS slope over the last {window / 60:.1f} minutes (MiB/min):")
    for role, figures in slopes.items():
        print(
            f"    {role:<34} {figures['start_mib']:7.1f} -> {figures['end_mib']:7.1f} MiB"
            f"   slope {figures['slope_mib_per_min']:+7.3f}"
        )
    return {"minutes": minutes, "requests": result["sent"], "ok": ok, "failed": failed, "processes": slopes}


def tracemalloc_growth(directory: Path, top: int = 12) -> None:
    """For each process that wrote snapshots: the allocation sites that grew most, first to last."""
    import tracemalloc

    by_pid: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("*.snap")):
        by_pid.setdefault(path.name.split("-")[0], []).append(path)
    for pid, paths in by_pid.items():
        if len(paths) < 2:
            continue
        first = tracemalloc.Snapshot.load(str(paths[0]))
        last = tracemalloc.Snapshot.load(str(paths[-1]))
        stats = last.compare_to(first, "traceback")
        grown = sum(s.size_diff for s in stats)
        print(f"\n  process {pid}: traced heap {grown / 2**20:+.1f} MiB over {len(paths) - 1} minutes")
        for stat in stats[:top]:
            if stat.size_diff <= 0:
                break
            print(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            for frame in stat.traceback.format()[-8:]:
                print(textwrap.indent(frame.strip(), "        "))


def run_backend(backend: Backend, args: argparse.Namespace) -> dict[str, Any]:
    backend.create()
    try:
        fixture = backend.provision()
        bundle, payload = bundle_template(shared_dir(os.environ))
        env = backend.server_env()
        if args.tracemalloc:
            hook = Path(tempfile.mkdtemp(prefix="waybill-soak-hook-"))
            (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
            snaps = args.tracemalloc / backend.name
            snaps.mkdir(parents=True, exist_ok=True)
            for old in snaps.glob("*.snap"):
                old.unlink()
            env.update(
                PYTHONPATH=os.pathsep.join([str(hook), env.get("PYTHONPATH", "")]),
                SOAK_TRACEMALLOC_DIR=str(snaps),
            )
        log = backend.workdir / "server-soak.log"
        server, base = start_server(env, args.workers, log, REPO)
        try:
            mix = Mix(fixture, bundle, payload)
            result = asyncio.run(drive(base, mix, args.rate, args.minutes * 60, server.pid))
            server.check_alive()
        finally:
            server.stop()
        summary = report(result, args.minutes)
        if args.tracemalloc:
            tracemalloc_growth(args.tracemalloc / backend.name)
        return summary
    finally:
        backend.drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES") or 10))
    parser.add_argument("--rate", type=float, default=80, help="requests/s offered")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tracemalloc", type=Path, default=None, metavar="DIR")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "soak.json")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for backend in backends(b.strip() for b in args.backends.split(",")):
        print(
            f"\n== {backend.name}: {args.workers} workers, {args.rate:g} requests/s"
            f" for {args.minutes:g} minutes",
            flush=True,
        )
        results[backend.name] = run_backend(backend, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
