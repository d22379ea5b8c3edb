"""The rules of the attestations domain.

Verification on create follows the repository's policy:

- ``enforce``: the bundle is verified before anything is stored, and refused when it does not pass.
- ``record``: the bundle is stored with a verification job, in one transaction, and the create is
  answered without waiting for Sigstore; the server's job worker verifies it within about a second
  and stores the verdict as an inline check would. Until then the attestation is pending (its
  ``verification_queued_at`` set, no verdict). The job is in the database, so it outlives a restart,
  and it stores the same verdict when run again.
- ``off``: stored without verifying and nothing queued; the attestation stays unchecked, as ``off``
  has always meant (``waybill attestations reverify`` leaves it so too).

Everything that reads verdicts treats a pending attestation as one without a verdict: it is not
verified for ``?verified=`` and does not vouch for an artifact's repository under ``enforce``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cramjam
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository, Role
from waybill.attestations import checking
from waybill.attestations import repository as sql
from waybill.attestations.schemas import RESOURCE, SLSA_PROVENANCE, Bundle, PredicateFilter
from waybill.attestations.types import (
    DEFAULT_POLICY,
    AttestationVerification,
    BundleToVerify,
    Mode,
    Policy,
    StoredAttestation,
    StoredVerdict,
    VerificationDetail,
)
from waybill.attestations.verification import IdentityPolicy, Step, Verdict
from waybill.auth import permissions
from waybill.auth.repository import RepositoryIds
from waybill.auth.types import Need, Principal
from waybill.core import audit, clock, jobs, outbox
from waybill.core.db import Database
from waybill.core.errors import FieldError, NotFound, ValidationFailed
from waybill.core.keyset import Cursor, Page
from waybill.core.types import Digest

READ = Need(Role.READ, ("attestations",))
# GitHub documents "Attestations" repository permissions (write) for creating and for every delete.
WRITE = Need(Role.WRITE, ("attestations",))

# Every caller is a user acting through a personal access token (Waybill has no GitHub Actions).
USER_INITIATOR = "user"


@dataclass(frozen=True)
class Provenance:
    attestation_id: int
    repository_id: int


async def _owner(conn: AsyncConnection, login: str) -> Account:
    # Organizations and users alike: `gh attestation verify --owner` asks /orgs/{owner}/... for
    # personal accounts too.
    owner = await accounts.find_account(conn, login)
    if owner is None:
        raise NotFound()
    return owner


# Creating: the caller and the policy are read first; under ``enforce`` the bundle is verified outside
# any transaction (it takes milliseconds of CPU, in a process pool); then it is stored, with its verdict
# or with its queued verification.


@dataclass(frozen=True)
class UploadTarget:
    repository: Repository
    policy: Policy

    @property
    def verifies_later(self) -> bool:
        """Whether a create here queues the verification rather than waiting for it."""
        return self.policy.mode is Mode.RECORD


async def upload_target(conn: AsyncConnection, principal: Principal, owner: str, name: str) -> UploadTarget:
    """The repository an attestation is posted to, once the caller may write it, and its policy."""
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    await permissions.require(conn, principal, repo, WRITE)
    return UploadTarget(repo, await _policy_of(conn, repo))


async def check(trust_roots: Path | None, target: UploadTarget, bundle: Bundle) -> Verdict | None:
    """Under ``enforce``, the verdict, and a bundle that does not pass is refused here, before anything
    is stored. None under ``record`` (verified by the queued job) and ``off`` (not verified)."""
    if target.policy.mode is not Mode.ENFORCE:
        return None
    verdict = await checking.verify_bundle(trust_roots, bundle.raw)
    judged, violation = judge(verdict, target.repository.full_name, target.policy)
    if not judged.verified:
        raise _refusal(judged, violation, target.repository.full_name)
    return judged


async def store(
    conn: AsyncConnection,
    target: UploadTarget,
    bundle: Bundle,
    verdict: Verdict | None,
    trust_roots: Path | None = None,
    sender_id: int | None = None,
) -> int:
    """Store the bundle with its verdict (``enforce``), or with a job verifying it (``record``), in the
    caller's transaction: a create that commits always has its verification done or queued."""
    now = clock.now()
    attestation_id = await sql.insert_attestation(
        conn,
        repository_id=target.repository.id,
        bundle=bundle,
        # Snappy block format: the bytes GitHub serves from bundle_url and `gh` decodes.
        compressed=bytes(cramjam.snappy.compress_raw(bundle.raw)),
        initiator=USER_INITIATOR,
        now=now,
        queued=target.verifies_later,
    )
    if verdict is not None:
        await sql.upsert_verifications(conn, [_verification_row(attestation_id, verdict, now)])
    elif target.verifies_later:
        await queue_verification(conn, attestation_id, trust_roots)
    repo = target.repository
    await outbox.publish_object(
        conn,
        repo.owner.id,
        ATTESTATION_EVENT,
        action="created",
        repository_id=repo.id,
        sender_id=sender_id,
        body=_event_object(attestation_id, bundle.predicate_type, sorted(bundle.subject_digests), now),
    )
    return attestation_id


ATTESTATION_EVENT = "attestation"


async def _announce_failures(
    conn: AsyncConnection, owners: dict[int, int], records: Sequence[dict[str, Any]]
) -> None:
    """Queue ``attestation`` ``verification_failed`` for the failed verdicts among ``records``
    (``owners``: attestation id -> its repository's owner)."""
    failed = {r["attestation_id"]: r for r in records if not r["verified"]}
    # Read only for the owners whose hooks hear it: a re-verification may fail thousands at once.
    heard = {o for o in {owners[i] for i in failed} if await outbox.is_subscribed(conn, o, ATTESTATION_EVENT)}
    failed = {i: r for i, r in failed.items() if owners[i] in heard}
    if not failed:
        return
    for summary in await sql.summaries(conn, sorted(failed)):
        await outbox.publish_object(
            conn,
            owners[summary.id],
            ATTESTATION_EVENT,
            action="verification_failed",
            repository_id=summary.repository_id,
            sender_id=None,
            body=_event_object(
                summary.id,
                summary.predicate_type,
                summary.digests,
                summary.created_at,
                verification={"verified": False, "reason": failed[summary.id]["reason"]},
            ),
        )


def _event_object(
    attestation_id: int, predicate_type: str | None, digests: list[str], created_at: datetime, **extra: Any
) -> dict[str, Any]:
    """The ``attestation`` of the webhook event (docs/webhooks/attestation.schema.json)."""
    return {
        "id": attestation_id,
        "subject_digests": digests,
        "predicate_type": predicate_type,
        "created_at": clock.iso(created_at),
        **extra,
    }


def _source_repository_violation(identity_uri: str | None, full_name: str) -> str | None:
    if identity_uri is None:
        return "the certificate names no source repository"
    # Waybill repositories mirror the names of the forge's, not its host: the trust root and the
    # certificate's issuer say which instance signed.
    path = urlsplit(identity_uri).path.strip("/")
    if path.casefold() != full_name.casefold():
        return f"source repository {identity_uri} is not {full_name}, the repository it is posted to"
    return None


def judge(verdict: Verdict, full_name: str, policy: Policy) -> tuple[Verdict, str | None]:
    """The cryptographic verdict held to the repository's identity rules: its source repository is
    the repository the attestation is posted to, and its signer workflow is an allowed one (when the
    policy lists any). Returns the verdict to store and the rule broken, if any."""
    if not verdict.verified or verdict.identity is None:
        return verdict, None
    violation = _source_repository_violation(verdict.identity.source_repository_uri, full_name)
    if violation is None and policy.allowed_workflows:
        violation = IdentityPolicy(signer_workflows=policy.allowed_workflows).violation(verdict.identity)
    if violation is None:
        return verdict, None
    failed = dataclasses.replace(
        verdict, verified=False, failed_step=Step.IDENTITY, reason=f"{Step.IDENTITY.value}: {violation}"
    )
    return failed, violation


def _refusal(verdict: Verdict, violation: str | None, full_name: str) -> ValidationFailed:
    if violation is not None:
        field, message = (
            "bundle.verificationMaterial.certificate",
            f"{full_name} enforces verification: {violation}",
        )
    else:
        step = verdict.failed_step or Step.BUNDLE
        detail = (verdict.reason or "").removeprefix(f"{step.value}: ")
        field, message = "bundle", f"bundle does not verify (failed step: {step.value}): {detail}"
    return ValidationFailed([FieldError(RESOURCE, field, "invalid", message)])


def _clip(value: str | None, length: int = 1024) -> str | None:
    return None if value is None else value[:length]


def _verification_row(attestation_id: int, verdict: Verdict, now: datetime) -> dict[str, Any]:
    identity = verdict.identity
    described = verdict.as_dict()
    return {
        "attestation_id": attestation_id,
        "verified": verdict.verified,
        "failed_step": verdict.failed_step.value if verdict.failed_step else None,
        "reason": verdict.reason,
        "trust_root": _clip(verdict.trust_root, 255),
        "time_source": verdict.time_source.value if verdict.time_source else None,
        "signed_at": verdict.signed_at,
        "san": _clip(identity.san if identity else None),
        "issuer": _clip(identity.issuer if identity else None),
        "source_repository_uri": _clip(identity.source_repository_uri if identity else None),
        "build_signer_uri": _clip(identity.build_signer_uri if identity else None),
        "identity": identity.as_dict() if identity else {},
        "details": {key: described[key] for key in ("content", "payload_type", "times", "log_entries")},
        "checked_at": now,
    }


def decompress(data: bytes) -> bytes:
    return bytes(cramjam.snappy.decompress_raw(data))


@dataclass(frozen=True)
class DigestListing:
    """What a list of one digest's attestations asks for, beyond whose they are."""

    digest: Digest
    predicate: PredicateFilter | None
    cursor: Cursor
    with_bundle: bool
    # Only the verified list is narrowed by it.
    verified: bool | None = None


async def _list_by_digest(
    conn: AsyncConnection, listing: DigestListing, readable: RepositoryIds | None, **owned_by: int
) -> Page[StoredAttestation]:
    return await sql.list_by_digest(
        conn,
        digest=str(listing.digest),
        readable=readable,
        predicate=listing.predicate,
        with_bundle=listing.with_bundle,
        cursor=listing.cursor,
        **owned_by,
    )


async def _list_verified_by_digest(
    conn: AsyncConnection, listing: DigestListing, readable: RepositoryIds | None, **owned_by: int
) -> Page[AttestationVerification]:
    return await sql.list_verified_by_digest(
        conn,
        digest=str(listing.digest),
        readable=readable,
        predicate=listing.predicate,
        verified=listing.verified,
        cursor=listing.cursor,
        **owned_by,
    )


async def _readable_repository(
    conn: AsyncConnection, principal: Principal, owner: str, name: str
) -> Repository:
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    await permissions.require(conn, principal, repo, READ)
    return repo


async def list_for_repository(
    conn: AsyncConnection, principal: Principal, owner: str, name: str, listing: DigestListing
) -> Page[StoredAttestation]:
    repo = await _readable_repository(conn, principal, owner, name)
    return await _list_by_digest(conn, listing, None, repository_id=repo.id)


async def list_for_owner(
    conn: AsyncConnection, principal: Principal, login: str, listing: DigestListing
) -> Page[StoredAttestation]:
    owner = await _owner(conn, login)
    readable = permissions.readable_repository_ids(principal, READ)
    return await _list_by_digest(conn, listing, readable, owner_id=owner.id)


async def list_verified_for_repository(
    conn: AsyncConnection, principal: Principal, owner: str, name: str, listing: DigestListing
) -> Page[AttestationVerification]:
    repo = await _readable_repository(conn, principal, owner, name)
    return await _list_verified_by_digest(conn, listing, None, repository_id=repo.id)


async def list_verified_for_owner(
    conn: AsyncConnection, principal: Principal, login: str, listing: DigestListing
) -> Page[AttestationVerification]:
    owner = await _owner(conn, login)
    readable = permissions.readable_repository_ids(principal, READ)
    return await _list_verified_by_digest(conn, listing, readable, owner_id=owner.id)


async def bulk_list(
    conn: AsyncConnection,
    principal: Principal,
    login: str,
    digests: Sequence[Digest],
    predicate: PredicateFilter | None,
    cursor: Cursor,
    *,
    with_bundle: bool,
) -> sql.BulkPage:
    owner = await _owner(conn, login)
    return await sql.bulk_list(
        conn,
        digests=sorted({str(d) for d in digests}),
        owner_id=owner.id,
        readable=permissions.readable_repository_ids(principal, READ),
        predicate=predicate,
        with_bundle=with_bundle,
        cursor=cursor,
    )


async def delete(
    conn: AsyncConnection,
    principal: Principal,
    login: str,
    *,
    ids: Sequence[int] | None = None,
    digests: Sequence[Digest] | None = None,
) -> int:
    """Delete the owner's attestations with these ids or subject digests; the number deleted.

    Attestations of repositories the caller cannot see are left alone as if absent (404 when nothing
    else matches). A visible repository the caller may not write refuses the whole request, so that
    a delete never half-applies.
    """
    owner = await _owner(conn, login)
    rows = await sql.owned(
        conn, owner.id, ids=ids, digests=None if digests is None else [str(d) for d in digests]
    )
    repos = await accounts.repositories_by_ids(conn, {row.repository_id for row in rows})
    decisions = await permissions.allowed(conn, principal, list(repos.values()), WRITE)
    visible = [row for row in rows if not isinstance(decisions[row.repository_id], NotFound)]
    if not visible:
        raise NotFound()
    for repository_id in sorted({row.repository_id for row in visible}):
        error = decisions[repository_id]
        if error is not None:
            raise error
    if await outbox.is_subscribed(conn, owner.id, ATTESTATION_EVENT):
        # Described before they go: the event outlives them.
        sender_id = None if principal.user is None else principal.user.id
        for row in await sql.summaries(conn, [row.id for row in visible]):
            await outbox.publish_object(
                conn,
                owner.id,
                ATTESTATION_EVENT,
                action="deleted",
                repository_id=row.repository_id,
                sender_id=sender_id,
                body=_event_object(row.id, row.predicate_type, row.digests, row.created_at),
            )
    await sql.delete_ids(conn, [row.id for row in visible])
    return len(visible)


async def repositories(
    conn: AsyncConnection,
    principal: Principal,
    login: str,
    predicate: PredicateFilter | None,
    cursor: Cursor,
) -> Page[tuple[int, str]]:
    owner = await _owner(conn, login)
    return await sql.repositories_page(
        conn,
        owner_id=owner.id,
        readable=permissions.readable_repository_ids(principal, READ),
        predicate=predicate,
        cursor=cursor,
    )


async def bundle(conn: AsyncConnection, attestation_id: int) -> bytes:
    """The stored (snappy-compressed) bundle."""
    data = await sql.bundle_data(conn, attestation_id)
    if data is None:
        raise NotFound()
    return data


async def provenance_for(
    conn: AsyncConnection, owner_id: int, digests: Sequence[str]
) -> dict[str, Provenance]:
    """For each ``sha256:`` digest, the newest provenance attestation stored in a repository owned by
    ``owner_id``: the artifact metadata writes take the artifact's repository from it.

    A repository whose policy is ``enforce`` vouches only for provenance that verified (and was
    signed by that repository): an attestation stored there before the policy was set, or that no
    longer verifies after a re-verification, does not name the artifact's repository. Under
    ``record`` and ``off`` any provenance counts, as on GitHub, which does not verify at all.
    """
    if not digests:
        return {}
    wanted = {digest.lower(): digest for digest in digests}
    rows = await sql.newest_with_predicate(conn, owner_id, sorted(wanted), SLSA_PROVENANCE)
    return {wanted[row.digest]: Provenance(row.id, row.repository_id) for row in rows}


@dataclass(frozen=True)
class Summary:
    """An attestation as the web pages show it: who stored it where, its bundle as received, and its
    verdict (None when it was not checked; ``pending``: its verification is queued)."""

    id: int
    repository_id: int
    predicate_type: str
    created_at: datetime
    bundle: bytes
    verdict: StoredVerdict | None = None
    pending: bool = False

    @property
    def is_provenance(self) -> bool:
        return self.predicate_type in SLSA_PROVENANCE


async def newest_for_digest(
    conn: AsyncConnection, principal: Principal, login: str, digest: Digest, limit: int = 20
) -> list[Summary]:
    """The newest attestations of ``login``'s repositories the caller may read, for one digest."""
    owner = await _owner(conn, login)
    rows = await sql.newest_for_digest(
        conn,
        owner_id=owner.id,
        digest=str(digest),
        readable=permissions.readable_repository_ids(principal, READ),
        limit=limit,
    )
    return [
        Summary(
            r.id,
            r.repository_id,
            r.predicate_type,
            r.created_at,
            decompress(r.compressed_bundle),
            r.verdict,
            pending=r.verification_queued_at is not None,
        )
        for r in rows
    ]


async def provenance_verified(
    conn: AsyncConnection, principal: Principal, owner_id: int, digests: Sequence[str]
) -> dict[str, str]:
    """For each digest with provenance in the owner's repositories the caller may read, the status of
    its newest provenance attestation: ``verified``, ``failed``, ``pending`` (queued, not checked yet)
    or ``unchecked``. Digests without provenance are left out."""
    if not digests:
        return {}
    rows = await sql.provenance_verdicts(
        conn,
        owner_id=owner_id,
        digests=sorted(set(digests)),
        readable=permissions.readable_repository_ids(principal, READ),
        predicate_types=SLSA_PROVENANCE,
    )
    found: dict[str, str] = {}
    for row in rows:
        if row.verified is not None:
            status = "verified" if row.verified else "failed"
        else:
            status = "pending" if row.verification_queued_at is not None else "unchecked"
        found.setdefault(row.digest, status)
    return found


# Verification results.


async def verification(
    conn: AsyncConnection, principal: Principal, owner: str, name: str, attestation_id: int
) -> VerificationDetail:
    """The attestation with its verification."""
    repo = await accounts.find_repository(conn, owner, name)
    if repo is None:
        raise NotFound()
    await permissions.require(conn, principal, repo, READ)
    found = await sql.verification(conn, attestation_id, repo.id)
    if found is None:
        raise NotFound()
    return found


# Policies, set by the operator (CLI, or a site administrator over HTTP).


def _effective(repository: Policy | None, owner: Policy | None) -> Policy:
    if repository is not None:
        return repository
    if owner is not None:
        return owner
    return DEFAULT_POLICY


async def _policy_of(conn: AsyncConnection, repo: Repository) -> Policy:
    return _effective(*await sql.policies(conn, repo.id, repo.owner.id))


@dataclass(frozen=True)
class PolicyScope:
    """``OWNER`` or ``OWNER/REPO``."""

    owner: Account
    repository: Repository | None

    @property
    def name(self) -> str:
        return self.repository.full_name if self.repository else self.owner.login


async def policy_scope(conn: AsyncConnection, target: str) -> PolicyScope:
    login, _, name = target.partition("/")
    if name:
        repo = await accounts.find_repository(conn, login, name)
        if repo is None:
            raise NotFound(f"no repository {target}")
        return PolicyScope(repo.owner, repo)
    owner = await accounts.find_account(conn, login)
    if owner is None:
        raise NotFound(f"no user or organization {login}")
    return PolicyScope(owner, None)


@dataclass(frozen=True)
class PolicyView:
    scope: PolicyScope
    # The policy set on this scope itself, and the one that applies to it (for an owner: to its
    # repositories without their own).
    own: Policy | None
    effective: Policy


async def show_policy(conn: AsyncConnection, scope: PolicyScope) -> PolicyView:
    repository, owner = await sql.policies(
        conn, scope.repository.id if scope.repository else 0, scope.owner.id
    )
    if scope.repository is None:
        return PolicyView(scope, owner, owner or DEFAULT_POLICY)
    return PolicyView(scope, repository, _effective(repository, owner))


def _check_workflows(workflows: Sequence[str]) -> list[str]:
    errors = []
    for i, uri in enumerate(workflows):
        parts = urlsplit(uri)
        if parts.scheme != "https" or not parts.netloc or "/.github/workflows/" not in parts.path:
            errors.append(
                FieldError(
                    "AttestationPolicy",
                    "allowed_workflows",
                    "invalid",
                    "an allowed workflow is a URI such as "
                    "https://github.com/OWNER/REPO/.github/workflows/FILE.yml, optionally with @REF",
                    uri,
                    i,
                )
            )
    if errors:
        raise ValidationFailed(errors)
    # Kept in the order given, without repeats.
    return list(dict.fromkeys(workflows))


async def set_policy(
    conn: AsyncConnection, scope: PolicyScope, mode: Mode, allowed_workflows: Sequence[str]
) -> PolicyView:
    workflows = _check_workflows(allowed_workflows)
    now = clock.now()
    if scope.repository is not None:
        await sql.set_repository_policy(conn, scope.repository.id, mode.value, workflows, now)
    else:
        await sql.set_owner_policy(conn, scope.owner.id, mode.value, workflows, now)
    await _audit_policy(conn, scope, "verification_policy.updated")
    return await show_policy(conn, scope)


async def clear_policy(conn: AsyncConnection, scope: PolicyScope) -> PolicyView:
    """Remove the scope's own policy: a repository follows its owner again, an owner the default."""
    if scope.repository is not None:
        await sql.delete_repository_policy(conn, scope.repository.id)
    else:
        await sql.delete_owner_policy(conn, scope.owner.id)
    await _audit_policy(conn, scope, "verification_policy.deleted")
    return await show_policy(conn, scope)


async def _audit_policy(conn: AsyncConnection, scope: PolicyScope, action: str) -> None:
    repository = scope.repository
    target = scope.owner.login if repository is None else repository.full_name
    await audit.record(
        conn,
        scope.owner.id,
        action,
        repository_id=None if repository is None else repository.id,
        target=target,
    )


# The verification queued by a create under ``record``.

VERIFY_JOB = "attestations.verify"


async def queue_verification(conn: AsyncConnection, attestation_id: int, trust_roots: Path | None) -> int:
    # Keyed by the attestation, so that its job can be found; the roots are the server's, as for an
    # inline check (and as ``request_reverify`` records them).
    payload = {
        "attestation_id": attestation_id,
        "trust_roots": None if trust_roots is None else str(trust_roots),
    }
    return await jobs.enqueue(conn, VERIFY_JOB, payload, key=str(attestation_id))


async def verify_queued(db: Database, job: jobs.Job) -> dict[str, Any]:
    """Verify one attestation stored under ``record`` and store its verdict, as ``check`` and ``store``
    would have inline. The policy is the repository's when the job runs, as for a re-verification:
    turned ``off`` meanwhile, no verdict is stored. Only upserts, so a job run again after a crash
    stores the same verdict; an attestation deleted meanwhile ends the job with nothing stored."""
    attestation_id = int(job.payload["attestation_id"])
    raw_roots = job.payload.get("trust_roots")
    async with db.read() as conn:
        row = await sql.to_verify(conn, attestation_id)
        if row is None:
            return {"attestation_id": attestation_id, "status": "deleted"}
        policy = _effective(*await sql.policies(conn, row.repository_id, row.owner_id))
    record = None
    if policy.mode is not Mode.OFF:
        verdict = await checking.verify_bundle(Path(raw_roots) if raw_roots else None, decompress(row.data))
        judged, _ = judge(verdict, f"{row.owner_login}/{row.repository_name}", policy)
        record = _verification_row(attestation_id, judged, clock.now())
    async with db.write() as conn:
        stored = await sql.store_queued_verdict(conn, attestation_id, record)
        if stored and record is not None and not record["verified"]:
            await _announce_failures(conn, {attestation_id: row.owner_id}, [record])
    if not stored:
        status = "deleted"
    elif record is None:
        status = "skipped"
    else:
        status = "verified" if record["verified"] else "failed"
    return {"attestation_id": attestation_id, "status": status}


# Re-verification of every stored attestation, when the trust roots changed.

REVERIFY_JOB = "attestations.reverify"
# One job at a time: asking again while one is queued or running answers that one.
REVERIFY_KEY = "all"
REVERIFY_BATCH = 200


async def request_reverify(conn: AsyncConnection, trust_roots: Path | None) -> tuple[jobs.Job, bool]:
    """The active re-verification job, or a new one; and whether it was created now."""
    active = await jobs.find_active(conn, REVERIFY_JOB, REVERIFY_KEY)
    if active is not None:
        return active, False
    payload = {"trust_roots": None if trust_roots is None else str(trust_roots)}
    job_id = await jobs.enqueue(conn, REVERIFY_JOB, payload, key=REVERIFY_KEY)
    job = await jobs.get(conn, job_id)
    assert job is not None
    return job, True


async def job(conn: AsyncConnection, job_id: int) -> jobs.Job:
    found = await jobs.get(conn, job_id)
    if found is None:
        raise NotFound()
    return found


async def reverify(db: Database, job: jobs.Job) -> dict[str, Any]:
    """Verify again, in batches by id, every attestation stored when the job started, under its
    repository's policy now (``off``: left as it is). Progress is stored with each batch's verdicts,
    so a job taken over after a restart continues where the last batch ended."""
    roots, batch_size = _reverify_options(job.payload or {})
    progress: dict[str, Any] = dict(job.result or {})
    if "upto_id" not in progress:
        progress = await _begin_reverify(db, job.id)
    while rows := await _reverify_batch(db, progress, batch_size):
        policies = await _policies_of(db, rows)
        checked = [r for r in rows if policies[r.id].mode is not Mode.OFF]
        records = await _verdicts(roots, checked, policies)
        progress = await _store_verdicts(db, job.id, _advanced(progress, rows, records), checked, records)
    return progress


def _reverify_options(payload: dict[str, Any]) -> tuple[Path | None, int]:
    """The trust roots to verify with (None: the configured ones) and the batch size."""
    roots = payload.get("trust_roots")
    return (Path(roots) if roots else None), int(payload.get("batch_size") or REVERIFY_BATCH)


async def _store_verdicts(
    db: Database,
    job_id: int,
    progress: dict[str, Any],
    checked: Sequence[BundleToVerify],
    records: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """One batch's verdicts and the job's progress, in one transaction."""
    async with db.write() as conn:
        # Attestations deleted since the batch was read are left out.
        remaining = set(await sql.existing_ids(conn, [r["attestation_id"] for r in records]))
        kept = [r for r in records if r["attestation_id"] in remaining]
        await sql.upsert_verifications(conn, kept)
        await _announce_failures(conn, {r.id: r.owner_id for r in checked}, kept)
        await sql.record_job_progress(conn, job_id, progress)
    return progress


async def _begin_reverify(db: Database, job_id: int) -> dict[str, Any]:
    """The job's bounds, fixed when it starts: attestations stored later are verified on upload."""
    async with db.write() as conn:
        upto = await sql.last_attestation_id(conn)
        total = await sql.count_between(conn, 0, upto)
        progress = {"processed": 0, "total": total, "verified": 0, "failed": 0, "skipped": 0}
        progress |= {"last_id": 0, "upto_id": upto}
        await sql.record_job_progress(conn, job_id, progress)
    return progress


async def _reverify_batch(db: Database, progress: dict[str, Any], size: int) -> list[BundleToVerify]:
    async with db.read() as conn:
        return await sql.batch_after(conn, progress["last_id"], progress["upto_id"], size)


async def _policies_of(db: Database, rows: Sequence[BundleToVerify]) -> dict[int, Policy]:
    """Each attestation's policy now, by attestation id."""
    async with db.read() as conn:
        of_repositories, of_owners = await sql.policies_of_many(
            conn, sorted({r.repository_id for r in rows}), sorted({r.owner_id for r in rows})
        )
    return {r.id: _effective(of_repositories.get(r.repository_id), of_owners.get(r.owner_id)) for r in rows}


async def _verdicts(
    roots: Path | None, rows: Sequence[BundleToVerify], policies: dict[int, Policy]
) -> list[dict[str, Any]]:
    verdicts = await checking.verify_bundles(roots, [decompress(r.data) for r in rows])
    now = clock.now()
    return [
        _verification_row(
            row.id, judge(verdict, f"{row.owner_login}/{row.repository_name}", policies[row.id])[0], now
        )
        for row, verdict in zip(rows, verdicts, strict=True)
    ]


def _advanced(
    progress: dict[str, Any], rows: Sequence[BundleToVerify], records: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The progress after one batch: ``skipped`` counts the attestations whose policy is ``off``."""
    verified = sum(1 for r in records if r["verified"])
    return {
        **progress,
        "processed": progress["processed"] + len(rows),
        "verified": progress["verified"] + verified,
        "failed": progress["failed"] + len(records) - verified,
        "skipped": progress["skipped"] + len(rows) - len(records),
        "last_id": rows[-1].id,
    }


def subjects_of(repository_ids: Sequence[int]) -> Any:
    """The same, as a query another domain joins in SQL (see ``artifacts.service.footprint``)."""
    return sql.subjects_of(repository_ids)


async def subject_digests(conn: AsyncConnection, repository_ids: Sequence[int]) -> dict[int, set[str]]:
    """The artifact digests each repository attested (the subjects of its attestations), for other
    domains that follow artifacts from the repository that built them. No permission check: the
    caller has decided which repositories to ask about."""
    found: dict[int, set[str]] = {}
    for repository_id, digest in await sql.subject_digests(conn, repository_ids):
        found.setdefault(repository_id, set()).add(digest)
    return found
