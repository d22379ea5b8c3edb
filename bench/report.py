"""Ratios against the ceilings, the issue's targets, and the three outputs: a table on stdout, JSON
and a PNG chart."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CEILINGS = ("minimal", "ping", "raw_db", "prism")


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: ``metric`` (a ratio ``ratio:<ceiling>`` or a row field) compared
    with ``threshold`` by ``op`` (``>=`` or ``<``), on the named backends only when given."""

    label: str
    metric: str
    op: str
    threshold: float
    backends: tuple[str, ...] | None = None

    def applies(self, backend: str) -> bool:
        return self.backends is None or backend in self.backends

    def check(self, row: Mapping[str, Any]) -> dict[str, Any]:
        value = metric_value(row, self.metric)
        if value is None:
            return {"target": self.label, "value": None, "met": None, "off": "not measured"}
        met = value >= self.threshold if self.op == ">=" else value < self.threshold
        return {
            "target": self.label,
            "value": round(value, 3),
            "met": met,
            "off": how_far(value, self.op, self.threshold),
        }


def metric_value(row: Mapping[str, Any], metric: str) -> float | None:
    if metric.startswith("ratio:"):
        value = row.get("ratios", {}).get(metric.split(":", 1)[1])
    elif metric.startswith("cpu_ratio:"):
        value = row.get("cpu_ratios", {}).get(metric.split(":", 1)[1])
    else:
        value = row.get(metric)
    return None if value is None else float(value)


def how_far(value: float, op: str, threshold: float) -> str:
    """``met (+25%)``, ``short by 12%`` (an at-least target) or ``over by 30%`` (an under target)."""
    if threshold == 0:
        return "n/a"
    delta = (value / threshold - 1) * 100
    if op == ">=":
        return f"met ({delta:+.0f}%)" if value >= threshold else f"short by {-delta:.0f}%"
    return f"met ({delta:+.0f}%)" if value < threshold else f"over by {delta:.0f}%"


def ratio(figure: float | None, ceiling: float | None) -> float | None:
    if not figure or not ceiling:
        return None
    return round(figure / ceiling, 3)


def attach_ratios(row: dict[str, Any], ceilings: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    row["ceilings"] = {k: v for k, v in ceilings.items() if v is not None}
    row["ratios"] = {k: ratio(row.get("rps"), v.get("rps")) for k, v in row["ceilings"].items()}
    # CPU the other way round: how many times the ceiling's server CPU a request of this row costs.
    row["cpu_ratios"] = {
        k: ratio(row.get("cpu_ms"), v.get("cpu_ms")) for k, v in row["ceilings"].items() if v.get("cpu_ms")
    }
    return row


def growth(rows: Sequence[Mapping[str, Any]], max_drop: float = 0.20) -> list[dict[str, Any]]:
    """Per backend and scaled scenario: the change from the smallest to the largest scale level."""
    out: list[dict[str, Any]] = []
    keys = sorted({(r["backend"], r["scenario"]) for r in rows if r.get("scale_records")})
    for backend, scenario in keys:
        levels = sorted(
            (
                r
                for r in rows
                if r["backend"] == backend and r["scenario"] == scenario and r.get("scale_records")
            ),
            key=lambda r: r["scale_records"],
        )
        if len(levels) < 2:
            continue
        first, last = levels[0], levels[-1]
        entry: dict[str, Any] = {
            "backend": backend,
            "scenario": scenario,
            "from": first["scale"],
            "to": last["scale"],
            "rps_change": round(last["rps"] / first["rps"] - 1, 3) if first.get("rps") else None,
            "p99_ms": {r["scale"]: r.get("p99_ms") for r in levels},
            "cpu_ms": {r["scale"]: r.get("cpu_ms") for r in levels},
        }
        if first.get("kind") == "write" and entry["rps_change"] is not None:
            drop = -entry["rps_change"]
            entry["target"] = f"write throughput falls < {max_drop:.0%}"
            entry["met"] = drop < max_drop
            entry["off"] = f"falls {drop:.0%}" if drop > 0 else f"rises {-drop:.0%}"
        out.append(entry)
    return out


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(result: Mapping[str, Any]) -> str:
    rows: list[Mapping[str, Any]] = result["rows"]
    headers = [
        "backend",
        "scale",
        "scenario",
        "req/s",
        "p50 ms",
        "p99 ms",
        "cpu ms/req",
        "err",
        "xmin",
        "cpu xmin",
        "xping",
        "xraw db",
        "xprism",
        "targets",
    ]
    lines: list[list[str]] = []
    for r in rows:
        ratios, cpu_ratios = r.get("ratios", {}), r.get("cpu_ratios", {})
        targets = "; ".join(f"{t['target']}: {t['off']}" for t in r.get("targets", []))
        lines.append([
            r["backend"], r.get("scale", "-"), r["title"], _fmt(r.get("rps")), _fmt(r.get("p50_ms"), 2),
            _fmt(r.get("p99_ms"), 2), _fmt(r.get("cpu_ms"), 2), str(r.get("errors", 0) + r.get("non_2xx", 0)),
            _fmt(ratios.get("minimal"), 2), _fmt(cpu_ratios.get("minimal"), 1), _fmt(ratios.get("ping"), 2),
            _fmt(ratios.get("raw_db"), 2), _fmt(ratios.get("prism"), 2), targets,
        ])  # fmt: skip
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)
    ]
    numeric = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

    def render(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [_header(result), render(headers), render(["-" * w for w in widths])]
    out += [render(line) for line in lines]
    ceilings = result.get("ceilings", [])
    if ceilings:
        out += ["", "ceilings measured in this run:"]
        for c in ceilings:
            out.append(
                f"  {c['backend']:<10} {c.get('scale', '-'):<5} {c['name']:<9} {c['scenario']:<28} "
                f"{_fmt(c.get('rps')):>10} req/s  p50 {_fmt(c.get('p50_ms'), 2)} ms"
                f"  p99 {_fmt(c.get('p99_ms'), 2)} ms"
                + (f"  cpu {_fmt(c.get('cpu_ms'), 2)} ms/req" if c.get("cpu_ms") else "")
                + (f"  ({c['how']})" if c.get("how") else "")
            )
    grown = result.get("growth", [])
    if grown:
        out += ["", "growth from the smallest to the largest scale level:"]
        for g in grown:
            p99 = ", ".join(f"{k}: {_fmt(v, 2)}" for k, v in g["p99_ms"].items())
            verdict = (
                f"  [{g['target']}: {g['off']}{'' if g['met'] else ' — MISSED'}]" if "target" in g else ""
            )
            change = "-" if g["rps_change"] is None else f"{g['rps_change']:+.0%}"
            cpu = ", ".join(f"{k}: {_fmt(v, 2)}" for k, v in g.get("cpu_ms", {}).items())
            out.append(
                f"  {g['backend']:<10} {g['scenario']:<28} req/s {change}  p99 ms {p99}"
                f"  cpu ms/req {cpu}{verdict}"
            )
    memory = result.get("memory", [])
    if memory:
        out += ["", "server memory (sum over its processes; peak = each process's own high-water mark):"]
        for m in memory:
            out.append(
                f"  {m['backend']:<10} {m.get('scale', '-'):<5} peak {m['peak']:.0f} MiB,"
                f" now {m['rss']:.0f} MiB, {m['processes']} processes"
            )
    missed = [t for r in rows for t in r.get("targets", []) if t["met"] is False]
    missed += [g for g in grown if g.get("met") is False]
    if not rows:
        out += ["", "no figures were measured"]
    else:
        out += ["", f"targets missed: {len(missed)}" if missed else "targets: all measured targets met"]
    return "\n".join(out)


def _header(result: Mapping[str, Any]) -> str:
    m = result.get("machine", {})
    lines = [
        f"Waybill benchmark — {result.get('started_at', '')}  commit {result.get('commit', '?')}",
        f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('memory_gib', '?')} GiB; "
        f"server: waybill serve --workers {result.get('workers')};"
        f" load: wrk, {result.get('duration_s')} s per figure",
    ]
    for backend, settings in result.get("durability", {}).items():
        lines.append(f"durability {backend}: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    if result.get("quick"):
        lines.append("QUICK MODE: short runs, figures are indicative only")
    return "\n".join(lines) + "\n"


def write_json(result: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")


def chart(result: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows: list[Mapping[str, Any]] = result["rows"]
    backends = sorted({r["backend"] for r in rows})
    base = [r for r in rows if r.get("scale") in (None, result.get("base_scale"))]
    titles = list(dict.fromkeys(r["title"] for r in base))
    scaled = [r for r in rows if r.get("scale_records")]
    fig, axes = plt.subplots(
        1, 3 if scaled else 1, figsize=(20 if scaled else 11, max(4.5, 0.42 * len(titles) + 2))
    )
    axes_list: list[Any] = list(axes) if scaled else [axes]
    colors = {"sqlite": "#4C72B0", "postgresql": "#DD8452"}

    ax = axes_list[0]
    height = 0.8 / max(len(backends), 1)
    for b_index, backend in enumerate(backends):
        ys, xs, labels = [], [], []
        for t_index, title in enumerate(titles):
            row = next((r for r in base if r["backend"] == backend and r["title"] == title), None)
            if row is None or not row.get("rps"):
                continue
            ys.append(t_index + b_index * height)
            xs.append(row["rps"])
            ping = row.get("ratios", {}).get("ping")
            figure = f"{row['rps']:,.0f}" if row["rps"] >= 10 else f"{row['rps']:.2g}"
            labels.append(figure + (f" ({ping:.2f}x ping)" if ping and ping >= 0.005 else ""))
        bars = ax.barh(ys, xs, height=height, color=colors.get(backend), label=backend)
        for bar, label in zip(bars, labels, strict=True):
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + label, va="center", fontsize=7)
    ax.set_yticks([i + height * (len(backends) - 1) / 2 for i in range(len(titles))], titles, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("requests per second (log)")
    ax.set_title(f"throughput at {result.get('base_scale', '')} (wrk, {result.get('workers')} worker(s))")
    if rows:
        ax.legend(loc="lower right", fontsize=8)

    if scaled:
        for ax, field, label in (
            (axes_list[1], "rps", "requests per second"),
            (axes_list[2], "p99_ms", "p99 latency (ms)"),
        ):
            for backend in backends:
                for title in dict.fromkeys(r["title"] for r in scaled if r["backend"] == backend):
                    points: list[tuple[float, float]] = sorted(
                        (r["scale_records"], r[field])
                        for r in scaled
                        if r["backend"] == backend and r["title"] == title
                    )
                    style = "-" if backend == "postgresql" else "--"
                    xs, ys = [p[0] for p in points], [p[1] for p in points]
                    ax.plot(xs, ys, marker="o", linestyle=style, label=f"{backend}: {title}")
            ax.set_xscale("log")
            ax.set_xlabel("deployment records loaded")
            ax.set_ylabel(label)
            ax.set_title(label + " as records pile up")
            if field == "p99_ms":
                ax.axhline(10, color="red", linewidth=0.8, linestyle=":")
            ax.legend(fontsize=6)
    fig.suptitle(
        f"Waybill {result.get('commit', '')} on {result.get('machine', {}).get('cpu', '?')}", fontsize=10
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(rows: Iterable[dict[str, Any]], targets: Mapping[str, Sequence[Target]]) -> None:
    for row in rows:
        row["targets"] = [t.check(row) for t in targets.get(row["scenario"], ()) if t.applies(row["backend"])]
