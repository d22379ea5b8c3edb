"""Slow, stalled and greedy clients against a real ``waybill serve`` over real sockets: a request
whose headers or body stall is answered 408 and its connection closed, a hundred stalled clients do
not keep a normal one from being served, and one address cannot hold more connections than allowed.

Loopback answers on all of 127.0.0.0/8, so each kind of client here has an address of its own."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.live import LiveServer, live_server, storage_record

HEADER_TIMEOUT = 6
BODY_TIMEOUT = 6
PER_ADDRESS = 120
STALLED = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "WAYBILL_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "WAYBILL_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "WAYBILL_MAX_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS),
    }
    with live_server("sqlite", tmp_path_factory.mktemp("slow"), through=lambda _: settings) as live:
        yield live


def _connect(server: LiveServer, source: str) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(30)
    sock.connect((host, int(port)))
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _stalled_body(server: LiveServer, source: str) -> socket.socket:
    sock = _connect(server, source)
    sock.sendall(
        b"POST /orgs/acme/artifacts/metadata/storage-record HTTP/1.1\r\nHost: waybill\r\n"
        + f"Authorization: Bearer {server.world.owner_token}\r\n".encode()
        + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        + b'{"name": "half'
    )
    return sock


def test_a_stalled_body_is_answered_408_and_its_connection_closed(server: LiveServer) -> None:
    sock = _stalled_body(server, "127.0.0.5")
    with sock:
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert b'"message":"Request Timeout"' in answer


def test_stalled_headers_are_answered_408_and_silent_connections_closed(server: LiveServer) -> None:
    with _connect(server, "127.0.0.6") as partial, _connect(server, "127.0.0.6") as silent:
        partial.sendall(b"GET /waybill/healthz HTTP/1.1\r\nHost: waybill\r\nX-Half: ")
        assert _read_all(partial).startswith(b"HTTP/1.1 408 ")
        assert _read_all(silent) == b""


def test_a_hundred_stalled_clients_do_not_keep_a_normal_one_waiting(server: LiveServer) -> None:
    stalled = []
    for i in range(STALLED):
        if i % 2:
            stalled.append(_stalled_body(server, "127.0.0.2"))
        else:
            sock = _connect(server, "127.0.0.2")
            sock.sendall(b"GET /user HTTP/1.1\r\nHost: waybill\r\nAuthorization: Bearer ")
            stalled.append(sock)
    try:
        # A normal client, reading and writing, while every one of them is stalled.
        user = server.get("/user")
        assert user.status_code == 200, user.text
        record = server.post(
            f"/orgs/{server.world.org}/artifacts/metadata/storage-record",
            storage_record(server.world, "sha256:" + "ab" * 32),
        )
        assert record.status_code == 200, record.text
        # They were all still held, unanswered, when it was served; then each was answered 408.
        for sock in stalled:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
            sock.setblocking(True)
        for sock in stalled:
            assert _read_all(sock).startswith(b"HTTP/1.1 408 ")
    finally:
        for sock in stalled:
            sock.close()


def test_one_address_cannot_hold_more_connections_than_the_limit(server: LiveServer) -> None:
    held = [_connect(server, "127.0.0.3") for _ in range(PER_ADDRESS)]
    try:
        for sock in held:
            sock.sendall(b"GET /waybill/healthz HTTP/1.1\r\nHost: waybill\r\n")  # headers unfinished
        with _connect(server, "127.0.0.3") as extra:
            extra.sendall(b"GET /waybill/healthz HTTP/1.1\r\nHost: waybill\r\n\r\n")
            refused = _read_all(extra)
        assert refused.startswith(b"HTTP/1.1 429 "), refused
        assert b"retry-after: 1" in refused.lower()
        assert b"Too many connections from this address" in refused
        # Another address is served meanwhile.
        with _connect(server, "127.0.0.4") as other:
            other.sendall(b"GET /waybill/healthz HTTP/1.1\r\nHost: waybill\r\nConnection: close\r\n\r\n")
            assert _read_all(other).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in held:
            sock.close()
    # Once they are gone, the address is served again.
    deadline = time.monotonic() + 10
    while True:
        with _connect(server, "127.0.0.3") as again:
            again.sendall(b"GET /waybill/healthz HTTP/1.1\r\nHost: waybill\r\nConnection: close\r\n\r\n")
            if _read_all(again).startswith(b"HTTP/1.1 200 "):
                break
        assert time.monotonic() < deadline, "the address stayed refused after its connections closed"
        time.sleep(0.2)
