"""SQLite under faults: another process holding the write lock, and a full disk (a small tmpfs).
Writes answer 503 or 507 with Retry-After, never 500; reads go on; nothing is corrupted; writes work
again once the fault is gone."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.harness import Harness, running
from waybill.config import Settings

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def _world(api: Harness) -> tuple[str, str]:
    await api.user("alice")
    await api.org("acme", owner="alice")
    await api.repo("acme/web")
    return await api.token("alice"), "acme"


def _record(digest: str) -> dict[str, str]:
    return {
        "name": "web-image",
        "digest": digest,
        "registry_url": "https://registry.example.com",
        "github_repository": "web",
    }


def _digest() -> str:
    return f"sha256:{uuid.uuid4().hex}{uuid.uuid4().hex}"


async def _write(api: Harness, token: str, org: str, digest: str) -> int:
    r = await api.post(f"/orgs/{org}/artifacts/metadata/storage-record", json=_record(digest), token=token)
    assert r.status_code in (200, 503, 507), r.text
    if r.status_code != 200:
        assert r.headers["Retry-After"]
    return r.status_code


async def _stored(api: Harness, token: str, org: str, digest: str) -> bool:
    r = await api.get(f"/orgs/{org}/artifacts/{digest}/metadata/storage-records", token=token)
    assert r.status_code == 200, r.text
    return bool(r.json()["total_count"])


def _hold_write_lock(database: Path) -> subprocess.Popen[str]:
    """Another process that takes SQLite's write lock and keeps it (until killed)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


async def test_database_locked_by_another_process_answers_503(settings: Settings) -> None:
    async with running(settings, "sqlite") as api:
        token, org = await _world(api)
        before = _digest()
        assert await _write(api, token, org, before) == 200
        holder = _hold_write_lock(settings.data_dir / "waybill.db")
        try:
            refused = _digest()
            started = time.monotonic()
            assert await _write(api, token, org, refused) == 503
            # SQLite's busy timeout waited for the lock first.
            assert time.monotonic() - started >= 5
            # Readers are not blocked by a writer (WAL).
            assert await _stored(api, token, org, before)
        finally:
            holder.kill()
            holder.wait()
        assert not await _stored(api, token, org, refused)
        after = _digest()
        assert await _write(api, token, org, after) == 200
        assert await _stored(api, token, org, after)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs mounted for the test, unmounted after."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        reason = f"cannot mount a small tmpfs here (needs root): {done.stderr.strip() or done.returncode}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """A file taking every free byte of ``disk``."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


async def test_full_disk_refuses_writes_keeps_reads_and_recovers(
    settings: Settings, small_disk: Path
) -> None:
    (small_disk / "waybill.db").write_bytes((settings.data_dir / "waybill.db").read_bytes())
    on_disk = replace(settings, data_dir=small_disk)
    async with running(on_disk, "sqlite") as api:
        token, org = await _world(api)
        acknowledged = [_digest() for _ in range(3)]
        for digest in acknowledged:
            assert await _write(api, token, org, digest) == 200
        filler = _fill(small_disk)
        refused: list[int] = []
        # The WAL may still have room for a few writes: write until the disk says no.
        for _ in range(500):
            digest = _digest()
            status = await _write(api, token, org, digest)
            if status == 200:
                acknowledged.append(digest)
            else:
                refused.append(status)
                break
        assert refused == [507], refused
        # Reads keep working, and every acknowledged write is there.
        for digest in acknowledged:
            assert await _stored(api, token, org, digest)
        assert (await api.get("/user", token=token)).status_code == 200

        filler.unlink()
        again = _digest()
        assert await _write(api, token, org, again) == 200
        assert await _stored(api, token, org, again)
    with sqlite3.connect(small_disk / "waybill.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
