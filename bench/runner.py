"""The run: for each backend, load each scale level, start the server, measure every landed scenario
and its ceilings, then print the table and write the JSON and the chart."""

from __future__ import annotations

import logging
import os
import platform
import random
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import loaders, report
from bench.backends import Backend, backends
from bench.measure import Measurement, RequestSpec, run_wrk
from bench.procs import Process, cpu_seconds, memory_mib, start_minimal, start_prism, start_server
from bench.scenarios import MINIMAL_SAME, MINIMAL_SPECS, SCENARIOS, Context, Scenario

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SCALE_WORDS = {"k": 1_000, "m": 1_000_000}
PING = RequestSpec("GET", "/waybill/ping")


def parse_scale(word: str) -> int:
    word = word.strip().lower()
    if word[-1:] in SCALE_WORDS:
        return int(float(word[:-1]) * SCALE_WORDS[word[-1]])
    return int(word)


def scale_name(count: int) -> str:
    for suffix, size in (("m", 1_000_000), ("k", 1_000)):
        if count >= size and count % size == 0:
            return f"{count // size}{suffix}"
    return str(count)


@dataclass(frozen=True)
class Options:
    scales: tuple[int, ...]
    duration_s: float
    warmup_s: float
    backends: tuple[str, ...]
    workers: tuple[int, ...]
    only: frozenset[str] | None
    out: Path
    quick: bool
    shared: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Options:
        quick = env.get("BENCH_QUICK", "") not in ("", "0")
        scales = env.get("BENCH_SCALES") or ("10k" if quick else "10k,1m,10m")
        only = env.get("BENCH_ONLY")
        return cls(
            scales=tuple(sorted(parse_scale(s) for s in scales.split(",") if s.strip())),
            duration_s=float(env.get("BENCH_DURATION") or (3 if quick else 15)),
            warmup_s=float(env.get("BENCH_WARMUP") or (1 if quick else 3)),
            backends=tuple(b.strip() for b in (env.get("BENCH_BACKENDS") or "sqlite,postgresql").split(",")),
            workers=tuple(int(w) for w in (env.get("BENCH_WORKERS") or str(RECOMMENDED_WORKERS)).split(",")),
            only=frozenset(s.strip() for s in only.split(",")) if only else None,
            out=Path(env.get("BENCH_OUT") or BENCH_DIR / "results"),
            quick=quick,
            shared=shared_dir(env),
        )


# What the README recommends for production; on the 2-core machines this project runs on, two workers
# let the server use both cores (see bench/README.md for the 1-vs-2 comparison, BENCH_WORKERS=1,2).
RECOMMENDED_WORKERS = 2


def shared_dir(env: Mapping[str, str]) -> Path:
    """The shared data (GitHub's descriptions): ``WAYBILL_SHARED_DIR`` or ``../shared``."""
    return Path(env.get("WAYBILL_SHARED_DIR") or REPO.parent / "shared")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kib = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024),
        "kernel": platform.release(),
    }


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=REPO, check=False
        ).stdout.strip()

    sha = git("rev-parse", "--short", "HEAD") or "?"
    return sha + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def landed_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app registers, paths written as in the spec."""
    import re

    from waybill.app import create_app
    from waybill.config import Settings

    app = create_app(Settings(run_worker=False))
    found = set()
    for route in app.litestar.routes:
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for method in getattr(route, "methods", ()):
            found.add((method, path))
    return found


class Run:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.rows: list[dict[str, Any]] = []
        self.ceilings: list[dict[str, Any]] = []
        self.memory: list[dict[str, Any]] = []
        self.failures: list[str] = []
        self.prism_cache: dict[str, dict[str, Any] | None] = {}
        self.prism: dict[str, tuple[Process, str]] = {}
        self.prism_broken: set[str] = set()
        self.nonce = secrets.token_hex(3)
        self.current_workers = options.workers[0]
        routes = landed_routes()
        self.scenarios = [
            s
            for s in SCENARIOS
            if (s.method, s.route) in routes and (options.only is None or s.key in options.only)
        ]
        self.skipped = [s.key for s in SCENARIOS if (s.method, s.route) not in routes]

    # -- measuring

    def measure(
        self,
        base: str,
        spec: RequestSpec,
        name: str,
        connections: int,
        workdir: Path,
        single_s: float = 0,
        server: Process | None = None,
    ) -> Measurement:
        """Warm up, then measure. A request that takes ``single_s`` alone gets a run long enough for
        about 20 of them (up to 4x the configured duration), so slow operations still give figures."""
        spec_file = spec.write(workdir / "specs", name, self.nonce)
        seconds = min(max(self.options.duration_s, 20 * single_s), 4 * self.options.duration_s)
        if self.options.warmup_s > 0:
            warmup = max(self.options.warmup_s, 2 * single_s)
            run_wrk(base, spec_file, connections=connections, seconds=warmup)
        if server is None:
            return run_wrk(base, spec_file, connections=connections, seconds=seconds)
        # The server's own CPU time per request: far steadier than throughput on a shared machine.
        cpu_before = cpu_seconds(server.pid)
        m = run_wrk(base, spec_file, connections=connections, seconds=seconds)
        cpu = cpu_seconds(server.pid) - cpu_before
        return replace(m, cpu_ms=round(1000 * cpu / m.requests, 3) if m.requests else None)

    def probe(self, client: httpx.Client, spec: RequestSpec, rng: random.Random) -> float:
        """One request first, so that a scenario that only gets errors fails loudly with the body;
        returns how long it took."""
        path, body = spec.render(rng)
        started = time.monotonic()
        response = client.request(spec.method, path, headers=spec.headers, content=body)
        if response.status_code >= 300:
            raise RuntimeError(f"{spec.method} {path} answered {response.status_code}: {response.text[:500]}")
        return time.monotonic() - started

    def prism_ceiling(self, scenario: Scenario, spec: RequestSpec, workdir: Path) -> dict[str, Any] | None:
        if scenario.operation is None:
            return None
        if scenario.key in self.prism_cache:
            return self.prism_cache[scenario.key]
        if scenario.spec_version in self.prism_broken:
            return None
        result: dict[str, Any] | None = None
        try:
            if self.prism.get(scenario.spec_version) is None:
                description = (
                    self.options.shared / "spec" / f"github-supply-chain.{scenario.spec_version}.openapi.json"
                )
                self.prism[scenario.spec_version] = start_prism(
                    description, workdir / f"prism-{scenario.spec_version}.log"
                )
            _, base = self.prism[scenario.spec_version]
            # Prism negotiates only the media types the description lists (application/json), and
            # answers GitHub's own application/vnd.github+json with 406.
            spec = replace(spec, headers={**spec.headers, "Accept": "application/json"})
            with httpx.Client(base_url=base, timeout=30) as client:
                single = self.probe(client, spec, random.Random())
            m = self.measure(base, spec, f"prism-{scenario.key}", scenario.connections, workdir, single)
            result = {
                "name": "prism",
                "scenario": scenario.key,
                "operation": scenario.operation,
                **m.as_dict(),
            }
            result["how"] = f"prism mock of {scenario.operation} ({scenario.spec_version})"
            self.ceilings.append({"backend": "-", **result})
        except Exception as error:  # the peer failing must not lose the run's own figures
            self.failures.append(f"prism {scenario.key}: {str(error)[-600:]}")
            if scenario.spec_version not in self.prism:
                self.prism_broken.add(scenario.spec_version)
        self.prism_cache[scenario.key] = result
        return result

    def minimal_ceiling(
        self, ctx: Context, scenario: Scenario, minimal: tuple[Process, str], label: str, scale: str
    ) -> dict[str, Any] | None:
        """The minimal app's upsert (for a write) or read by digest (for a read) at the scenario's
        connection count, its server CPU measured as Waybill's is."""
        if scenario.kind not in MINIMAL_SPECS:
            return None
        process, base = minimal
        what = "upsert" if scenario.kind == "write" else "read by digest"
        try:
            spec = MINIMAL_SPECS[scenario.kind](ctx)
            with httpx.Client(base_url=base, timeout=30) as client:
                single = self.probe(client, spec, ctx.rng)
            name = f"minimal-{scenario.kind}-c{scenario.connections}"
            m = self.measure(base, spec, name, scenario.connections, ctx.workdir, single, process)
            process.check_alive()
        except Exception as error:  # a broken ceiling must not lose Waybill's own figures
            self.failures.append(f"{label} {scale} minimal {scenario.kind}: {str(error)[-600:]}")
            return None
        processes = ctx.backend.minimal_workers(self.current_workers)
        result = {
            "name": "minimal",
            "scenario": f"{what}, {scenario.connections} conns",
            **m.as_dict(),
            "how": f"bench.minimal_{ctx.backend.minimal_app}, uvicorn, "
            + ("1 process" if processes == 1 else f"{processes} processes"),
        }
        self.ceilings.append({"backend": label, "scale": scale, **result})
        return result

    # -- the run

    def backend(self, backend: Backend, workers: int) -> None:
        label = backend.name if len(self.options.workers) == 1 else f"{backend.name}/w{workers}"
        print(f"\n== {label}: creating the database", flush=True)
        backend.create()
        try:
            fixture = backend.provision()
            self.durability[label] = backend.durability()
            data: dict[str, Any] = {}
            loaded: dict[str, int] = {}
            for index, level in enumerate(self.options.scales):
                scale = scale_name(level)
                started = time.monotonic()
                counts = loaders.load_to(
                    backend, fixture, level, loaded, data, self.scenarios, self.options.shared
                )
                if counts:
                    print(f"   loaded {counts} in {time.monotonic() - started:.0f}s", flush=True)
                log = backend.workdir / f"server-{scale}.log"
                server, base = start_server(backend.server_env(), workers, log, REPO)
                minimal: tuple[Process, str] | None = None
                try:
                    if any(s.kind in MINIMAL_SPECS for s in self.scenarios):
                        # Beside Waybill, on the same database: idle while the other is measured.
                        minimal = start_minimal(
                            backend.minimal_app,
                            backend.minimal_config(fixture),
                            backend.minimal_workers(workers),
                            backend.workdir / f"minimal-{scale}.log",
                            REPO,
                        )
                    self.level(backend, label, fixture, server, base, scale, level, index == 0, data, minimal)
                finally:
                    self.memory.append({"backend": label, "scale": scale, **memory_mib(server.pid)})
                    server.stop()
                    if minimal is not None:
                        minimal[0].stop()
        finally:
            backend.drop()

    def level(
        self,
        backend: Backend,
        label: str,
        fixture: Any,
        server: Process,
        base: str,
        scale: str,
        records: int,
        first: bool,
        data: dict[str, Any],
        minimal: tuple[Process, str] | None = None,
    ) -> None:
        workdir = backend.workdir
        pings: dict[int, dict[str, Any]] = {}
        minimals: dict[tuple[str, int], dict[str, Any] | None] = {}
        raw_ok = True
        with httpx.Client(base_url=base, timeout=60) as client:
            ctx = Context(
                base=base,
                backend=backend,
                fixture=fixture,
                client=client,
                workdir=workdir,
                shared=self.options.shared,
                data=data,
            )
            for scenario in self.scenarios:
                if not (first or scenario.at_scale):
                    continue
                title = scenario.title
                print(f"   {scale:>4} {title} ...", end="", flush=True)
                try:
                    spec = scenario.build(ctx)
                    single = self.probe(client, spec, ctx.rng)
                    if scenario.connections not in pings:
                        m = self.measure(
                            base,
                            PING,
                            f"ping-c{scenario.connections}",
                            scenario.connections,
                            workdir,
                            0,
                            server,
                        )
                        if m.non_2xx:
                            # A refused no-op (e.g. rate-limited) is no ceiling: every ratio would lie.
                            raise RuntimeError(f"the no-op endpoint answered {m.non_2xx} non-2xx responses")
                        pings[scenario.connections] = {
                            "name": "ping",
                            "scenario": f"no-op, {scenario.connections} conns",
                            **m.as_dict(),
                        }
                        self.ceilings.append(
                            {"backend": label, "scale": scale, **pings[scenario.connections]}
                        )
                    m = self.measure(base, spec, scenario.key, scenario.connections, workdir, single, server)
                    server.check_alive()
                    if minimal is not None and (scenario.kind, scenario.connections) not in minimals:
                        minimals[(scenario.kind, scenario.connections)] = self.minimal_ceiling(
                            ctx, scenario, minimal, label, scale
                        )
                except Exception as error:
                    print(f" FAILED: {error}", flush=True)
                    self.failures.append(f"{label} {scale} {scenario.key}: {error}")
                    continue
                raw = None
                if scenario.raw and raw_ok:
                    try:
                        variables = {
                            "org_id": fixture.org_id,
                            "repo_id": fixture.repo_id,
                            "pool": max(data.get("deployment_records", 0), 1),
                            "nonce": self.nonce,
                        }
                        seconds = self.options.duration_s
                        figures = backend.raw_write(scenario.raw, variables, scenario.connections, seconds)
                        raw = {"name": "raw_db", "scenario": scenario.key, **figures}
                        self.ceilings.append({"backend": label, "scale": scale, **raw})
                    except Exception as error:
                        self.failures.append(f"{label} {scale} raw {scenario.key}: {error}")
                prism = (
                    self.prism_ceiling(scenario, spec, workdir)
                    if first
                    else self.prism_cache.get(scenario.key)
                )
                row: dict[str, Any] = {
                    "backend": label,
                    "scale": scale,
                    "scale_records": records if scenario.at_scale and len(self.options.scales) > 1 else None,
                    "scenario": scenario.key,
                    "title": title,
                    "kind": scenario.kind,
                    "connections": scenario.connections,
                    **m.as_dict(),
                }
                lowest = minimals.get((scenario.kind, scenario.connections))
                if lowest is not None:
                    row["minimal_same_operation"] = scenario.key in MINIMAL_SAME
                report.attach_ratios(
                    row,
                    {"minimal": lowest, "ping": pings[scenario.connections], "raw_db": raw, "prism": prism},
                )
                self.rows.append(row)
                print(
                    f" {m.rps:,.0f} req/s, p99 {m.p99_ms:.1f} ms"
                    + (f", {m.non_2xx} non-2xx" if m.non_2xx else ""),
                    flush=True,
                )

    def execute(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        self.durability: dict[str, dict[str, str]] = {}
        try:
            for workers in self.options.workers:
                self.current_workers = workers
                for backend in backends(self.options.backends):
                    try:
                        self.backend(backend, workers)
                    except Exception as error:  # the other backend's figures are still worth having
                        print(f"   FAILED: {error!r}", flush=True)
                        self.failures.append(f"{backend.name}: {error!r}")
        finally:
            for process, _ in self.prism.values():
                process.stop()
        report.evaluate(self.rows, {s.key: s.targets for s in self.scenarios})
        return {
            "started_at": started.isoformat(timespec="seconds"),
            "seconds": round((datetime.now(UTC) - started).total_seconds()),
            "commit": commit(),
            "machine": machine(),
            "quick": self.options.quick,
            "duration_s": self.options.duration_s,
            "warmup_s": self.options.warmup_s,
            "workers": ",".join(map(str, self.options.workers)),
            "scales": [scale_name(s) for s in self.options.scales],
            "base_scale": scale_name(self.options.scales[0]),
            "durability": self.durability,
            "rows": self.rows,
            "ceilings": self.ceilings,
            "growth": report.growth(self.rows),
            "memory": self.memory,
            "not_landed": self.skipped,
            "failures": self.failures,
        }


def run(options: Options) -> int:
    if not (options.shared / "spec").is_dir():
        print(
            f"{options.shared} holds no spec/: set WAYBILL_SHARED_DIR to the shared data folder"
            " (GitHub's descriptions for Prism, the attestation fixture)",
            file=sys.stderr,
        )
        return 2
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    bench = Run(options)
    if bench.skipped:
        print("not measured (their routes have not landed): " + ", ".join(bench.skipped))
    result = bench.execute()
    print()
    print(report.table(result))
    report.write_json(result, options.out / "latest.json")
    report.chart(result, options.out / "latest.png")
    print(
        f"\nwrote {options.out / 'latest.json'} and {options.out / 'latest.png'}"
        f" ({result['seconds']} s in all)"
    )
    if result["failures"]:
        print("\nfailures:\n  " + "\n  ".join(result["failures"]))
        return 1
    return 0
