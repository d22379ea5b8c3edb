"""``waybill serve`` as an operator runs it: HTTPS, JSON logs with the access log, a metrics port,
and several workers on PostgreSQL (Prometheus' multiprocess mode)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.certificates import self_signed
from tests.live import free_port
from waybill.config import Settings


def _wait_ready(client: httpx.Client, url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.2)


def test_https_json_logs_without_tokens_and_a_metrics_port(settings: Settings, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "127.0.0.1")
    port, metrics_port = free_port(), free_port()
    workers = "2" if settings.database_url else "1"
    env = {
        **os.environ,
        "WAYBILL_DATA_DIR": str(tmp_path / "data"),
        "WAYBILL_DATABASE_URL": settings.database_url,
        "WAYBILL_LOG_FORMAT": "json",
        "WAYBILL_ACCESS_LOG": "true",
        "WAYBILL_METRICS_PORT": str(metrics_port),
        "WAYBILL_TLS_CERT": str(cert),
        "WAYBILL_TLS_KEY": str(key),
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "waybill", "serve", "--port", str(port), "--workers", workers],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    tokens: list[str] = []
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("Created site administrator 'admin'.")
        tokens.append(server.stdout.readline().strip())
        base = f"https://127.0.0.1:{port}"
        with httpx.Client(verify=ssl.create_default_context(cafile=cert), timeout=10) as client:
            _wait_ready(client, f"{base}/waybill/readyz", server)
            created = subprocess.run(
                [sys.executable, "-m", "waybill", "tokens", "create", "admin", "--scopes", "repo"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            tokens.append(created.stdout.strip())
            for token in tokens:
                for _ in range(5):
                    response = client.get(f"{base}/user", headers={"Authorization": f"token {token}"})
                    assert response.status_code == 200
                    assert response.json()["login"] == "admin"
            # A token that is wrong is not logged either.
            tokens.append("wbp_" + "x" * 36)
            assert (
                client.get(f"{base}/user", headers={"Authorization": f"token {tokens[-1]}"}).status_code
                == 401
            )
            assert client.get(f"{base}/metrics").status_code == 404
            scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
            assert scraped.status_code == 200
            served = sum(
                sample.value
                for family in text_string_to_metric_families(scraped.text)
                for sample in family.samples
                if sample.name == "waybill_http_requests_total"
                and sample.labels == {"route": "/user", "method": "GET", "status": "200"}
            )
            assert served == 10
    finally:
        server.terminate()
        server.wait(timeout=20)
    text = log_path.read_text()
    for token in tokens:
        assert token.startswith("wbp_")
        assert token not in text
        assert token[4:] not in text
    lines = [json.loads(line) for line in text.splitlines()]
    access = [line for line in lines if line.get("route") == "/user"]
    assert len(access) == 11
    assert {line["status"] for line in access} == {200, 401}
    for line in access:
        assert {"time", "level", "request_id", "route", "status", "duration_ms"} <= line.keys()
        assert len(line["request_id"].split(":")) == 5
