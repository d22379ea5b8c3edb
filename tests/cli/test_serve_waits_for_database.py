"""``waybill serve`` started while PostgreSQL cannot be reached says so, tries again, and serves
once the database answers (here: once a relay to it starts listening on the configured port)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from sqlalchemy.engine import make_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _relay(listen: int, host: str, port: int, stop: threading.Event) -> None:
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", listen)
        async with server:
            # The stop comes from the test's thread: wait for it off the event loop.
            await asyncio.to_thread(stop.wait)

    asyncio.run(main())


def test_serve_retries_until_postgresql_answers(postgres_database: str, tmp_path: Path) -> None:
    real = make_url(postgres_database)
    relay_port = _free_port()
    url = real.set(host="127.0.0.1", port=relay_port).render_as_string(hide_password=False)
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "WAYBILL_DATA_DIR": str(tmp_path / "data"), "WAYBILL_DATABASE_URL": url}
    stop = threading.Event()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "waybill", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    relay = threading.Thread(target=_relay, args=(relay_port, real.host, real.port or 5432, stop))
    try:
        deadline = time.monotonic() + 120
        while "the database does not answer" not in log.read_text():
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        relay.start()
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        assert "Traceback" not in log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
        stop.set()
        if relay.is_alive():
            relay.join(timeout=5)
