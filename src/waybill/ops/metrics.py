"""Prometheus metrics. Recording costs a dictionary look-up and a few additions per request; values
that would need the database (queue depth) or a look at the pools are sampled in the background.

With several workers, ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a directory of its own before
they start, and every process writes its values there for whichever one answers the scrape."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

from waybill.core.db import Database
from waybill.core.jobs import Handler, Job
from waybill.core.jobs import counts as job_counts

log = logging.getLogger("waybill.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
SAMPLE_SECONDS = 10.0
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
JOB_BUCKETS = (0.01, 0.05, 0.25, 1.0, 5.0, 30.0, 120.0, 600.0)

REQUESTS = Counter(
    "waybill_http_requests", "HTTP requests answered, by route template.", ["route", "method", "status"]
)
LATENCY = Histogram(
    "waybill_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
RATE_LIMITED = Counter("waybill_rate_limit_refusals", "Requests refused by the rate limit.", ["caller"])
JOB_DURATION = Histogram(
    "waybill_job_duration_seconds", "Time a job's handler ran.", ["kind", "outcome"], buckets=JOB_BUCKETS
)
JOBS_QUEUED = Gauge(
    "waybill_jobs", "Jobs in the queue, by kind and status.", ["kind", "status"], multiprocess_mode="livemax"
)
VERIFICATIONS = Counter("waybill_verifications", "Attestation bundles verified, by verdict.", ["verdict"])
CONNECTIONS = Gauge(
    "waybill_database_connections_in_use",
    "Database connections checked out of the pools, sampled.",
    multiprocess_mode="livesum",
)

# Where the inner layer leaves the matched route's template for the outer one (``scope["state"]``).
ROUTE_KEY = "route_template"


class RouteTemplates:
    """Around the Litestar application: hands the template of the route it matched outwards, past
    the conventions layer (which may give Litestar a scope of its own)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                scope["state"][ROUTE_KEY] = scope.get("path_template")


# Without a route (refused before routing, or no such route), the label stays bounded.
UNMATCHED = "unmatched"


def route_label(template: str | None) -> str:
    if not template:
        return UNMATCHED
    label = _LABELS.get(template)
    if label is None:
        # "/repos/{owner:str}/{repo:str}" reads "/repos/{owner}/{repo}".
        label = "/".join(p.split(":", 1)[0] + "}" if ":" in p else p for p in template.split("/"))
        _LABELS[template] = label
    return label


_LABELS: dict[str, str] = {}
_QUEUE_LABELS: set[tuple[str, str]] = set()
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(template: str | None, method: str, status: int, seconds: float) -> None:
    key = (template or UNMATCHED, method, status)
    children = _CHILDREN.get(key)
    if children is None:
        route = route_label(template)
        children = (REQUESTS.labels(route, method, str(status)), LATENCY.labels(route, method))
        _CHILDREN[key] = children
    children[0].inc()
    children[1].observe(seconds)


def timed_handlers(handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """Each handler, recording how long it ran and whether it raised."""

    def timed(kind: str, handler: Handler) -> Handler:
        async def run(db: Database, job: Job) -> Any:
            started = time.perf_counter()
            outcome = "failed"
            try:
                result = await handler(db, job)
                outcome = "succeeded"
                return result
            finally:
                JOB_DURATION.labels(kind, outcome).observe(time.perf_counter() - started)

        return run

    return {kind: timed(kind, handler) for kind, handler in handlers.items()}


async def sample_forever(db: Database) -> None:
    while True:
        try:
            await sample(db)
        except Exception as error:
            log.warning("metrics sample failed: %s", type(error).__name__)
        await asyncio.sleep(SAMPLE_SECONDS)


async def sample(db: Database) -> None:
    async with db.query() as conn:
        counts = await job_counts(conn)
    # Multiprocess mode cannot clear labels: a kind and status seen before and gone now reads 0.
    for labels in _QUEUE_LABELS - counts.keys():
        JOBS_QUEUED.labels(*labels).set(0)
    for labels, count in counts.items():
        JOBS_QUEUED.labels(*labels).set(count)
    _QUEUE_LABELS.update(counts)
    CONNECTIONS.set(db.connections_in_use())


def scrape_registry() -> CollectorRegistry:
    """Every process's values under several workers, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def exposition() -> bytes:
    return generate_latest(scrape_registry())


@contextlib.contextmanager
def multiprocess_directory(workers: int) -> Iterator[None]:
    """With several workers, a fresh directory for their values, removed when they have stopped."""
    if workers < 2 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    directory = tempfile.mkdtemp(prefix="waybill-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(directory, ignore_errors=True)


def serve_port(host: str, port: int) -> None:
    """``/metrics`` without a token on a port of its own, from a thread of the serving process."""
    start_http_server(port, addr=host, registry=scrape_registry())


def process_exited() -> None:
    """Drop this process's live gauges, so that a stopped worker's values are not summed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
