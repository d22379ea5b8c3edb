"""``waybill serve`` as an operator runs it: HTTPS, JSON logs with the access log, a metrics port,
and several workers on PostgreSQL (Prometheus' multiprocess mode)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

from tests.live import free_port
from waybill.config import Settings


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


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
    cert, key = _self_signed(tmp_path)
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
