"""``waybill serve --workers 2`` comes up on a busy machine: its workers import Waybill while CPU hogs
keep every core busy, and none of them is killed for answering its health check late."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HOGS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_workers_start_while_cpu_hogs_run(tmp_path: Path) -> None:
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(HOGS)]
    log = tmp_path / "serve.log"
    env = {**os.environ, "WAYBILL_DATA_DIR": str(tmp_path / "data"), "WAYBILL_DATABASE_URL": ""}
    try:
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "waybill", "serve", "--port", str(_free_port()), "--workers", "2"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            started = time.monotonic()
            while log.read_text().count("Application startup complete") < 2:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() - started < 300, log.read_text()
                time.sleep(0.5)
            print(f"\nboth workers up after {time.monotonic() - started:.1f} s beside {HOGS} CPU hogs")
            text = log.read_text()
            assert "died" not in text, text
            assert "WAYBILL_WORKER_START_TIMEOUT" in text
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
