"""Large SBOM import: a generated CycloneDX document of 250,000 components (about 256 MB) imported
through the command line and over HTTP, on SQLite and PostgreSQL, each into a fresh database.

    python -m bench.sbom_import [--components 250000] [--document PATH] [--backends sqlite,postgresql]
                                [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Prints, for each way and database, the wall time and the peak resident memory of the process doing
the import: ``waybill sbom import`` as a whole (under ``/usr/bin/time -v`` when it is there), and the
``waybill serve`` process for HTTP (its VmHWM, read before it stops), with the client's request time.
Targets: under 30 s and under 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import sbom_generate
from bench.scratch import scratch_settings
from waybill.config import Settings

SHA = "5" * 40
TARGET_SECONDS = 30.0
TARGET_BYTES = 1.5 * 1024**3


@dataclass(frozen=True)
class Figure:
    way: str
    backend: str
    seconds: float
    peak_rss: int  # bytes
    summary: str


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["WAYBILL_DATA_DIR"] = str(settings.data_dir)
    env["WAYBILL_DATABASE_URL"] = settings.database_url
    env["WAYBILL_RATE_LIMIT"] = "false"
    return env


def _waybill() -> str:
    return str(Path(sys.executable).with_name("waybill"))


def _provision(env: dict[str, str]) -> str:
    """User ``bench`` with a repository ``bench/app``; a classic repo token of it."""
    run = [_waybill()]
    subprocess.run([*run, "users", "create", "bench"], env=env, check=True, capture_output=True)
    subprocess.run([*run, "repos", "create", "bench/app"], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [*run, "tokens", "create", "bench", "--scopes", "repo"], env=env, check=True, capture_output=True
    )
    return made.stdout.decode().strip()


def cli(document: Path, backend: str, settings: Settings) -> Figure:
    env = _env(settings)
    _provision(env)
    command = [_waybill(), "sbom", "import", "bench/app", str(document), "--sha", SHA]
    timed = Path("/usr/bin/time").exists()
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command] if timed else command, env=env, capture_output=True, check=False
    )
    seconds = time.perf_counter() - started
    stderr = done.stderr.decode()
    if done.returncode != 0:
        raise RuntimeError(f"waybill sbom import failed: {stderr[-2000:]}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    peak = (
        int(found.group(1)) * 1024 if found else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    )
    return Figure("CLI", backend, seconds, peak, done.stdout.decode().strip())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen(
        [_waybill(), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/waybill/ping", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("waybill serve did not start")
        yield server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def _peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def http(document: Path, backend: str, settings: Settings) -> Figure:
    env = _env(settings)
    token = _provision(env)
    port = _free_port()
    with _server(env, port) as server, document.open("rb") as body:
        url = f"http://127.0.0.1:{port}/waybill/repos/bench/app/dependency-graph/sbom-import?sha={SHA}"
        started = time.perf_counter()
        r = httpx.post(url, content=body, headers={"Authorization": f"Bearer {token}"}, timeout=600)
        seconds = time.perf_counter() - started
        peak = _peak_rss(server.pid)
    if r.status_code != 201:
        raise RuntimeError(f"HTTP import answered {r.status_code}: {r.text[:2000]}")
    return Figure("HTTP", backend, seconds, peak, r.json()["message"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--components", type=int, default=250_000)
    parser.add_argument("--document", type=Path, help="a document to import instead of a generated one")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        document = args.document
        if document is None:
            document = Path(tmp) / "bom.cdx.json"
            with document.open("wb", buffering=1 << 20) as out:
                sbom_generate.write(out, args.components)
        size = document.stat().st_size
        print(f"document: {document.name}, {size / 2**20:.1f} MiB")
        figures = []
        for backend in args.backends.split(","):
            for way in (cli, http):
                with scratch_settings("" if backend == "sqlite" else args.database_url) as settings:
                    figure = way(document, backend, settings)
                figures.append(figure)
                print(f"  {figure.way} {figure.backend}: {figure.summary}")
    print()
    print(f"{'way':<6}{'database':<12}{'wall s':>8}{'peak RSS MiB':>14}  target (< 30 s, < 1.5 GiB)")
    for f in figures:
        met = "met" if f.seconds < TARGET_SECONDS and f.peak_rss < TARGET_BYTES else "MISSED"
        print(f"{f.way:<6}{f.backend:<12}{f.seconds:>8.1f}{f.peak_rss / 2**20:>14.0f}  {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
