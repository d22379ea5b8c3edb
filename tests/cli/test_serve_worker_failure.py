"""A worker process of ``waybill serve --workers 2`` that cannot start says why in the log, and the
server stops instead of starting it again in a loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.live import free_port


def test_a_worker_that_cannot_start_names_the_cause(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-roots"
    env = {
        **os.environ,
        "WAYBILL_DATA_DIR": str(tmp_path / "data"),
        "WAYBILL_DATABASE_URL": "",
        # Read by each worker as it builds the application, not by the supervisor.
        "WAYBILL_TRUST_ROOTS": str(missing),
    }
    command = [sys.executable, "-m", "waybill", "serve", "--port", str(free_port()), "--workers", "2"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)
    log = done.stdout + done.stderr
    assert "could not start" in log, log
    assert str(missing) in log, log
    assert "failed to start, stopping the parent process" in log, log
    assert "died" not in log, log
