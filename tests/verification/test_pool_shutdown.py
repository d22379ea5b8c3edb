"""The verification workers stop with the server: ``waybill serve`` ended by SIGTERM (as a service
manager or Ctrl-C ends it) leaves no process of its own behind."""

from __future__ import annotations

import time
from pathlib import Path

from tests.attestations.bundles import random_digest
from tests.live import live_server


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_verification_workers_stop_with_the_server(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path) as server:
        # The default policy (record) verifies each upload in the worker pool.
        server.attest(f"{server.world.org}/{server.world.public_repo}", [random_digest()])
        workers = _descendants(server.pid)
        assert workers, "the upload started no verification worker"
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]
