"""The alert trends laid out for SVGs drawn on the server: a line per severity of the alerts open at
the end of each week, and a pair of bars per week for the alerts opened and fixed.

Severities differ by line pattern and point marker as well as colour, and the legend names them in
words; the bars differ by fill (opened solid, fixed outlined). Both pictures scale to the page's
width from their viewBox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from waybill.alerts.trends import Trends, last_day

WIDTH = 640
HEIGHT = 240
LEFT = 44
RIGHT = 28
TOP = 14
BOTTOM = 34
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
# Every fourth week gets a date under the axis: enough to read, few enough not to collide.
LABEL_EVERY = 4
MARKER = 4.5

# The marker drawn at each point of a severity's line (its dash pattern is in the stylesheet).
MARKERS = {"critical": "square", "high": "triangle", "medium": "circle", "low": "diamond"}


def _marker_path(kind: str, x: float, y: float) -> str:
    r = MARKER
    if kind == "square":
        return f"M{x - r:.1f},{y - r:.1f}h{2 * r:.1f}v{2 * r:.1f}h{-2 * r:.1f}z"
    if kind == "triangle":
        return f"M{x:.1f},{y - r - 1:.1f}l{r + 1:.1f},{2 * r + 1:.1f}h{-2 * r - 2:.1f}z"
    if kind == "diamond":
        s = r + 1
        return f"M{x:.1f},{y - s:.1f}l{s:.1f},{s:.1f}l{-s:.1f},{s:.1f}l{-s:.1f},{-s:.1f}z"
    # A circle as two arcs, so every marker is one path.
    return f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0"


def _ceiling(value: int) -> int:
    """The axis' top: the first of 4, 8, 20, 40, 80, 200... at or above ``value``, so its quarters
    are whole numbers."""
    top = 4
    while top < value:
        top = top * 2 if str(top)[0] == "4" else top * 5 // 2
    return top


def _day(boundary: datetime) -> str:
    return last_day(boundary).strftime("%d %b")


def _date(boundary: datetime) -> str:
    return last_day(boundary).isoformat()


@dataclass(frozen=True)
class Axis:
    top: int

    def y(self, value: int) -> float:
        return round(TOP + PLOT_HEIGHT * (1 - value / self.top), 1)

    def ticks(self) -> list[dict[str, Any]]:
        return [{"y": self.y(self.top * k // 4), "label": self.top * k // 4} for k in range(5)]


def _x(i: int, count: int) -> float:
    return round(LEFT + PLOT_WIDTH * i / max(count - 1, 1), 1)


def open_chart(trends: Trends) -> dict[str, Any]:
    points = len(trends.boundaries)
    axis = Axis(_ceiling(max((v for vs in trends.open_by_severity.values() for v in vs), default=0)))
    lines = []
    for severity, values in trends.open_by_severity.items():
        coords = [(_x(i, points), axis.y(v)) for i, v in enumerate(values)]
        lines.append(
            {
                "severity": severity,
                "points": " ".join(f"{x},{y}" for x, y in coords),
                "markers": [
                    {
                        "d": _marker_path(MARKERS[severity], x, y),
                        "title": f"{severity}: {v} open on {_date(trends.boundaries[i])}",
                    }
                    for i, ((x, y), v) in enumerate(zip(coords, values, strict=True))
                ],
                "now": values[-1],
            }
        )
    labels = [
        {"x": _x(i, points), "label": _day(b)}
        for i, b in enumerate(trends.boundaries)
        if (points - 1 - i) % LABEL_EVERY == 0
    ]
    return {"lines": lines, "ticks": axis.ticks(), "labels": labels, **_frame()}


def flow_chart(trends: Trends) -> dict[str, Any]:
    weeks = trends.weeks
    axis = Axis(_ceiling(max((max(w.opened, w.fixed) for w in weeks), default=0)))
    slot = PLOT_WIDTH / max(len(weeks), 1)
    bar = round(slot * 0.36, 1)
    bars = []
    for i, w in enumerate(weeks):
        x = LEFT + slot * i + slot * 0.12
        week = f"the week to {_date(w.end)}"
        for kind, value, offset in (("opened", w.opened, 0.0), ("fixed", w.fixed, bar)):
            y = axis.y(value)
            bars.append(
                {
                    "kind": kind,
                    "x": round(x + offset, 1),
                    "y": y,
                    "width": bar,
                    # A zero still shows as a sliver on the axis, so an empty week reads as counted.
                    "height": max(round(TOP + PLOT_HEIGHT - y, 1), 1),
                    "title": f"{value} {kind} in {week}",
                }
            )
    labels = [
        {"x": round(LEFT + slot * (i + 0.5), 1), "label": _day(w.end)}
        for i, w in enumerate(weeks)
        if (len(weeks) - 1 - i) % LABEL_EVERY == 0
    ]
    return {"bars": bars, "ticks": axis.ticks(), "labels": labels, **_frame()}


def _frame() -> dict[str, Any]:
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": TOP + PLOT_HEIGHT,
    }


def duration(seconds: float | None) -> str:
    """``3.5 days``, ``5.0 hours``, ``12 minutes``: the median time to fix in words."""
    if seconds is None:
        return "no fixes"
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def charts(trends: Trends) -> dict[str, Any]:
    totals = trends.open_totals
    return {
        "open": open_chart(trends),
        "flow": flow_chart(trends),
        "since": trends.boundaries[0].date().isoformat(),
        "until": _date(trends.boundaries[-1]),
        "open_now": totals[-1],
        "open_then": totals[0],
        "opened": sum(w.opened for w in trends.weeks),
        "fixed": sum(w.fixed for w in trends.weeks),
        "median": duration(trends.median_seconds_to_fix),
        "fixes": trends.fixes,
        "severities": list(trends.open_by_severity),
        "markers": MARKERS,
        "marker_keys": {s: _marker_path(MARKERS[s], 20, 7) for s in trends.open_by_severity},
        # The table: one row per week's end, newest first.
        "rows": [
            {
                "end": _date(trends.boundaries[i]),
                "open": {s: vs[i] for s, vs in trends.open_by_severity.items()},
                "opened": trends.weeks[i - 1].opened,
                "fixed": trends.weeks[i - 1].fixed,
            }
            for i in range(len(trends.boundaries) - 1, 0, -1)
        ],
    }
