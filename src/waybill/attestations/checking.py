"""Verification off the event loop: a pool of processes, one per core, each keeping the trust roots it
was last asked for.

A verification costs 5-20 ms of pure CPU (X.509 path building, signature and timestamp checks), most
of it under the GIL: threads would keep the loop responsive but share one core, so uploads would still
queue behind each other. Processes verify in parallel and leave the server's loop free.

Trust roots are named by a ``RootsRef``: the configured path and a fingerprint of the files there, so
that a root added to or removed from the operator's directory is picked up by the next verification
(and by the re-verification job) without a restart, and a worker never verifies with stale roots.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from waybill.attestations.verification import TrustRoots, Verdict, verify
from waybill.ops.metrics import VERIFICATIONS

# Each worker keeps the roots of this many fingerprints (a deployment has one; tests have several).
_KEPT_ROOTS = 8


@dataclass(frozen=True)
class RootsRef:
    path: str | None
    fingerprint: str


_BUILTIN = RootsRef(None, "builtin")


def _files(path: Path) -> list[Path]:
    return sorted(path.glob("*.json")) if path.is_dir() else [path]


def _stats(path: Path) -> tuple[tuple[str, int, int], ...]:
    result = []
    for file in _files(path):
        try:
            stat = file.stat()
        except OSError:
            continue
        result.append((file.name, stat.st_mtime_ns, stat.st_size))
    return tuple(result)


_refs: dict[Path, tuple[tuple[tuple[str, int, int], ...], RootsRef]] = {}
_refs_lock = threading.Lock()


def roots_ref(path: Path | None) -> RootsRef:
    """The configured roots as they are now on disk (``WAYBILL_TRUST_ROOTS``; None: shipped only)."""
    if path is None:
        return _BUILTIN
    stats = _stats(path)
    with _refs_lock:
        known = _refs.get(path)
        if known is not None and known[0] == stats:
            return known[1]
    digest = hashlib.sha256()
    for file in _files(path):
        try:
            content = file.read_bytes()
        except OSError:
            continue
        digest.update(f"{file.name}\0{len(content)}\0".encode())
        digest.update(content)
    ref = RootsRef(str(path), digest.hexdigest())
    with _refs_lock:
        _refs[path] = (stats, ref)
    return ref


# In the worker processes.

_loaded: OrderedDict[RootsRef, TrustRoots] = OrderedDict()


def _roots(ref: RootsRef) -> TrustRoots:
    roots = _loaded.get(ref)
    if roots is None:
        roots = TrustRoots.configured(None if ref.path is None else Path(ref.path))
        _loaded[ref] = roots
        while len(_loaded) > _KEPT_ROOTS:
            _loaded.popitem(last=False)
    else:
        _loaded.move_to_end(ref)
    return roots


def verify_all(ref: RootsRef, bundles: Sequence[bytes]) -> list[Verdict]:
    """Verify each bundle against the roots ``ref`` names (in this process)."""
    roots = _roots(ref)
    return [verify(raw, roots) for raw in bundles]


# In the server.


def _cores() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # forkserver: workers start from a clean process with the verifier already imported, not as
            # forks of a server that holds threads, sockets and an event loop.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _pool = ProcessPoolExecutor(max_workers=_cores(), mp_context=context)
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the workers, as the server stops. Each worker holds the pool's queues open, so a worker
    left running never sees its server go and would outlive it."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


async def verify_bundles(path: Path | None, bundles: Sequence[bytes]) -> list[Verdict]:
    """Verify ``bundles`` in the pool against the shipped roots and those configured at ``path``."""
    if not bundles:
        return []
    ref = roots_ref(path)
    loop = asyncio.get_running_loop()
    # One chunk per core, so that a batch (re-verification) is spread over every worker.
    size = -(-len(bundles) // _cores())
    chunks = [list(bundles[i : i + size]) for i in range(0, len(bundles), size)]
    for attempt in (1, 2):
        pool = _executor()
        try:
            results = await asyncio.gather(
                *(loop.run_in_executor(pool, verify_all, ref, chunk) for chunk in chunks)
            )
            verdicts = [verdict for chunk_verdicts in results for verdict in chunk_verdicts]
            for verdict in verdicts:
                VERIFICATIONS.labels("verified" if verdict.verified else "failed").inc()
            return verdicts
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a new pool once, then give up.
            _discard(pool)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def verify_bundle(path: Path | None, raw: bytes) -> Verdict:
    return (await verify_bundles(path, [raw]))[0]
