"""Deployment timelines: one horizontal lane per deployment record, a bar per digest it ran over the
chosen window, with digest changes and decommissions marked; below it, the window's changes in words
("what changed in production between T1 and T2"). Two pages draw one: an environment's (every
record in it) and an artifact's (every record its digest ran in, its own runs only). The window is a
GET form, so it works without JavaScript."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from litestar import Response, get
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account
from waybill.artifacts import service as artifacts
from waybill.artifacts.types import Change, HistoryFilter
from waybill.core import clock
from waybill.core.errors import BadRequest
from waybill.http.context import AnyRequest, ReadConn
from waybill.web.common import digest_param, text_param
from waybill.web.render import page, query, short_digest
from waybill.web.viewer import SignedIn, Viewer

DEFAULT_WINDOW = timedelta(days=7)
LANES = 40
CHANGES = 50
LABEL_WIDTH = 230
CHART_WIDTH = 1000
LANE_HEIGHT = 28
TOP = 30
TICKS = 5
# Bars are told apart by the digest written in them and in their titles; the shades only repeat it.
SHADES = 6
FORM_FORMAT = "%Y-%m-%dT%H:%M"


def _moment(request: AnyRequest, name: str, default: datetime) -> datetime:
    raw = text_param(request, name)
    if raw is None:
        return default
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"The {name} time is not a date and time (YYYY-MM-DDTHH:MM, UTC).") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime

    @property
    def form(self) -> dict[str, str]:
        """The form's values, and the query that shows the same window on another timeline."""
        return {"from": self.since.strftime(FORM_FORMAT), "to": self.until.strftime(FORM_FORMAT)}


def window(request: AnyRequest) -> Window:
    """The window the form asks for; by default the last week, to the next whole minute."""
    now = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1)
    until = _moment(request, "to", now)
    since = _moment(request, "from", until - DEFAULT_WINDOW)
    if since >= until:
        raise BadRequest("The from time must be before the to time.")
    return Window(since, until)


def _shade(digest: str) -> int:
    return int(hashlib.sha256(digest.encode()).hexdigest()[:4], 16) % SHADES


def chart(
    timeline: artifacts.Timeline, shown: Window, base: str, *, of_digest: bool = False
) -> dict[str, Any]:
    """The SVG's geometry. An environment's bars lead to their artifacts; an artifact's (``of_digest``:
    its lanes span environments, so their labels name them) to the timeline of the bar's environment."""
    since, until = shown.since, shown.until
    span_seconds = (until - since).total_seconds()
    width = CHART_WIDTH - LABEL_WIDTH

    def x(moment: datetime | None, default: float) -> float:
        if moment is None:
            return default
        return LABEL_WIDTH + round(width * (moment - since).total_seconds() / span_seconds, 1)

    lanes = []
    for row, lane in enumerate(timeline.lanes[:LANES]):
        y = TOP + row * LANE_HEIGHT
        bars = []
        marks = []
        for s in lane.spans:
            x1, x2 = x(s.start, LABEL_WIDTH), x(s.end, CHART_WIDTH)
            name = s.artifact_name or ""
            bars.append(
                {
                    "x": x1,
                    "width": max(x2 - x1, 2),
                    "shade": _shade(s.digest),
                    "label": short_digest(s.digest) if x2 - x1 > 110 else "",
                    "href": (
                        f"{base}/environments/{quote(lane.logical_environment, safe='')}/timeline"
                        + query(shown.form)
                        if of_digest
                        else f"{base}/artifacts/{s.digest}"
                    ),
                    "title": f"{lane.deployment_name}: {name} {s.digest}, "
                    f"{clock.iso(s.start) if s.start else 'before the window'} to "
                    f"{clock.iso(s.end) if s.end else 'the end of the window'}",
                }
            )
            if s.started_by == Change.CREATED and s.start is not None:
                marks.append({"kind": "created", "x": x1, "title": f"created {clock.iso(s.start)}"})
            if s.ended_by is not None and s.end is not None:
                kind = "digest-changed" if s.ended_by == Change.DIGEST_CHANGED else "decommissioned"
                marks.append({"kind": kind, "x": x2, "title": f"{kind.replace('-', ' ')} {clock.iso(s.end)}"})
        places = (lane.logical_environment,) if of_digest else ()
        parts = (lane.deployment_name, *places, lane.physical_environment, lane.cluster)
        label = " · ".join(p for p in parts if p)
        lanes.append({"y": y, "label": label, "bars": bars, "marks": marks, "repository": lane.repository})
    ticks = [
        {
            "x": LABEL_WIDTH + width * i / (TICKS - 1),
            "label": clock.iso(since + (until - since) * i / (TICKS - 1))[:16],
        }
        for i in range(TICKS)
    ]
    return {
        "lanes": lanes,
        "ticks": ticks,
        "width": CHART_WIDTH,
        "height": TOP + max(len(lanes), 1) * LANE_HEIGHT + 4,
        "lane_height": LANE_HEIGHT,
        "label_width": LABEL_WIDTH,
        "hidden_lanes": max(len(timeline.lanes) - LANES, 0),
    }


async def _timeline(
    conn: AsyncConnection, viewer: Viewer, org: str, where: HistoryFilter, shown: Window
) -> tuple[Account, artifacts.Timeline]:
    owner = await accounts.get_org(conn, org)
    timeline = await artifacts.deployment_timeline(
        conn, viewer.principal, owner.login, where, shown.since, shown.until, lanes=LANES, changes=CHANGES
    )
    return owner, timeline


@get("/ui/orgs/{org:str}/environments/{environment:str}/timeline")
async def environment_timeline(
    request: AnyRequest, org: FromPath[str], environment: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    shown = window(request)
    where = HistoryFilter(logical_environment=environment)
    owner, timeline = await _timeline(read_conn, viewer, org, where, shown)
    base = f"/ui/orgs/{quote(owner.login, safe='')}"
    context: dict[str, Any] = {
        "title": f"Timeline · {environment} · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "environments",
        "environment": environment,
        "action": f"{base}/environments/{quote(environment, safe='')}/timeline",
        **_window_context(timeline, shown, base, of_digest=False),
    }
    return page("timeline.html", context)


@get("/ui/orgs/{org:str}/artifacts/{digest:str}/timeline")
async def artifact_timeline(
    request: AnyRequest, org: FromPath[str], digest: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    subject = digest_param(digest)
    shown = window(request)
    owner, timeline = await _timeline(read_conn, viewer, org, HistoryFilter(digest=subject), shown)
    base = f"/ui/orgs/{quote(owner.login, safe='')}"
    context: dict[str, Any] = {
        "title": f"Timeline · {short_digest(digest)} · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "artifacts",
        "digest": digest,
        "action": f"{base}/artifacts/{digest}/timeline",
        "window": shown.form,
        "environments": sorted({lane.logical_environment for lane in timeline.lanes[:LANES]}),
        **_window_context(timeline, shown, base, of_digest=True),
    }
    return page("artifact_timeline.html", context)


def _window_context(
    timeline: artifacts.Timeline, shown: Window, base: str, *, of_digest: bool
) -> dict[str, Any]:
    """What both timeline pages' shared template parts read."""
    return {
        "since": shown.form["from"],
        "until": shown.form["to"],
        "chart": chart(timeline, shown, base, of_digest=of_digest),
        "timeline": timeline.changes,
        "show_digest": True,
        "more_changes": timeline.more_changes,
        "more_lanes": timeline.more_lanes,
    }


route_handlers: list[Any] = [environment_timeline, artifact_timeline]
