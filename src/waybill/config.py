"""Settings, read once from the environment (``WAYBILL_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _choice(name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``, the first by default."""
    raw = (os.environ.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(choices)}, not {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    # Empty means the embedded SQLite database inside ``data_dir``.
    database_url: str = ""
    max_body_bytes: int = 10 * 1024 * 1024
    # The SBOM import route's own limit: its body is streamed to a temporary file, not held in
    # memory, and real SBOMs of large monorepos and container images run to hundreds of megabytes.
    max_sbom_bytes: int = 512 * 1024 * 1024
    rate_limit_enabled: bool = True
    rate_limit_authenticated: int = 5000
    rate_limit_anonymous: int = 60
    rate_limit_window_seconds: int = 3600
    # Run the database-queued background worker inside the server process.
    run_worker: bool = True
    worker_poll_seconds: float = 1.0
    # Jobs each server process runs at once (a webhook delivery waiting on its receiver holds up
    # none of the others).
    job_concurrency: int = 4
    # Public base URL for links in responses; empty means "derived from the request".
    public_url: str = ""
    # Sigstore trusted_root.json file, or directory of them, added to the shipped roots; a root named
    # like a shipped one ("public-good", "github") replaces it.
    trust_roots: Path | None = None
    # How long a process may reuse a token it looked up (0: look it up on every request). Revocation
    # does not wait for it: every process hears of a change at once (``waybill.auth.signals``).
    token_cache_seconds: float = 5.0
    # One log line per request costs a measurable share of a small request; off unless asked for.
    access_log: bool = False
    # PostgreSQL connections one server may hold, all its worker processes together (``serve`` sets
    # ``workers``): servers times this must stay under the database's ``max_connections``.
    database_connections: int = 40
    workers: int = 1
    # ``transaction`` when PostgreSQL is reached through a pooler in transaction mode (PgBouncer's
    # ``pool_mode = transaction``): a connection then may change between transactions, so the
    # drivers keep no prepared statements on it.
    database_pool_mode: str = "session"
    # Seconds a request waits for a free database connection before it is answered 503.
    database_pool_timeout: float = 5.0
    # Seconds a worker process of ``serve --workers N`` has to answer the supervisor's health check.
    # The clock runs while the worker still imports Waybill, which takes seconds of CPU on a busy
    # machine; a worker that misses it is killed and started again.
    worker_start_timeout: int = 60
    # Seconds a server told to stop (SIGTERM) gives the requests in flight to finish; it accepts no
    # new connection meanwhile, then hands back the jobs it holds and exits.
    shutdown_grace: int = 30
    # The audience (``aud``) a CI job's OIDC token must name to be exchanged; empty means the
    # server's public URL (``public_url``, else the one the request came to).
    oidc_audience: str = ""
    # A direct PostgreSQL URL the server listens on for token revocations, for when the database is
    # reached through a transaction pooler (which cannot keep a session's LISTEN).
    database_listen_url: str = ""
    # Webhooks may point at loopback, link-local and private addresses (tests, closed networks).
    webhook_allow_private: bool = False
    # Jobs one token may have queued and not yet finished; beyond, a new one is refused (429).
    max_pending_jobs_per_token: int = 10
    # A second port serving ``/metrics`` without a token (0: only the main port, to site administrators).
    metrics_port: int = 0
    # ``json``: one JSON object per log line, for log collectors.
    log_format: str = "text"
    # Days an audit log entry and a webhook delivery attempt are kept (0: for ever); a job prunes
    # them hourly.
    audit_log_retention_days: int = 90
    webhook_delivery_retention_days: int = 30
    # Seconds a client has to send a request's line and headers (from its connection, or from the
    # first byte of a request on a kept-alive one); then 408, and the connection is closed.
    header_timeout: float = 10.0
    # Seconds each read of a request body may wait for bytes; then 408, and the connection is closed.
    body_timeout: float = 30.0
    # Seconds an idle kept-alive connection stays open.
    keepalive_timeout: float = 5.0
    # Connections one client address may hold at once, per worker process (0: no limit); beyond,
    # its requests are answered 429. Behind a trusted proxy, its relayed requests are counted by the
    # address it forwards.
    max_connections_per_address: int = 256
    # Reverse proxies (addresses and networks, comma-separated) whose X-Forwarded-For, -Proto and
    # -Host are believed: the client address, scheme and host then come from them.
    trusted_proxies: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            data_dir=Path(os.environ.get("WAYBILL_DATA_DIR") or "var"),
            database_url=os.environ.get("WAYBILL_DATABASE_URL", ""),
            max_body_bytes=_int("WAYBILL_MAX_BODY_BYTES", 10 * 1024 * 1024),
            max_sbom_bytes=_int("WAYBILL_MAX_SBOM_BYTES", 512 * 1024 * 1024),
            rate_limit_enabled=_bool("WAYBILL_RATE_LIMIT", True),
            rate_limit_authenticated=_int("WAYBILL_RATE_LIMIT_AUTHENTICATED", 5000),
            rate_limit_anonymous=_int("WAYBILL_RATE_LIMIT_ANONYMOUS", 60),
            rate_limit_window_seconds=_int("WAYBILL_RATE_LIMIT_WINDOW", 3600),
            run_worker=_bool("WAYBILL_WORKER", True),
            public_url=os.environ.get("WAYBILL_PUBLIC_URL", "").rstrip("/"),
            trust_roots=Path(raw_roots) if (raw_roots := os.environ.get("WAYBILL_TRUST_ROOTS")) else None,
            access_log=_bool("WAYBILL_ACCESS_LOG", False),
            token_cache_seconds=_float("WAYBILL_TOKEN_CACHE_SECONDS", 5.0),
            database_connections=_int("WAYBILL_DATABASE_CONNECTIONS", 40),
            workers=_int("WAYBILL_WORKERS", 1),
            database_pool_mode=_choice("WAYBILL_DATABASE_POOL_MODE", ("session", "transaction")),
            database_pool_timeout=_float("WAYBILL_DATABASE_POOL_TIMEOUT", 5.0),
            worker_start_timeout=_int("WAYBILL_WORKER_START_TIMEOUT", 60),
            shutdown_grace=_int("WAYBILL_SHUTDOWN_GRACE", 30),
            job_concurrency=max(1, _int("WAYBILL_JOB_CONCURRENCY", 4)),
            oidc_audience=os.environ.get("WAYBILL_OIDC_AUDIENCE", "").strip(),
            database_listen_url=os.environ.get("WAYBILL_DATABASE_LISTEN_URL", "").strip(),
            webhook_allow_private=_bool("WAYBILL_WEBHOOK_ALLOW_PRIVATE", False),
            max_pending_jobs_per_token=_int("WAYBILL_MAX_PENDING_JOBS_PER_TOKEN", 10),
            metrics_port=_int("WAYBILL_METRICS_PORT", 0),
            log_format=_choice("WAYBILL_LOG_FORMAT", ("text", "json")),
            audit_log_retention_days=_int("WAYBILL_AUDIT_LOG_RETENTION_DAYS", 90),
            webhook_delivery_retention_days=_int("WAYBILL_WEBHOOK_DELIVERY_RETENTION_DAYS", 30),
            header_timeout=_float("WAYBILL_HEADER_TIMEOUT", 10.0),
            body_timeout=_float("WAYBILL_BODY_TIMEOUT", 30.0),
            keepalive_timeout=_float("WAYBILL_KEEPALIVE_TIMEOUT", 5.0),
            max_connections_per_address=_int("WAYBILL_MAX_CONNECTIONS_PER_ADDRESS", 256),
            trusted_proxies=os.environ.get("WAYBILL_TRUSTED_PROXIES", "").strip(),
        )

    @property
    def principal_listen_url(self) -> str | None:
        """Where revocations are heard (``waybill.auth.signals``): "" for the database itself, None
        for nowhere (behind a transaction pooler without ``database_listen_url``: every request then
        looks its token up)."""
        if self.database_listen_url:
            return self.database_listen_url
        return None if self.database_pool_mode == "transaction" else ""

    @property
    def connections_per_process(self) -> int:
        return max(4, self.database_connections // max(1, self.workers))

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL with the async driver for the configured backend."""
        url = self.database_url
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'waybill.db').resolve()}"
        for prefix in ("postgresql://", "postgres://", "postgresql+asyncpg://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        if url.startswith("sqlite"):
            return url if "+aiosqlite" in url else url.replace("sqlite://", "sqlite+aiosqlite://", 1)
        raise ValueError(f"WAYBILL_DATABASE_URL: unsupported database URL scheme in {url.split(':', 1)[0]!r}")

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
