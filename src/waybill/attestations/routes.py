"""HTTP handlers for artifact attestations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Response, Router, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.attestations import schemas
from waybill.attestations import service as attestations
from waybill.attestations.service import DigestListing
from waybill.attestations.types import AttestationVerification, Mode, StoredAttestation
from waybill.auth import permissions
from waybill.auth.types import Principal
from waybill.core.errors import NotFound, ValidationFailed
from waybill.core.ids import MAX_ID, parse_id
from waybill.core.keyset import Page
from waybill.http.body import parse_body
from waybill.http.context import (
    AnyRequest,
    Caller,
    Db,
    ReadConn,
    WriteConn,
    api_base,
    api_version,
    settings,
    signer,
)
from waybill.http.pagination import cursor, cursor_links, encode_cursor
from waybill.http.responses import json_response, no_content

# Versions whose list items carry the bundle inline (2026-03-10 dropped it: clients use bundle_url).
BUNDLE_INLINE_VERSIONS = frozenset({"2022-11-28"})
# How long a bundle_url stays valid, as GitHub's pre-signed blob URLs expire.
BUNDLE_URL_TTL_SECONDS = 3600


def _with_bundle(request: AnyRequest) -> bool:
    return api_version(request) in BUNDLE_INLINE_VERSIONS


def _bundle_url(request: AnyRequest) -> schemas.BundleUrl:
    base = api_base(request)
    sign = signer(request).sign

    def url(attestation_id: int) -> str:
        query = urlencode(sign("bundle", str(attestation_id), BUNDLE_URL_TTL_SECONDS))
        return f"{base}/waybill/attestations/{attestation_id}/bundle?{query}"

    return url


def _inline_bundle(attestation: StoredAttestation) -> bytes | None:
    """The bundle as received, when the list carries bundles."""
    compressed = attestation.compressed_bundle
    return None if compressed is None else attestations.decompress(compressed)


def _items(
    request: AnyRequest, stored: list[StoredAttestation], *, initiator: bool = True
) -> list[dict[str, Any]]:
    url = _bundle_url(request)
    return [
        schemas.list_item(attestation, url, _inline_bundle(attestation), initiator=initiator)
        for attestation in stored
    ]


def _list_response(request: AnyRequest, page: Page[StoredAttestation]) -> Response[bytes]:
    return json_response(
        {"attestations": _items(request, page.items)},
        headers=cursor_links(request, page.next_key, page.prev_key),
    )


def _predicate(request: AnyRequest) -> schemas.PredicateFilter | None:
    return schemas.predicate_filter(request.query_params.get("predicate_type"))


@post("/repos/{owner:str}/{repo:str}/attestations")
async def create_attestation(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    bundle = schemas.parse_create(await request.body())
    trust_roots = settings(request).trust_roots
    # Three steps rather than one transaction: verification under ``enforce`` takes milliseconds of
    # CPU (in a process pool) and must not hold SQLite's single write lock, nor run before the caller
    # is known. Under ``record`` it is queued with the bundle instead.
    async with db.read() as conn:
        target = await attestations.upload_target(conn, caller, owner, repo)
    verdict = await attestations.check(trust_roots, target, bundle)
    async with db.write() as conn:
        sender_id = None if caller.user is None else caller.user.id
        attestation_id = await attestations.store(conn, target, bundle, verdict, trust_roots, sender_id)
    if target.verifies_later:
        # Committed: the worker may take the job now rather than at its next poll.
        request.app.state.worker.wake()
    return json_response({"id": attestation_id}, 201)


def _listing(request: AnyRequest, subject_digest: str) -> DigestListing:
    """A GitHub list of one digest's attestations: bundles inline in the API versions that have them."""
    return DigestListing(
        schemas.parse_digest(subject_digest), _predicate(request), cursor(request), _with_bundle(request)
    )


def _verified_listing(request: AnyRequest, subject_digest: str) -> DigestListing:
    """Waybill's list of one digest's attestations with their verdicts, narrowed by ``verified``."""
    return DigestListing(
        schemas.parse_digest(subject_digest),
        _predicate(request),
        cursor(request),
        with_bundle=False,
        verified=schemas.parse_verified(request.query_params.get("verified")),
    )


@get("/repos/{owner:str}/{repo:str}/attestations/{subject_digest:str}")
async def list_repository_attestations(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    subject_digest: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
) -> Response[bytes]:
    listing = _listing(request, subject_digest)
    page = await attestations.list_for_repository(read_conn, caller, owner, repo, listing)
    return _list_response(request, page)


# Organizations and users: the same operations over the repositories an account owns, routed under
# both prefixes (``_owner_routes``); ``login`` is the account the path names.

Login = NamedDependency[str]


async def list_owner_attestations(
    request: AnyRequest, subject_digest: FromPath[str], login: Login, caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    listing = _listing(request, subject_digest)
    return _list_response(request, await attestations.list_for_owner(read_conn, caller, login, listing))


async def bulk_list(
    request: AnyRequest, login: Login, caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    body = await parse_body(request, schemas.BulkList, schemas.RESOURCE)
    digests = schemas.parse_digests(body.subject_digests)
    predicate, page_at = schemas.predicate_filter(body.predicate_type), cursor(request)
    result = await attestations.bulk_list(
        read_conn,
        caller,
        login,
        digests,
        predicate,
        page_at,
        with_bundle=_with_bundle(request),
    )
    page = result.page
    by_digest: dict[str, list[dict[str, Any]]] = {}
    for attestation, item in zip(page.items, _items(request, page.items, initiator=False), strict=True):
        for digest in result.digests.get(attestation.id, []):
            by_digest.setdefault(digest, []).append(item)
    # Keyed as the client wrote each digest; one with nothing on this page maps to null.
    mapping = {
        raw: by_digest.get(str(digest)) for raw, digest in zip(body.subject_digests, digests, strict=True)
    }
    return json_response(
        {
            "attestations_subject_digests": mapping,
            "page_info": {
                "has_next": page.next_key is not None,
                "has_previous": page.prev_key is not None,
                "next": "" if page.next_key is None else encode_cursor(page.next_key),
                "previous": "" if page.prev_key is None else encode_cursor(page.prev_key),
            },
        }
    )


def _attestation_id(raw: str) -> int:
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


async def delete_bulk(
    request: AnyRequest, login: Login, caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    body = await parse_body(request, schemas.BulkDelete, schemas.RESOURCE)
    if (body.subject_digests is None) == (body.attestation_ids is None):
        raise ValidationFailed.one(
            schemas.RESOURCE,
            "subject_digests",
            "invalid",
            "the body must include either subject_digests or attestation_ids, but not both",
        )
    digests = None if body.subject_digests is None else schemas.parse_digests(body.subject_digests)
    # Ids beyond the database's BIGINT (or below 1) name nothing, as in a path.
    ids = None if body.attestation_ids is None else [i for i in body.attestation_ids if 0 < i <= MAX_ID]
    await attestations.delete(write_conn, caller, login, ids=ids, digests=digests)
    return no_content(200)


async def delete_by_digest(
    subject_digest: FromPath[str], login: Login, caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    await attestations.delete(write_conn, caller, login, digests=[schemas.parse_digest(subject_digest)])
    return no_content()


async def delete_by_id(
    subject_digest: FromPath[str], login: Login, caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    await attestations.delete(write_conn, caller, login, ids=[_attestation_id(subject_digest)])
    return no_content()


def _org(org: FromPath[str]) -> str:
    return org


def _user(username: FromPath[str]) -> str:
    return username


def _owner_routes(prefix: str, login: Callable[..., str]) -> Router:
    """Litestar gives each registered handler one owner, so each prefix wraps the operations anew."""
    return Router(
        prefix,
        dependencies={"login": Provide(login, sync_to_thread=False)},
        route_handlers=[
            get("/{subject_digest:str}")(list_owner_attestations),
            post("/bulk-list", status_code=200)(bulk_list),
            post("/delete-request", status_code=200)(delete_bulk),
            delete("/digest/{subject_digest:str}", status_code=200)(delete_by_digest),
            # The id shares its path position with the listing's subject digest, so both are strings.
            delete("/{subject_digest:str}", status_code=200)(delete_by_id),
        ],
    )


async def _repositories(
    request: AnyRequest, conn: AsyncConnection, caller: Principal, login: str
) -> Response[bytes]:
    predicate, page_at = _predicate(request), cursor(request)
    result = await attestations.repositories(conn, caller, login, predicate, page_at)
    return json_response(
        [{"id": repo_id, "name": name} for repo_id, name in result.items],
        headers=cursor_links(request, result.next_key, result.prev_key),
    )


# Only organizations list the repositories with attestations.
@get("/orgs/{org:str}/attestations/repositories")
async def org_attestation_repositories(
    request: AnyRequest, org: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    return await _repositories(request, read_conn, caller, org)


@get("/waybill/attestations/{attestation_id:int}/bundle")
async def attestation_bundle(request: AnyRequest, attestation_id: FromPath[int], db: Db) -> Response[bytes]:
    """The stored bundle, snappy-compressed, for a signed URL from a list (no token needed)."""
    params = request.query_params
    if not signer(request).check(
        "bundle", str(attestation_id), params.get("expires"), params.get("signature")
    ):
        raise NotFound()
    async with db.read() as conn:
        data = await attestations.bundle(conn, attestation_id)
    return Response(content=data, status_code=200, media_type="application/octet-stream")


# Verification: Waybill's extension.


def _verified_list(request: AnyRequest, page: Page[AttestationVerification]) -> Response[bytes]:
    url = _bundle_url(request)
    return json_response(
        {"attestations": [schemas.verified_list_item(attestation, url) for attestation in page.items]},
        headers=cursor_links(request, page.next_key, page.prev_key),
    )


@get("/waybill/repos/{owner:str}/{repo:str}/attestations/{attestation_id:str}/verification")
async def attestation_verification(
    owner: FromPath[str],
    repo: FromPath[str],
    attestation_id: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
) -> Response[bytes]:
    row = await attestations.verification(read_conn, caller, owner, repo, _attestation_id(attestation_id))
    return json_response(schemas.verification_detail(row))


@get("/waybill/repos/{owner:str}/{repo:str}/attestations/{subject_digest:str}")
async def list_repository_verified(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    subject_digest: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
) -> Response[bytes]:
    listing = _verified_listing(request, subject_digest)
    page = await attestations.list_verified_for_repository(read_conn, caller, owner, repo, listing)
    return _verified_list(request, page)


@get("/waybill/orgs/{org:str}/attestations/{subject_digest:str}")
async def list_owner_verified(
    request: AnyRequest,
    org: FromPath[str],
    subject_digest: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
) -> Response[bytes]:
    listing = _verified_listing(request, subject_digest)
    return _verified_list(
        request, await attestations.list_verified_for_owner(read_conn, caller, org, listing)
    )


# Operator interface (site administrators): policies, re-verification, jobs.


async def _policy_get(conn: AsyncConnection, caller: Principal, target: str) -> Response[bytes]:
    permissions.require_site_admin(caller)
    view = await attestations.show_policy(conn, await attestations.policy_scope(conn, target))
    return json_response(schemas.policy_view(view))


async def _policy_put(
    request: AnyRequest, conn: AsyncConnection, caller: Principal, target: str
) -> Response[bytes]:
    body = await parse_body(request, schemas.PolicyBody, schemas.POLICY_RESOURCE)
    permissions.require_site_admin(caller)
    scope = await attestations.policy_scope(conn, target)
    view = await attestations.set_policy(conn, scope, Mode(body.mode), body.allowed_workflows)
    return json_response(schemas.policy_view(view))


async def _policy_delete(conn: AsyncConnection, caller: Principal, target: str) -> Response[bytes]:
    permissions.require_site_admin(caller)
    view = await attestations.clear_policy(conn, await attestations.policy_scope(conn, target))
    return json_response(schemas.policy_view(view))


@get("/waybill/orgs/{org:str}/attestation-policy")
async def get_owner_policy(
    request: AnyRequest, org: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    return await _policy_get(read_conn, caller, org)


@put("/waybill/orgs/{org:str}/attestation-policy")
async def put_owner_policy(
    request: AnyRequest, org: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    return await _policy_put(request, write_conn, caller, org)


@delete("/waybill/orgs/{org:str}/attestation-policy", status_code=200)
async def delete_owner_policy(
    request: AnyRequest, org: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    return await _policy_delete(write_conn, caller, org)


@get("/waybill/repos/{owner:str}/{repo:str}/attestation-policy")
async def get_repository_policy(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    return await _policy_get(read_conn, caller, f"{owner}/{repo}")


@put("/waybill/repos/{owner:str}/{repo:str}/attestation-policy")
async def put_repository_policy(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    return await _policy_put(request, write_conn, caller, f"{owner}/{repo}")


@delete("/waybill/repos/{owner:str}/{repo:str}/attestation-policy", status_code=200)
async def delete_repository_policy(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], caller: Caller, write_conn: WriteConn
) -> Response[bytes]:
    return await _policy_delete(write_conn, caller, f"{owner}/{repo}")


@post("/waybill/attestations/reverify")
async def reverify(request: AnyRequest, db: Db, caller: Caller) -> Response[bytes]:
    """Queue a re-verification of every stored attestation (or answer the one already queued)."""
    permissions.require_site_admin(caller)
    # The worker is woken once the job is committed, where it can claim it.
    async with db.write() as conn:
        job, created = await attestations.request_reverify(conn, settings(request).trust_roots)
    if created:
        request.app.state.worker.wake()
    return json_response(schemas.job_body(job), 202 if created else 200)


# Jobs of every domain share one queue; a site administrator may follow any of them here.
@get("/waybill/jobs/{job_id:int}")
async def get_job(job_id: FromPath[int], caller: Caller, read_conn: ReadConn) -> Response[bytes]:
    permissions.require_site_admin(caller)
    job = await attestations.job(read_conn, job_id)
    return json_response(schemas.job_body(job))


route_handlers: list[Any] = [
    create_attestation,
    list_repository_attestations,
    org_attestation_repositories,
    _owner_routes("/orgs/{org:str}/attestations", _org),
    _owner_routes("/users/{username:str}/attestations", _user),
    attestation_bundle,
    attestation_verification,
    list_repository_verified,
    list_owner_verified,
    get_owner_policy,
    put_owner_policy,
    delete_owner_policy,
    get_repository_policy,
    put_repository_policy,
    delete_repository_policy,
    reverify,
    get_job,
]
