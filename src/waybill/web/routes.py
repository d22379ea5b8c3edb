"""Server-rendered pages under ``/ui/``.

Each page reads through the domains' services with the viewer's own principal, so it shows exactly
what the same token would get from the API; nothing here reads another domain's tables.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get, post, route
from litestar.di import Provide
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.auth import tokens
from waybill.core.errors import NotFound, Unauthenticated
from waybill.http.context import AnyRequest, Db, ReadConn, signer
from waybill.web import (
    admission,
    advisory,
    alerts,
    artifact,
    artifacts,
    blast,
    dependencies,
    environments,
    security,
    timeline,
)
from waybill.web.render import STATIC_FILES, STATIC_TYPES, page, redirect
from waybill.web.security import PRESESSION_COOKIE, SESSION_COOKIE, SESSION_SECONDS
from waybill.web.viewer import SignedIn, SignInRequired, sign_in_redirect, signed_in, signed_in_viewer

HOME = "/ui"


def _safe_next(raw: str | None) -> str:
    """Only a path inside the pages: never another host (``//evil``) or scheme."""
    if not raw or not raw.startswith("/ui") or raw.startswith("//") or "\\" in raw:
        return HOME
    if raw != "/ui" and not raw.startswith(("/ui/", "/ui?")):
        return HOME
    return raw


def _sign_in_form(request: AnyRequest, *, next_url: str, error: str | None, status: int) -> Response[bytes]:
    binding = request.cookies.get(PRESESSION_COOKIE)
    cookies = []
    if not binding:
        binding = security.new_binding()
        cookies.append(security.cookie(request, PRESESSION_COOKIE, binding, max_age=SESSION_SECONDS))
    context = {
        "title": "Sign in",
        "viewer": None,
        "csrf": security.csrf_token(signer(request), binding),
        "next": next_url,
        "error": error,
    }
    return page("sign_in.html", context, status=status, cookies=cookies)


@get("/ui/sign-in")
async def sign_in_page(request: AnyRequest) -> Response[bytes]:
    return _sign_in_form(
        request, next_url=_safe_next(request.query_params.get("next")), error=None, status=200
    )


@post("/ui/sign-in")
async def sign_in(request: AnyRequest, db: Db) -> Response[bytes]:
    form = await request.form()
    next_url = _safe_next(form.get("next"))
    if not security.csrf_valid(signer(request), request.cookies.get(PRESESSION_COOKIE), form.get("csrf")):
        raise security.CsrfRejected()
    raw = (form.get("token") or "").strip()
    try:
        if not raw:
            raise Unauthenticated("Bad credentials")
        async with db.read() as conn:
            await tokens.authenticate(conn, raw)
    except Unauthenticated:
        return _sign_in_form(request, next_url=next_url, error="That token is not valid.", status=401)
    sealed, _ = security.seal(request, raw)
    return redirect(
        next_url,
        cookies=[
            security.cookie(request, SESSION_COOKIE, sealed, max_age=SESSION_SECONDS),
            security.expired_cookie(request, PRESESSION_COOKIE),
        ],
    )


@get("/ui/sign-out")
async def sign_out_page(request: AnyRequest, read_conn: ReadConn) -> Response[bytes]:
    viewer = await signed_in(request, read_conn)
    if viewer is None:
        return redirect("/ui/sign-in")
    return page("sign_out.html", {"title": "Sign out", "viewer": viewer})


@post("/ui/sign-out")
async def sign_out(request: AnyRequest) -> Response[bytes]:
    form = await request.form()
    session = security.unseal(request)
    if not security.csrf_valid(signer(request), None if session is None else session.sid, form.get("csrf")):
        raise security.CsrfRejected()
    return redirect("/ui/sign-in", cookies=[security.expired_cookie(request, SESSION_COOKIE)])


@get("/ui")
async def home(read_conn: ReadConn, viewer: SignedIn) -> Response[bytes]:
    orgs = await accounts.organizations_of(read_conn, viewer.user)
    return page("home.html", {"title": "Waybill", "viewer": viewer, "orgs": orgs})


@get("/ui/static/{name:str}")
async def static(name: FromPath[str]) -> Response[bytes]:
    body = STATIC_FILES.get(name)
    if body is None:
        raise NotFound()
    media_type = next(t for ext, t in STATIC_TYPES.items() if name.endswith(ext))
    return Response(
        content=body,
        media_type=media_type,
        headers={**security.SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"},
    )


@route(
    "/ui/{rest:path}",
    http_method=["GET", "POST", "PUT", "PATCH", "DELETE"],
)
async def unknown_page(rest: FromPath[str]) -> Response[bytes]:
    # Any other path under /ui/ is a page that does not exist, answered as HTML (see web.errors).
    raise NotFound()


def _to_sign_in(request: AnyRequest, exc: Exception) -> Response[bytes]:
    return sign_in_redirect(request)


# One router for every page, so that ``viewer`` and the redirect to sign in are the pages' alone.
_pages: list[Any] = [
    sign_in_page,
    sign_in,
    sign_out_page,
    sign_out,
    home,
    static,
    *artifacts.route_handlers,
    *artifact.route_handlers,
    *environments.route_handlers,
    *timeline.route_handlers,
    *dependencies.route_handlers,
    *alerts.route_handlers,
    *blast.route_handlers,
    *advisory.route_handlers,
    *admission.route_handlers,
    unknown_page,
]

route_handlers: list[Any] = [
    Router(
        "/",
        route_handlers=_pages,
        dependencies={"viewer": Provide(signed_in_viewer)},
        exception_handlers={SignInRequired: _to_sign_in},
    )
]
