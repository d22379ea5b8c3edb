"""HTML responses: Jinja2 templates with autoescaping on, and the security headers on every page."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from litestar import Response
from litestar.datastructures import Cookie

from waybill.core import clock
from waybill.web.security import SECURITY_HEADERS

HTML_MEDIA_TYPE = "text/html"  # Litestar adds "; charset=utf-8"

STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}


def _load_static() -> dict[str, bytes]:
    folder = resources.files("waybill.web") / "static"
    return {
        f.name: f.read_bytes()
        for f in folder.iterdir()
        if f.is_file() and any(f.name.endswith(ext) for ext in STATIC_TYPES)
    }


STATIC_FILES = _load_static()
# Static URLs carry a digest of their content, so they can be cached for a year and still change.
STATIC_VERSIONS = {name: hashlib.sha256(body).hexdigest()[:12] for name, body in STATIC_FILES.items()}


def static_url(name: str) -> str:
    return f"/ui/static/{name}?v={STATIC_VERSIONS[name]}"


def timestamp(value: datetime | None) -> str:
    return "" if value is None else clock.iso(value)


def query(base: Mapping[str, str | None], **changes: str | None) -> str:
    """``?a=1&b=2`` from the current filters with some changed; empty values are dropped."""
    merged = {**base, **changes}
    pairs = [(k, v) for k, v in merged.items() if v]
    return "?" + urlencode(pairs) if pairs else "?"


def urlpath(value: str) -> str:
    """One path segment: a name with ``/``, ``?`` or ``#`` in it cannot reach another page."""
    return quote(str(value), safe="")


def advisory_href(org: str, ghsa_id: str) -> str:
    """The advisory's page in an organization's pages (its open alerts there, its blast radius)."""
    return f"/ui/orgs/{urlpath(org)}/advisories/{urlpath(ghsa_id)}"


def short_digest(digest: str) -> str:
    algorithm, _, hex_ = digest.partition(":")
    return f"{algorithm}:{hex_[:12]}" if hex_ else digest


environment = Environment(
    loader=PackageLoader("waybill.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["static_url"] = static_url
environment.globals["query"] = query
environment.globals["advisory_href"] = advisory_href
environment.filters["timestamp"] = timestamp
environment.filters["short_digest"] = short_digest
environment.filters["urlpath"] = urlpath


def page(
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    cookies: Sequence[Cookie] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[bytes]:
    body = environment.get_template(template).render(**context)
    return Response(
        content=body.encode(),
        status_code=status,
        media_type=HTML_MEDIA_TYPE,
        headers={**SECURITY_HEADERS, "Cache-Control": "no-store", **(headers or {})},
        cookies=list(cookies),
    )


def redirect(location: str, *, cookies: Sequence[Cookie] = ()) -> Response[bytes]:
    """303: after a form POST the browser fetches ``location`` with GET."""
    return Response(
        content=b"",
        status_code=303,
        headers={**SECURITY_HEADERS, "Location": location, "Cache-Control": "no-store"},
        cookies=list(cookies),
    )
