"""HTTP handlers of the admission gate, under ``/waybill/orgs/{org}``."""

from __future__ import annotations

from litestar import Response, get, post, put
from litestar.params import FromPath

from waybill.admission import schemas, service
from waybill.admission.types import DecisionFilter, Verdict
from waybill.core.errors import ValidationFailed
from waybill.http.body import parse_body
from waybill.http.context import AnyRequest, Caller, Db, ReadConn, WriteConn
from waybill.http.pagination import cursor, cursor_links
from waybill.http.query import time_param
from waybill.http.responses import json_response

ORG = "/waybill/orgs/{org:str}"


@get(ORG + "/admission-policy")
async def get_policy(org: FromPath[str], caller: Caller, read_conn: ReadConn) -> Response[bytes]:
    account = await service.reader(read_conn, caller, org)
    return json_response(schemas.policy_document(await service.policies(read_conn, account)))


@put(ORG + "/admission-policy")
async def put_policy(
    request: AnyRequest, org: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    body = await parse_body(request, schemas.PolicyBody, schemas.POLICY_RESOURCE)
    environments = schemas.policies(body)
    account = await service.owner(write_conn, caller, org)
    stored = await service.replace_policies(write_conn, account, environments)
    return json_response(schemas.policy_document(stored))


def _environment(request: AnyRequest) -> str:
    value = request.query_params.get("environment") or ""
    if not 1 <= len(value) <= 128:
        raise ValidationFailed.one(
            "Query",
            "environment",
            "missing_field",
            "environment is required (a logical environment such as prod)",
        )
    return value


@post(ORG + "/admission/kubernetes")
async def kubernetes(request: AnyRequest, org: FromPath[str], db: Db, caller: Caller) -> Response[bytes]:
    uid, asked = schemas.review(await request.body(), _environment(request))
    decision = await service.admit(db, caller, org, asked)
    return json_response(schemas.review_response(uid, decision))


@post(ORG + "/admission/gatekeeper")
async def gatekeeper(request: AnyRequest, org: FromPath[str], db: Db, caller: Caller) -> Response[bytes]:
    environment = _environment(request)
    body = await parse_body(request, schemas.ProviderRequest, "ProviderRequest")
    decision = await service.admit(db, caller, org, schemas.provider_request(body, environment))
    return json_response(schemas.provider_response(decision))


@post(ORG + "/admission/check")
async def check(request: AnyRequest, org: FromPath[str], db: Db, caller: Caller) -> Response[bytes]:
    body = await parse_body(request, schemas.CheckBody, schemas.CHECK_RESOURCE)
    decision = await service.admit(db, caller, org, schemas.check_request(body))
    return json_response(schemas.check_response(decision))


def _filter(request: AnyRequest) -> DecisionFilter:
    query = request.query_params
    raw_verdict = query.get("verdict") or None
    try:
        verdict = None if raw_verdict is None else Verdict(raw_verdict)
    except ValueError:
        raise ValidationFailed.one(
            "Query", "verdict", "invalid", "verdict must be allowed, denied or warned", raw_verdict
        ) from None
    return DecisionFilter(
        environment=query.get("environment") or None,
        verdict=verdict,
        namespace=query.get("namespace") or None,
        since=time_param(query.get("since"), "since"),
    )


@get(ORG + "/admission/decisions")
async def decisions(
    request: AnyRequest, org: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    where = _filter(request)
    page_at = cursor(request)
    page, next_key = await service.decisions(
        read_conn, caller, org, where, per_page=page_at.per_page, after=page_at.after
    )
    return json_response(
        {"decisions": [schemas.stored_decision(d) for d in page]},
        headers=cursor_links(request, next_key, None),
    )


route_handlers = [get_policy, put_policy, kubernetes, gatekeeper, check, decisions]
