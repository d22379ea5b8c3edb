"""A rolling restart: two servers on one PostgreSQL database stand for two hosts behind a load
balancer, and each in turn is taken out of the balancer, told to stop (SIGTERM) while a slow request
is in flight on it, and started again. The slow request finishes, the server exits 0, and no request
of the clients writing and reading through the balancer fails. A request whose headers are still
arriving when a server is told to stop is answered too."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.artifacts.test_crash import _deployment
from tests.attestations.bundles import random_digest
from tests.live import LiveServer, free_port, live_server, start_process, storage_record, wait_until_up

CLIENTS = 4


class Balancer:
    """Round robin over the servers in rotation. It opens a connection per request, as nginx does to
    its upstreams by default, and sends a request whose connection was refused to the next server."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = list(urls)
        self.active = list(urls)
        self.turn = 0
        self.lock = threading.Lock()

    def drain(self, url: str) -> None:
        with self.lock:
            self.active.remove(url)

    def restore(self, url: str) -> None:
        with self.lock:
            self.active.append(url)

    def send(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
        for _ in range(len(self.urls)):
            with self.lock:
                self.turn += 1
                url = self.active[self.turn % len(self.active)]
            try:
                return httpx.request(method, url + path, headers=headers, json=body, timeout=60)
            except httpx.ConnectError:
                continue
        raise RuntimeError("no server accepted the connection")


def _clients(server: LiveServer, balancer: Balancer, stop: threading.Event, outcomes: list[Any]) -> None:
    headers = {"Authorization": f"Bearer {server.world.owner_token}"}
    records = f"/orgs/{server.world.org}/artifacts/metadata/storage-record"
    while not stop.is_set():
        digest = f"sha256:{uuid.uuid4().hex}{uuid.uuid4().hex}"
        try:
            wrote = balancer.send("POST", records, headers, storage_record(server.world, digest))
            read = balancer.send(
                "GET", f"/orgs/{server.world.org}/artifacts/{digest}/metadata/storage-records", headers
            )
            outcomes.append((wrote.status_code, read.status_code, read.json().get("total_count"), digest))
        except Exception as exc:
            outcomes.append((type(exc).__name__, str(exc), None, digest))


def _slow_cluster_set(
    server: LiveServer, url: str, cluster: str, answers: list[int], sending: threading.Event
) -> None:
    """A cluster set whose body takes 1.5 s to arrive; ``sending`` is set once its headers and the
    first part of its body are sent: it is then in flight on the server."""
    body = json.dumps(
        {
            "logical_environment": "production",
            "deployments": [_deployment(server, f"{cluster}-{i}", random_digest()) for i in range(1000)],
        }
    ).encode()

    def trickle() -> Iterator[bytes]:
        for n, start in enumerate(range(0, len(body), len(body) // 10 + 1)):
            if n == 2:
                sending.set()
            time.sleep(0.15)
            yield body[start : start + len(body) // 10 + 1]

    path = f"/orgs/{server.world.org}/artifacts/metadata/deployment-record/cluster/{cluster}"
    headers = {"Authorization": f"Bearer {server.world.owner_token}", "Content-Type": "application/json"}
    answers.append(httpx.post(url + path, headers=headers, content=trickle(), timeout=120).status_code)


def _accepted(pid: int, port: int) -> bool:
    """Whether the server process has accepted every connection made to its port, and there is one.
    A connection still in the listen backlog when the server is told to stop was never taken: the
    kernel resets it."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            held.add(target[len("socket:[") : -1])
    return bool(established) and established <= held


def _stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60), time.monotonic() - started


def test_a_rolling_restart_fails_no_request(tmp_path: Path) -> None:
    with live_server("postgresql", tmp_path / "seed") as seeded:
        hosts = {}
        for name in ("a", "b"):
            port = free_port()
            data_dir = tmp_path / name
            data_dir.mkdir()
            url = f"http://127.0.0.1:{port}"
            hosts[url] = (
                data_dir,
                port,
                start_process(data_dir, seeded.database, port, {"WAYBILL_RATE_LIMIT": "0"}),
            )
        for url, (data_dir, _, process) in hosts.items():
            wait_until_up(url, process, data_dir / "server.log")
        balancer = Balancer(list(hosts))
        stop = threading.Event()
        outcomes: list[Any] = []
        clients = [
            threading.Thread(target=_clients, args=(seeded, balancer, stop, outcomes)) for _ in range(CLIENTS)
        ]
        for thread in clients:
            thread.start()
        try:
            for n, url in enumerate(list(hosts)):
                data_dir, port, process = hosts[url]
                time.sleep(1)
                balancer.drain(url)
                answers: list[int] = []
                sending = threading.Event()
                slow = threading.Thread(
                    target=_slow_cluster_set, args=(seeded, url, f"restart-{n}", answers, sending)
                )
                slow.start()
                assert sending.wait(30)
                deadline = time.monotonic() + 30
                while not _accepted(process.pid, port):
                    assert time.monotonic() < deadline, "the server never accepted the slow request"
                    time.sleep(0.05)
                code, took = _stop(process)
                slow.join()
                assert code == 0, (data_dir / "server.log").read_text()[-3000:]
                # The request in flight when the server was told to stop was answered, not dropped.
                assert answers == [200], answers
                assert took < 30, took
                restarted = start_process(data_dir, seeded.database, port, {"WAYBILL_RATE_LIMIT": "0"})
                wait_until_up(url, restarted, data_dir / "server.log")
                hosts[url] = (data_dir, port, restarted)
                balancer.restore(url)
            time.sleep(1)
        finally:
            stop.set()
            for thread in clients:
                thread.join()
            for _, _, process in hosts.values():
                process.terminate()
                process.wait(timeout=30)

        kinds = Counter((o[0], o[1]) for o in outcomes)
        print("outcomes:", dict(kinds))
        assert len(outcomes) > 20, kinds
        # Every write answered 200 and was read back at once through whichever server came next.
        assert all(o[:3] == (200, 200, 1) for o in outcomes), kinds
        for data_dir, _, _ in hosts.values():
            assert "Traceback" not in (data_dir / "server.log").read_text()


def test_a_request_half_sent_when_the_server_is_told_to_stop_is_answered(tmp_path: Path) -> None:
    with live_server("sqlite", tmp_path) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"GET /waybill/healthz HTTP/1.1\r\nHost: waybill\r\n")
            # The server reads the first half (one idle connection: at once), then is told to stop.
            time.sleep(0.5)
            os.kill(server.pid, signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(b"Accept: application/json\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        # Answered, then closed: the stopping server takes no further request on it.
        assert b"connection: close" in answer.lower(), answer
