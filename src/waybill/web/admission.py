"""The admission gate's decision log: every decision, newest first, with why it was taken and the
deployment record that later followed it."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.admission import service as admission
from waybill.admission.types import DecisionFilter, Verdict
from waybill.core.errors import BadRequest
from waybill.http.context import AnyRequest, ReadConn
from waybill.http.pagination import encode_cursor
from waybill.web.common import page_cursor, text_param
from waybill.web.render import page
from waybill.web.viewer import SignedIn


def _filter(request: AnyRequest) -> DecisionFilter:
    verdict = text_param(request, "verdict")
    if verdict is not None and verdict not in set(Verdict):
        raise BadRequest("The verdict filter must be allowed, denied or warned.")
    return DecisionFilter(
        environment=text_param(request, "environment"),
        verdict=None if verdict is None else Verdict(verdict),
        namespace=text_param(request, "namespace"),
    )


@get("/ui/orgs/{org:str}/admission")
async def decisions_page(
    request: AnyRequest, org: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    where = _filter(request)
    cursor = page_cursor(request)
    owner = await accounts.get_org(read_conn, org)
    found, next_key = await admission.decisions(
        read_conn, viewer.principal, owner.login, where, per_page=cursor.per_page, after=cursor.after
    )
    filters = {"environment": where.environment, "verdict": where.verdict, "namespace": where.namespace}
    context: dict[str, Any] = {
        "title": f"Admission decisions · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "admission",
        "filters": filters,
        "filtered": any(filters.values()),
        "verdicts": list(Verdict),
        "decisions": found,
        "older": None if next_key is None else encode_cursor(next_key),
    }
    return page("admission.html", context)


route_handlers: list[Any] = [decisions_page]
