"""One load measurement: a request template for the wrk Lua driver, wrk run from its own process, and
its output parsed into a ``Measurement``."""

from __future__ import annotations

import base64
import json
import random
import re
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

LUA_DRIVER = Path(__file__).resolve().parent / "lua" / "driver.lua"
_MARKER = "WRK_JSON "


@dataclass(frozen=True)
class RequestSpec:
    """What the Lua driver sends; placeholders are documented in ``lua/driver.lua``."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    values: list[str] | None = None
    insert_ratio: float = 0.0
    pool: int = 1
    payload: str | None = None

    def write(self, directory: Path, name: str, nonce: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        lines = [f"method\t{self.method}", f"path\t{self.path}", f"nonce\t{nonce}"]
        lines += [f"header\t{k}\t{v}" for k, v in self.headers.items()]
        lines += [f"insert_ratio\t{self.insert_ratio}", f"pool\t{max(self.pool, 1)}"]
        if self.body is not None:
            body_file = directory / f"{name}.body"
            body_file.write_text(self.body)
            lines.append(f"body_file\t{body_file}")
        if self.payload is not None:
            payload_file = directory / f"{name}.payload"
            payload_file.write_text(self.payload)
            lines.append(f"payload_file\t{payload_file}")
        if self.values:
            values_file = directory / f"{name}.values"
            values_file.write_text("\n".join(self.values) + "\n")
            lines.append(f"values_file\t{values_file}")
        spec_file = directory / f"{name}.spec"
        spec_file.write_text("\n".join(lines) + "\n")
        return spec_file

    def render(self, rng: random.Random, nonce: str = "probe") -> tuple[str, str | None]:
        """One concrete (path, body), filled the way the Lua driver fills them: for probing."""

        def fill(text: str) -> str:
            def one(match: re.Match[str]) -> str:
                key = match.group(1)
                if key == "hex":
                    return f"{rng.getrandbits(256):064x}"
                if key == "name":
                    return f"dep-{rng.randrange(max(self.pool, 1))}"
                if key == "value":
                    return rng.choice(self.values or [""])
                if key == "payload":
                    return base64.b64encode(fill(self.payload or "").encode()).decode()
                return f"{nonce}-{rng.getrandbits(32)}"

            return re.sub(r"\{\{(\w+)\}\}", one, text)

        return fill(self.path), None if self.body is None else fill(self.body)


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: int
    non_2xx: int
    # The server's CPU time per request (all its processes), when the runner measured it.
    cpu_ms: float | None = None

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def parse_wrk(output: str) -> Measurement:
    """The figures in the driver's ``WRK_JSON`` line; wrk counts only 4xx/5xx as status errors."""
    for line in output.splitlines():
        if line.startswith(_MARKER):
            data = json.loads(line[len(_MARKER) :])
            break
    else:
        raise ValueError("wrk printed no WRK_JSON line:\n" + output[-2000:])
    seconds = data["duration_us"] / 1e6
    errors = data["errors"]
    lat = data["latency_us"]
    requests = int(data["requests"])
    return Measurement(
        requests=requests,
        seconds=round(seconds, 3),
        rps=round(requests / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=lat["p50"] / 1000,
        p90_ms=lat["p90"] / 1000,
        p99_ms=lat["p99"] / 1000,
        max_ms=lat["max"] / 1000,
        mean_ms=round(lat["mean"] / 1000, 3),
        errors=sum(int(errors[k]) for k in ("connect", "read", "write", "timeout")),
        non_2xx=int(errors["status"]),
    )


def run_wrk(
    base_url: str,
    spec_file: Path,
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    timeout_s: int = 30,
) -> Measurement:
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(LUA_DRIVER),
        base_url,
        "--",
        str(spec_file),
    ]
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=seconds + timeout_s + 60
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"wrk failed ({done.returncode}) after {time.monotonic() - started:.0f}s: {done.stderr}"
        )
    return parse_wrk(done.stdout)
