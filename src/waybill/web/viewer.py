"""Who is looking at a page: the signed-in viewer, resolved from the session cookie."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from litestar import Response
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts.types import Account
from waybill.auth import tokens
from waybill.auth.types import Principal
from waybill.core.errors import Unauthenticated
from waybill.http.context import AnyRequest, ReadConn, settings, signer
from waybill.web import security
from waybill.web.render import redirect


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    user: Account
    # For the forms on every page (sign-out in the header); bound to this session.
    csrf: str

    @property
    def login(self) -> str:
        return self.user.login


async def signed_in(request: AnyRequest, conn: AsyncConnection) -> Viewer | None:
    """The viewer, or None when there is no valid session or its token no longer authenticates."""
    session = security.unseal(request)
    if session is None:
        return None
    try:
        max_age = settings(request).token_cache_seconds
        principal = await tokens.authenticate(conn, session.token, max_age=max_age)
    except Unauthenticated:
        return None
    assert principal.user is not None
    return Viewer(principal, principal.user, security.csrf_token(signer(request), session.sid))


def sign_in_redirect(request: AnyRequest) -> Response[bytes]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    cookies = []
    if request.cookies.get(security.SESSION_COOKIE):
        cookies.append(security.expired_cookie(request, security.SESSION_COOKIE))
    return redirect("/ui/sign-in?" + urlencode({"next": target}), cookies=cookies)


class SignInRequired(Exception):
    """A page that shows the viewer's data was asked for without a valid session."""


async def signed_in_viewer(request: AnyRequest, read_conn: ReadConn) -> Viewer:
    """The ``viewer`` a page names as a parameter; without one, the page redirects to sign in."""
    viewer = await signed_in(request, read_conn)
    if viewer is None:
        raise SignInRequired()
    return viewer


SignedIn = NamedDependency[Viewer]
