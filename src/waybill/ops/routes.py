"""``/waybill/healthz`` and ``/waybill/readyz`` (outside GitHub's API, exempt from its rate limits),
and ``/metrics`` for site administrators."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from waybill.core.errors import NotFound
from waybill.http.context import AnyRequest, Caller, Db, settings
from waybill.ops import health, metrics


@get("/waybill/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {"status": "ok"}


@get("/waybill/readyz")
async def readyz(request: AnyRequest, db: Db) -> Response[dict[str, Any]]:
    """Ready for traffic: the database answers, its schema is current, the job worker runs."""
    db_problem, migrations_problem = await health.database_and_migrations(db)
    worker = getattr(request.app.state, "worker", None)
    checks = {
        "database": db_problem,
        "migrations": migrations_problem,
        "job_worker": health.job_worker(worker, settings(request).run_worker),
    }
    failed = {name: problem for name, problem in checks.items() if problem is not None}
    body: dict[str, Any] = {
        "status": "fail" if failed else "ok",
        "checks": {name: checks[name] or "ok" for name in checks},
    }
    if failed:
        body["failed"] = sorted(failed)
    return Response(body, status_code=503 if failed else 200)


@get("/metrics")
async def metrics_text(caller: Caller) -> Response[bytes]:
    """Prometheus' text format. Anyone but a site administrator gets 404, as GitHub answers for the
    administrative endpoints it does not show to others."""
    if caller.user is None or not caller.user.site_admin:
        raise NotFound()
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


route_handlers = [healthz, readyz, metrics_text]
