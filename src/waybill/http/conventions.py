"""GitHub's HTTP conventions that hold for every request, as one ASGI layer around the app:
the ``/api/v3`` prefix, ``X-GitHub-Api-Version``, ``X-GitHub-Request-Id``, rate limits, body cap."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import msgspec

from waybill.config import Settings
from waybill.core import audit, rate_limits
from waybill.core.db import Database, fault_line, is_unavailable
from waybill.http.errors import RAN_AGAIN, READ_ONLY_METHODS, RUN_AGAIN
from waybill.http.responses import JSON_MEDIA_TYPE, error_body
from waybill.ops.metrics import RATE_LIMITED

API_VERSIONS = ("2022-11-28", "2026-03-10")
DEFAULT_API_VERSION = API_VERSIONS[0]
ENTERPRISE_PREFIX = "/api/v3"
UNLIMITED_PATHS = frozenset({"/waybill/healthz", "/waybill/readyz"})

log = logging.getLogger("waybill")

Scope = dict[str, Any]
ASGIApp = Any
# A route (its path, after the /api/v3 prefix) with a body limit of its own instead of the global one;
# the route enforces it on the bytes it receives, this layer on the announced Content-Length.
BodyLimit = tuple[re.Pattern[str], int]
# What the layer answers instead of the app: a status and its error body.
Refusal = tuple[int, dict[str, Any]]
_READ_HEADERS = (b"x-github-api-version", b"authorization", b"content-length")


@dataclass
class _Window:
    reset: int
    used: int
    # Requests counted here since this window was last added to the shared one.
    unshared: int = 0


class RateLimiter:
    """Fixed windows per token (or per client address when anonymous), counted in this process and,
    once ``share`` has started, added about once a second to the windows that every process and
    host shares through the database (``waybill.core.rate_limits``); a process learns the others'
    count for a token when it adds its own. A token may then go beyond its limit by what each
    process served it since it last added (about a second's worth), never by more; a request costs
    no write."""

    def __init__(self, settings: Settings) -> None:
        self.authenticated = settings.rate_limit_authenticated
        self.anonymous = settings.rate_limit_anonymous
        self.window = settings.rate_limit_window_seconds
        self._windows: dict[str, _Window] = {}
        self._sharing: asyncio.Task[None] | None = None
        self._shared = 0

    def hit(self, key: str, limit: int) -> tuple[_Window, bool]:
        now = time.time()
        window = self._windows.get(key)
        if window is None or window.reset <= now:
            if len(self._windows) > 100_000:
                self._windows = {k: w for k, w in self._windows.items() if w.reset > now}
            window = self._windows[key] = _Window(reset=math.ceil(now) + self.window, used=0)
        if window.used >= limit:
            return window, False
        window.used += 1
        window.unshared += 1
        return window, True

    def share(self, db: Database, every: float = 1.0) -> None:
        self._sharing = asyncio.get_running_loop().create_task(self._share_forever(db, every))

    async def unshare(self, db: Database) -> None:
        """Stop sharing, after adding what this process counted last."""
        if self._sharing is None:
            return
        self._sharing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sharing
        self._sharing = None
        with contextlib.suppress(Exception):
            await self.share_once(db)

    async def _share_forever(self, db: Database, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.share_once(db)
            except Exception as exc:
                if not is_unavailable(exc):
                    log.exception("sharing the rate-limit windows failed")
                else:
                    log.warning(
                        "rate limits: database unavailable (%s); counted here meanwhile", fault_line(exc)
                    )

    async def share_once(self, db: Database) -> None:
        """Add this process's new requests to the shared windows, and take back their totals."""
        hits = {key: (w.reset, w.unshared) for key, w in self._windows.items() if w.unshared}
        if not hits:
            return
        for key in hits:
            self._windows[key].unshared = 0
        now = int(time.time())
        try:
            async with db.write() as conn:
                shared = await rate_limits.add(conn, hits, now)
                self._shared += 1
                if self._shared % 60 == 0:
                    await rate_limits.forget_ended(conn, now)
        except BaseException:
            # Not added: counted again with the next ones.
            for key, (_, unshared) in hits.items():
                if (window := self._windows.get(key)) is not None:
                    window.unshared += unshared
            raise
        for key, (reset, used) in shared.items():
            if (window := self._windows.get(key)) is not None:
                window.reset, window.used = reset, used + window.unshared


class GitHubConventions:
    def __init__(self, app: ASGIApp, settings: Settings, body_limits: Sequence[BodyLimit] = ()) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.body_limits = tuple(body_limits)
        self.limiter = RateLimiter(settings) if settings.rate_limit_enabled else None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = _without_prefix(scope)
        extra: list[tuple[bytes, bytes]] = [(b"x-github-request-id", _begin(scope))]
        headers = {k: v for k, v in scope["headers"] if k in _READ_HEADERS}
        refused = (
            _version_refusal(scope, headers)
            or self._rate_refusal(scope, headers, extra)
            or self._size_refusal(scope, headers)
            or _nul_refusal(scope)
        )
        if refused is not None:
            await _send_json(send, *refused, extra)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        if scope["method"] in READ_ONLY_METHODS:
            await once_more_if_asked(self.app, scope, receive, send_with_headers)
        else:
            # Only a read is ever run again: a write goes straight through.
            await self.app(scope, receive, send_with_headers)

    def _rate_refusal(
        self, scope: Scope, headers: dict[bytes, bytes], extra: list[tuple[bytes, bytes]]
    ) -> Refusal | None:
        """Counts the request against its token's (or address's) window, adding the window's
        headers to ``extra``; a 403 once the window is spent."""
        path = scope["path"]
        # The pages under /ui/ are not the REST API: a browser sends no Authorization header, so the
        # anonymous per-address API limit would throttle a signed-in viewer after a few dozen pages.
        # Probes (a kubelet every few seconds) would spend the anonymous quota meant for callers.
        if self.limiter is None or path == "/ui" or path.startswith("/ui/") or path in UNLIMITED_PATHS:
            return None
        authorization = headers.get(b"authorization")
        client = str((scope.get("client") or ("unknown",))[0])
        if authorization:
            key, limit = "t:" + hashlib.sha256(authorization).hexdigest(), self.limiter.authenticated
        else:
            key, limit = "a:" + client, self.limiter.anonymous
        window, ok = self.limiter.hit(key, limit)
        extra += [
            (b"x-ratelimit-limit", str(limit).encode()),
            (b"x-ratelimit-remaining", str(max(limit - window.used, 0)).encode()),
            (b"x-ratelimit-reset", str(window.reset).encode()),
            (b"x-ratelimit-used", str(window.used).encode()),
            (b"x-ratelimit-resource", b"core"),
        ]
        if ok:
            return None
        RATE_LIMITED.labels("token" if authorization else "anonymous").inc()
        who = "this token" if authorization else client
        return 403, error_body(f"API rate limit exceeded for {who}.", 403)

    def _size_refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> Refusal | None:
        """A body announced larger than its route accepts is refused before it is read."""
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self._body_limit(scope["path"]):
            return 413, error_body("Payload Too Large", 413)
        return None

    def _body_limit(self, path: str) -> int:
        for pattern, limit in self.body_limits:
            if pattern.match(path):
                return limit
        return self.max_body


def _begin(scope: Scope) -> bytes:
    """The request's id, under which the audit log records what it writes (the caller is named
    once resolved) and log lines name it (``request.state.request_id``)."""
    request_id = _request_id()
    audit.set_request(request_id.decode())
    audit.set_actor(audit.UNKNOWN)
    scope.setdefault("state", {})["request_id"] = request_id.decode()
    return request_id


def _without_prefix(scope: Scope) -> Scope:
    """GitHub Enterprise Server's clients call ``/api/v3/...``: the same routes, one prefix deeper."""
    path: str = scope["path"]
    if path != ENTERPRISE_PREFIX and not path.startswith(ENTERPRISE_PREFIX + "/"):
        return scope
    return {
        **scope,
        "path": path[len(ENTERPRISE_PREFIX) :] or "/",
        "root_path": scope.get("root_path", "") + ENTERPRISE_PREFIX,
    }


def _version_refusal(scope: Scope, headers: dict[bytes, bytes]) -> Refusal | None:
    version = headers.get(b"x-github-api-version", DEFAULT_API_VERSION.encode()).decode("latin-1").strip()
    scope.setdefault("state", {})["api_version"] = version
    if version in API_VERSIONS:
        return None
    message = f"Unsupported 'X-GitHub-Api-Version' header '{version}'. Supported: {', '.join(API_VERSIONS)}"
    return 400, error_body(message, 400)


async def once_more_if_asked(app: ASGIApp, scope: Scope, receive: Any, send: Any) -> None:
    """Run the request; if its error handler asked (``errors.RUN_AGAIN``: a read that lost its
    database connection), drop what it answered and run it once more."""
    state = scope["state"]
    first = dict(state)
    dropped = False

    async def unless_run_again(message: dict[str, Any]) -> None:
        nonlocal dropped
        if message["type"] == "http.response.start" and state.get(RUN_AGAIN):
            dropped = True
        if not dropped:
            await send(message)

    await app(scope, receive, unless_run_again)
    if dropped:
        state.clear()
        state.update(first)
        state[RAN_AGAIN] = True
        await app(scope, receive, send)


def _nul_refusal(scope: Scope) -> Refusal | None:
    """No GitHub name or value holds a NUL character, and PostgreSQL text cannot store one: a path
    with NUL names nothing (404), a query with one is a bad request (400; ``basic-error`` is the
    one error shape every operation accepts, where some declare a 422 with other shapes)."""
    if "\x00" in scope["path"]:
        return 404, error_body("Not Found", 404)
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                field = name.replace("\x00", "")
                return 400, error_body(f"Query parameter {field} contains a NUL character", 400)
    return None


def _request_id() -> bytes:
    """GitHub's form, five hex groups. An identifier for logs, not a secret: drawn from ``random``,
    since a system call for randomness costs a noticeable share of a small request."""
    h = random.randbytes(14).hex().upper()
    return f"{h[:4]}:{h[4:8]}:{h[8:14]}:{h[14:20]}:{h[20:]}".encode()


async def _send_json(send: Any, status: int, body: Any, extra: list[tuple[bytes, bytes]]) -> None:
    payload = msgspec.json.encode(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", JSON_MEDIA_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
