"""The processes a run starts: the server (``waybill serve``) and the peer (Prism), each in its own
process group, stopped by that group's id; plus the memory figures of a process tree."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PRISM = BENCH_DIR / "node_modules" / ".bin" / "prism"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the parent id follows the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    tree = _children()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mib(pid: int) -> dict[str, float]:
    """``rss``: the tree's resident memory now; ``peak``: the sum of each process's own peak (VmHWM)."""
    pids = process_tree(pid)
    return {
        "rss": round(sum(_status_kib(p, "VmRSS") for p in pids) / 1024, 1),
        "peak": round(sum(_status_kib(p, "VmHWM") for p in pids) / 1024, 1),
        "processes": len(pids),
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU time used so far by the process tree (its live processes)."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class Process:
    def __init__(
        self, name: str, command: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log.open("wb")
        self.popen = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")

    def stop(self, grace_s: float = 20) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(grace_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
            except ProcessLookupError:
                pass
        self._log_file.close()


def wait_http(url: str, process: Process, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        process.check_alive()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
                if response.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout_s:.0f}s (log: {process.log})")


def wait_port(port: int, process: Process, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        process.check_alive()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(
        f"{process.name} did not listen on {port} within {timeout_s:.0f}s (log: {process.log})"
    )


def start_server(env: Mapping[str, str], workers: int, log: Path, cwd: Path) -> tuple[Process, str]:
    """``waybill serve`` as a real process with the given settings; its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "waybill", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = Process("waybill serve", [*command, "--workers", str(workers)], env, log, cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/waybill/ping", server)
    except Exception:
        server.stop()
        raise
    return server, base


def start_minimal(
    database: str, config: Mapping[str, Any], workers: int, log: Path, cwd: Path
) -> tuple[Process, str]:
    """The minimal same-stack app for ``database`` (``sqlite`` or ``postgres``) under uvicorn, as
    Waybill runs, minus its access log: the ceiling is the stack, not the log."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", f"bench.minimal_{database}:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--no-access-log", "--no-server-header",
        "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_MINIMAL": json.dumps(dict(config)), "PYTHONPATH": str(cwd)}
    server = Process(f"minimal {database}", command, env, log, cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/", server)  # its 404 means the app is up
    except Exception:
        server.stop()
        raise
    return server, base


def start_prism(spec: Path, log: Path) -> tuple[Process, str]:
    if not spec.is_file():
        raise RuntimeError(f"{spec} is missing: set WAYBILL_SHARED_DIR to the shared data folder")
    if not PRISM.exists():
        raise RuntimeError(f"{PRISM} is missing: run `npm ci` in bench/ (make bench does)")
    port = free_port()
    command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)]
    prism = Process("prism", command, os.environ, log, BENCH_DIR)
    try:
        wait_port(port, prism)
    except Exception:
        prism.stop()
        raise
    return prism, f"http://127.0.0.1:{port}"
