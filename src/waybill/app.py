"""Builds the ASGI application from ``Settings``. Nothing runs at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar

from waybill.accounts import routes as accounts_routes
from waybill.admission import routes as admission_routes
from waybill.advisories import routes as advisories_routes
from waybill.alerts import jobs as alerts_jobs
from waybill.alerts import routes as alerts_routes
from waybill.apps import routes as apps_routes
from waybill.artifacts import jobs as artifacts_jobs
from waybill.artifacts import routes as artifacts_routes
from waybill.attestations import checking
from waybill.attestations import jobs as attestations_jobs
from waybill.attestations import routes as attestations_routes
from waybill.attestations.verification import TrustRoots
from waybill.audit import jobs as audit_jobs
from waybill.audit import routes as audit_routes
from waybill.auth.cache import PRINCIPALS
from waybill.codescanning import jobs as codescanning_jobs
from waybill.codescanning import routes as codescanning_routes
from waybill.codescanning import sarif
from waybill.config import Settings
from waybill.core.db import Database
from waybill.core.jobs import Handler, Worker
from waybill.core.signing import Signer, load_key
from waybill.dependencies import jobs as dependencies_jobs
from waybill.dependencies import routes as dependencies_routes
from waybill.http.context import DEPENDENCIES
from waybill.http.conventions import GitHubConventions
from waybill.http.errors import exception_handlers
from waybill.ops import logs, metrics
from waybill.ops import routes as ops_routes
from waybill.publishers import routes as publishers_routes
from waybill.publishers.oidc import KeyCache
from waybill.web import errors as web_errors
from waybill.web import routes as web_routes
from waybill.webhooks import jobs as webhooks_jobs
from waybill.webhooks import routes as webhooks_routes

log = logging.getLogger("waybill")

ROUTE_HANDLERS: list[Any] = [
    *accounts_routes.route_handlers,
    *apps_routes.route_handlers,
    *artifacts_routes.route_handlers,
    *attestations_routes.route_handlers,
    *dependencies_routes.route_handlers,
    *advisories_routes.route_handlers,
    *alerts_routes.route_handlers,
    *codescanning_routes.route_handlers,
    *publishers_routes.route_handlers,
    *webhooks_routes.route_handlers,
    *admission_routes.route_handlers,
    *audit_routes.route_handlers,
    *web_routes.route_handlers,
    *ops_routes.route_handlers,
]

JOB_HANDLERS: Mapping[str, Handler] = {
    **artifacts_jobs.JOB_HANDLERS,
    **attestations_jobs.JOB_HANDLERS,
    **dependencies_jobs.JOB_HANDLERS,
    **alerts_jobs.JOB_HANDLERS,
    **codescanning_jobs.JOB_HANDLERS,
}


def job_handlers(settings: Settings) -> Mapping[str, Handler]:
    """Every domain's, with the webhooks' own (which take their links and destinations from settings)."""
    return {**JOB_HANDLERS, **webhooks_jobs.job_handlers(settings), **audit_jobs.job_handlers(settings)}


class WaybillApp(GitHubConventions):
    """The server: GitHub's HTTP conventions around the Litestar application."""

    def __init__(self, settings: Settings, litestar: Litestar) -> None:
        super().__init__(
            metrics.RouteTemplates(litestar),
            settings,
            [*dependencies_routes.body_limits(settings), *codescanning_routes.body_limits(settings)],
        )
        self.settings = settings
        self.litestar = litestar
        # In JSON, the access lines are this layer's (uvicorn's lack the request id and route).
        self.json_access_log = settings.access_log and settings.log_format == "json"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        status = 500
        request_id = b""

        async def send_noting_status(message: Any) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                if self.json_access_log:
                    request_id = dict(message["headers"]).get(b"x-github-request-id", b"")
            await send(message)

        try:
            await super().__call__(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            template = state.get(metrics.ROUTE_KEY)
            metrics.observe_request(template, scope["method"], status, seconds)
            if self.json_access_log:
                route = metrics.route_label(template)
                client = (scope.get("client") or ("",))[0]
                logs.access(
                    request_id.decode(), scope["method"], route, scope["path"], status, seconds, client
                )

    @property
    def db(self) -> Database:
        db: Database = self.litestar.state.db
        return db

    @property
    def worker(self) -> Worker:
        worker: Worker = self.litestar.state.worker
        return worker


def create_app(settings: Settings | None = None) -> WaybillApp:
    settings = settings or Settings.from_env()
    # Refuse to start on unreadable operator trust roots rather than failing each upload later.
    TrustRoots.configured(settings.trust_roots)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            db = Database.for_settings(settings, connections=settings.connections_per_process)
            async with db.write() as conn:
                app.state.signer = Signer(await load_key(conn))
        except Exception as exc:
            logs.worker_failed(exc)
            raise
        worker = Worker(
            db,
            metrics.timed_handlers(job_handlers(settings)),
            poll_seconds=settings.worker_poll_seconds,
            concurrency=settings.job_concurrency,
        )
        # Tokens revoked by other processes must be refused here at once (waybill.auth.signals).
        await PRINCIPALS.signals.start(db.engine.url, listen_url=settings.principal_listen_url)
        app.state.db = db
        app.state.worker = worker
        if settings.run_worker:
            await audit_jobs.schedule(db, audit_jobs.PERIOD)
            worker.start()
            # Off the event loop, and not waited for: the server answers meanwhile.
            asyncio.get_running_loop().run_in_executor(None, sarif.prepare)
        sampler = asyncio.get_running_loop().create_task(metrics.sample_forever(db))
        # ``server``: the application this lifespan belongs to, made below.
        if server.limiter is not None:
            server.limiter.share(db)
        try:
            yield
        finally:
            if server.limiter is not None:
                await server.limiter.unshare(db)
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            metrics.process_exited()
            await worker.stop()
            await PRINCIPALS.signals.stop(db.engine.url)
            await asyncio.to_thread(checking.shutdown)
            await db.dispose()

    litestar = Litestar(
        route_handlers=ROUTE_HANDLERS,
        dependencies=DEPENDENCIES,
        exception_handlers=exception_handlers(web_errors.page_for),
        lifespan=[lifespan],
        openapi_config=None,
        request_max_body_size=settings.max_body_bytes,
        state=None,
    )
    litestar.state.settings = settings
    litestar.state.oidc_keys = KeyCache()
    server = WaybillApp(settings, litestar)
    return server


def create_app_from_env() -> WaybillApp:
    """Factory for ``uvicorn --factory`` (one per worker process)."""
    return create_app(Settings.from_env())
