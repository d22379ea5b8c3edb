"""The benchmark runner's own arithmetic (no load is generated here)."""

import base64
import json
import random

import pytest
from bench.backends import parse_pgbench_tps
from bench.measure import RequestSpec, parse_wrk
from bench.report import Target, attach_ratios, growth, how_far, table
from bench.runner import parse_scale, scale_name

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:1234
  1 threads and 16 connections
WRK_JSON {"requests":2000,"duration_us":2000000,"bytes":10,\
"errors":{"connect":0,"read":1,"write":0,"status":3,"timeout":2},\
"latency_us":{"p50":1500,"p90":4000,"p99":9000,"max":12000,"mean":2100.5}}
"""


def test_parse_wrk_reads_the_driver_line() -> None:
    m = parse_wrk(WRK_OUTPUT)
    assert (m.requests, m.rps, m.p50_ms, m.p99_ms, m.max_ms) == (2000, 1000.0, 1.5, 9.0, 12.0)
    assert (m.errors, m.non_2xx) == (3, 3)


def test_parse_wrk_without_the_driver_line_fails() -> None:
    with pytest.raises(ValueError, match="no WRK_JSON line"):
        parse_wrk("Running 2s test\n")


def test_parse_pgbench_tps() -> None:
    output = "latency average = 2.000 ms\ntps = 812.345678 (without initial connection time)\n"
    assert parse_pgbench_tps(output) == 812.345678


def test_ratios_and_targets() -> None:
    row = attach_ratios(
        {"rps": 300.0, "p99_ms": 12.0}, {"ping": {"rps": 1000.0}, "raw_db": None, "prism": {"rps": 50.0}}
    )
    assert row["ratios"] == {"ping": 0.3, "prism": 6.0}
    assert Target("x", "ratio:ping", ">=", 0.5).check(row) == {
        "target": "x",
        "value": 0.3,
        "met": False,
        "off": "short by 40%",
    }
    assert Target("x", "ratio:prism", ">=", 3).check(row)["off"] == "met (+100%)"
    assert Target("x", "p99_ms", "<", 10).check(row)["off"] == "over by 20%"
    assert Target("x", "ratio:raw_db", ">=", 0.4).check(row)["met"] is None
    assert how_far(5.0, "<", 10.0) == "met (-50%)"


def test_growth_from_first_to_last_level() -> None:
    rows = [
        {
            "backend": "sqlite",
            "scenario": "w",
            "kind": "write",
            "scale": s,
            "scale_records": n,
            "rps": r,
            "p99_ms": 1.0,
        }
        for s, n, r in (("10k", 10_000, 1000.0), ("10m", 10_000_000, 750.0))
    ]
    (g,) = growth(rows)
    assert (g["rps_change"], g["met"], g["off"]) == (-0.25, False, "falls 25%")
    text = table({"rows": [{**rows[0], "title": "w", "targets": []}], "growth": [g]})
    assert "falls 25% — MISSED" in text


def test_scale_words() -> None:
    assert [parse_scale(w) for w in ("10k", "1m", "10M", "2500")] == [10_000, 1_000_000, 10_000_000, 2500]
    assert [scale_name(n) for n in (10_000, 1_000_000, 2500)] == ["10k", "1m", "2500"]


def test_request_spec_renders_placeholders_like_the_lua_driver() -> None:
    spec = RequestSpec(
        "POST", "/x/{{value}}", body='{"d":"sha256:{{hex}}","n":"{{name}}"}', values=["a"], pool=3
    )
    path, body = spec.render(random.Random(1))
    assert path == "/x/a"
    assert body is not None
    assert len(body.split("sha256:")[1].split('"')[0]) == 64
    assert '"n":"dep-' in body


def test_request_spec_encodes_the_payload_placeholder() -> None:
    spec = RequestSpec("POST", "/a", body='{"payload":"{{payload}}"}', payload='{"d":"{{hex}}"}')
    _, body = spec.render(random.Random(2))
    assert body is not None
    encoded = body.split('"payload":"')[1].split('"')[0]
    assert len(json.loads(base64.b64decode(encoded))["d"]) == 64
