"""The quick start for real: ``waybill serve`` on an empty database prints a token that works."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from waybill.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_first_start_creates_an_admin_whose_token_works(settings: Settings, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "WAYBILL_DATA_DIR": str(tmp_path / "data"),
        "WAYBILL_DATABASE_URL": settings.database_url,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "waybill", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert (
            server.stdout.readline()
            == "Created site administrator 'admin'. Its token, shown only this once:\n"
        )
        token = server.stdout.readline().strip()
        assert token.startswith("wbp_")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/user", headers={"Authorization": f"token {token}"}
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(request) as response:  # noqa: S310 (a local URL)
                    body = json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert body["login"] == "admin"
        assert body["site_admin"] is True
    finally:
        server.terminate()
        server.wait(timeout=10)
    if not settings.database_url:
        assert (tmp_path / "data" / "waybill.db").exists()
