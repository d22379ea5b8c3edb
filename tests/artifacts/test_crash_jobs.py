"""A cluster job that was running when every server process was killed with -9 is finished by the
restarted server at once, not when its lease would have run out."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.artifacts.test_crash import _deployment, _process_tree
from tests.attestations.bundles import random_digest
from tests.live import LiveServer, free_port, live_server, start_process, wait_until_up

ENTRIES = 5000


def _restart(server: LiveServer, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    database = "" if server.backend == "sqlite" else server.database
    process = start_process(data_dir, database, port, {"WAYBILL_RATE_LIMIT": "0"})
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process, data_dir / "server.log")
    return process, url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_job_killed_mid_run_completes_promptly_after_restart(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgresql":
        request.getfixturevalue("postgres_database")
    data_dir = tmp_path / "server"
    with live_server(backend, data_dir) as server:
        path = f"/orgs/{server.world.org}/artifacts/metadata/deployment-record/cluster/crash/jobs"
        body = {
            "logical_environment": "production",
            "deployments": [_deployment(server, f"d{i}", random_digest()) for i in range(ENTRIES)],
        }
        created = server.post(path, body)
        assert created.status_code == 202, created.text
        status_path = f"{path}/{created.json()['job_id']}"
        while (status := server.get(status_path).json()["status"]) == "pending":
            time.sleep(0.01)
        assert status == "processing", "the job finished before the server could be killed"
        for pid in _process_tree(server.pid):
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        process, url = _restart(server, data_dir)
        try:
            up = time.monotonic()
            headers = {"Authorization": f"Bearer {server.world.owner_token}"}
            while (done := httpx.get(url + status_path, headers=headers, timeout=30).json())[
                "status"
            ] != "completed":
                assert done["status"] == "processing" or done["status"] == "pending", done
                assert time.monotonic() - up < 60, "the job is still not completed a minute after the restart"
                time.sleep(0.1)
            print(
                f"\n{backend}: restarted server answered {up - killed:.1f} s after the kill, "
                f"the job completed {time.monotonic() - up:.1f} s later"
            )
            assert done["total_count"] == ENTRIES
        finally:
            process.terminate()
            process.wait(timeout=15)
