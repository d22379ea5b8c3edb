"""The rules of the admission gate: who may ask, the policies, and the one decision every entry
point takes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.types import Account, OrgRole, Role
from waybill.admission import repository as sql
from waybill.admission import schemas
from waybill.admission.types import (
    Decision,
    DecisionFilter,
    EnvironmentPolicy,
    Image,
    ImageDecision,
    Mode,
    OpenAlert,
    RepositoryName,
    Request,
    SignedProvenance,
    StoredDecision,
    Verdict,
    severities_above,
)
from waybill.artifacts import service as artifacts
from waybill.attestations.schemas import SLSA_PROVENANCE
from waybill.auth import permissions
from waybill.auth.types import Principal, TokenKind
from waybill.core import audit, clock, outbox
from waybill.core.db import Database
from waybill.core.errors import Forbidden, NotFound

# Enough to say which alerts block an image without listing them all.
ALERTS_NAMED = 3


# Callers.


def _readable(caller: Principal, org: Account | None, role: OrgRole | None) -> Account:
    """The organization, when the caller may read its artifact metadata: a member's classic token
    (``role`` is the caller's in it), or a token for this organization with ``artifact_metadata:read``
    (or ``contents:read``). Anyone else learns nothing of it (404)."""
    user = permissions.require_authenticated(caller)
    if org is None or not org.is_org:
        raise NotFound()
    token = caller.token
    if token is not None and token.kind is not TokenKind.CLASSIC:
        if token.resource_owner_id != org.id:
            raise NotFound()
        if not any(token.level(name) >= Role.READ for name in ("artifact_metadata", "contents")):
            raise Forbidden(f"Resource not accessible by {token.refusal} (requires artifact_metadata:read).")
        return org
    if role is None and not user.site_admin:
        raise NotFound()
    return org


async def reader(conn: AsyncConnection, caller: Principal, login: str) -> Account:
    """The organization, when the caller may read its artifact metadata (``_readable``)."""
    user = permissions.require_authenticated(caller)
    org = await accounts.find_account(conn, login)
    role = await accounts.org_role(conn, org, user) if org is not None and org.is_org else None
    return _readable(caller, org, role)


async def owner(conn: AsyncConnection, caller: Principal, login: str) -> Account:
    """The organization, when the caller owns it (or is a site administrator)."""
    org = await reader(conn, caller, login)
    if await permissions.require_org_member(conn, caller, org) is not OrgRole.OWNER:
        raise Forbidden("Must be an organization owner to set its admission policy.")
    return org


# Policies.


async def policies(conn: AsyncConnection, org: Account) -> dict[str, EnvironmentPolicy]:
    return await sql.policies(conn, org.id)


async def replace_policies(
    conn: AsyncConnection, org: Account, environments: Mapping[str, EnvironmentPolicy]
) -> dict[str, EnvironmentPolicy]:
    await sql.replace_policies(conn, org.id, environments, clock.now())
    await audit.record(conn, org.id, "admission_policy.replaced", repository_id=None)
    return await sql.policies(conn, org.id)


async def set_policy(
    conn: AsyncConnection, login: str, environment: str, value: EnvironmentPolicy
) -> dict[str, EnvironmentPolicy]:
    """The operator's way (CLI): one environment's policy, the others kept."""
    org = await accounts.get_org(conn, login)
    await sql.set_policy(conn, org.id, environment, value, clock.now())
    await audit.record(conn, org.id, "admission_policy.updated", repository_id=None, target=environment)
    return await sql.policies(conn, org.id)


async def policies_of(conn: AsyncConnection, login: str) -> dict[str, EnvironmentPolicy]:
    return await sql.policies(conn, (await accounts.get_org(conn, login)).id)


# The decision.


@dataclass(frozen=True)
class _Facts:
    """What the database holds about the digests asked about, read in a few statements."""

    provenance: dict[str, list[SignedProvenance]]
    repositories: dict[int, RepositoryName]
    registries: dict[str, set[str]]
    alerts: dict[int, list[OpenAlert]]


def _narrowing_misses(
    policy: EnvironmentPolicy, found: SignedProvenance, repo: RepositoryName | None
) -> list[str]:
    misses: list[str] = []
    if policy.repositories:
        names = {n.lower() for n in policy.repositories}
        if repo is None or not ({repo.name.lower(), repo.full_name.lower()} & names):
            name = repo.full_name if repo else "unknown"
            misses.append(f"repository {name} is not one of {', '.join(policy.repositories)}")
    if policy.workflows:
        signer = found.build_signer_uri or ""
        if not any(signer == w or signer.split("@", 1)[0] == w for w in policy.workflows):
            misses.append(f"workflow {signer or 'unknown'} is not one of {', '.join(policy.workflows)}")
    if policy.refs and found.source_repository_ref not in policy.refs:
        misses.append(
            f"ref {found.source_repository_ref or 'unknown'} is not one of {', '.join(policy.refs)}"
        )
    return misses


def _provenance(
    policy: EnvironmentPolicy, org: Account, candidates: Sequence[SignedProvenance], facts: _Facts
) -> tuple[SignedProvenance | None, str | None]:
    """The provenance that satisfies the policy (None if none does), and why none does."""
    verified = [c for c in candidates if c.verified]
    misses: list[str] = []
    for found in verified:
        missed = _narrowing_misses(policy, found, facts.repositories.get(found.repository_id))
        if not missed:
            return found, None
        misses.extend(missed)
    if not candidates:
        return None, (
            f"provenance: no provenance attestation of this digest in a repository of {org.login}; "
            "attest the build and upload the attestation to the repository that built it"
        )
    if not verified:
        return None, (
            "provenance: no provenance attestation of this digest verified (failed or not checked yet); "
            "upload a bundle that verifies, signed by the repository that built it"
        )
    return None, f"provenance: verified provenance does not match the policy: {'; '.join(misses)}"


def _builder(candidates: Sequence[SignedProvenance]) -> int | None:
    """The repository that built the digest: of its newest verified provenance, else its newest."""
    for found in candidates:
        if found.verified:
            return found.repository_id
    return candidates[0].repository_id if candidates else None


def _judge(policy: EnvironmentPolicy, org: Account, image: Image, facts: _Facts) -> ImageDecision:
    digest = image.digest
    for prefix in policy.exempt_images:
        if image.reference.startswith(prefix):
            return ImageDecision(image, digest, True, (f"exempt: the policy exempts images under {prefix}",))
    if digest is None:
        return ImageDecision(
            image,
            None,
            False,
            (
                "digest: referenced by tag only, so what runs cannot be checked; "
                "pin the image by digest (IMAGE@sha256:...)",
            ),
        )
    reasons: list[str] = []
    candidates = facts.provenance.get(digest, [])
    if policy.require_provenance:
        _, why = _provenance(policy, org, candidates, facts)
        if why is not None:
            reasons.append(why)
    if policy.max_open_alert_severity is not None:
        builder = _builder(candidates)
        if builder is None:
            reasons.append(
                "alerts: no provenance names the repository that built this digest, so its open alerts "
                "cannot be checked; upload its provenance attestation"
            )
        else:
            found = facts.alerts.get(builder, [])
            if found:
                repo = facts.repositories.get(builder)
                named = ", ".join(f"#{a.number} {a.ghsa_id} ({a.severity}, {a.package_name})" for a in found)
                reasons.append(
                    f"alerts: {repo.full_name if repo else 'its repository'} has open alerts above "
                    f"{policy.max_open_alert_severity}: {named}; fix or dismiss them"
                )
    if policy.registries:
        stored = facts.registries.get(digest, set())
        if not any(artifacts.same_registry(url, allowed) for url in stored for allowed in policy.registries):
            where = f"stored in {', '.join(sorted(stored))}" if stored else "no storage record"
            reasons.append(f"registry: {where}; record its storage in one of {', '.join(policy.registries)}")
    return ImageDecision(image, digest, not reasons, tuple(reasons))


async def _facts(db: Database, org: Account, policy: EnvironmentPolicy, digests: list[str]) -> _Facts:
    needs_provenance = policy.require_provenance or policy.max_open_alert_severity is not None
    provenance = await sql.provenance(db, org.id, digests, SLSA_PROVENANCE) if needs_provenance else {}
    registries = await sql.registries(db, org.id, digests) if policy.registries else {}
    open_alerts: dict[int, list[OpenAlert]] = {}
    if policy.max_open_alert_severity is not None:
        forbidden = severities_above(policy.max_open_alert_severity)
        builders = {b for b in (_builder(found) for found in provenance.values()) if b is not None}
        if forbidden and builders:
            open_alerts = await sql.open_alerts(
                db, sorted(builders), forbidden, with_patch=policy.only_alerts_with_patch, limit=ALERTS_NAMED
            )
    # Names are read only where a rule compares them or a reason shows them.
    named = (
        {c.repository_id for found in provenance.values() for c in found} if policy.repositories else set()
    )
    named |= set(open_alerts)
    repositories = await sql.repository_names(db, sorted(named)) if named else {}
    return _Facts(provenance, repositories, registries, open_alerts)


async def decide(db: Database, org: Account, request: Request, policy: EnvironmentPolicy | None) -> Decision:
    """The one decision: every image judged against the environment's policy."""
    if policy is None:
        note = f"no admission policy for environment {request.environment} of {org.login}: allowed unchecked"
        images = tuple(ImageDecision(i, i.digest, True, ()) for i in request.images)
        return Decision(True, Verdict.ALLOWED, None, images, warnings=(note,), notes=(note,))
    if request.namespace is not None and request.namespace in policy.exempt_namespaces:
        note = f"exempt: the policy exempts namespace {request.namespace}"
        images = tuple(ImageDecision(i, i.digest, True, ()) for i in request.images)
        return Decision(True, Verdict.ALLOWED, policy.mode, images, notes=(note,))
    digests = sorted({d for d in (i.digest for i in request.images) if d is not None})
    facts = await _facts(db, org, policy, digests)
    judged = tuple(_judge(policy, org, image, facts) for image in request.images)
    if all(item.passed for item in judged):
        return Decision(True, Verdict.ALLOWED, policy.mode, judged)
    failed = Decision(False, Verdict.DENIED, policy.mode, judged)
    if policy.mode is Mode.AUDIT:
        return Decision(True, Verdict.WARNED, policy.mode, judged, warnings=tuple(failed.reasons))
    return failed


async def admit(db: Database, caller: Principal, login: str, request: Request) -> Decision:
    """Decide, and record the decision (a dry run is decided, never recorded: the webhook declares
    no side effects on dry runs). The reads need not share one snapshot, and the record is one
    statement: no transaction."""
    user = permissions.require_authenticated(caller)
    found = await sql.context(db, login, user.id, request.environment)
    org = _readable(caller, found.org, found.role)
    decision = await decide(db, org, request, found.policy)
    if not request.dry_run:
        row = _row(org, request, decision)
        await sql.insert_decision(db, row, lambda decision_id: _event(org, user.id, decision_id, row))
    return decision


DECISION_EVENT = "admission_decision"


def _event(org: Account, sender_id: int, decision_id: int, row: dict[str, Any]) -> outbox.Event:
    """``admission_decision``, its action the verdict: the decision as the decisions list shows it,
    less the deployment it links to (looked up when listed)."""
    fields = {k: v for k, v in row.items() if k != "org_id"}
    stored = schemas.stored_decision(StoredDecision(id=decision_id, **fields))
    del stored["deployment"]
    return outbox.Event(org.id, DECISION_EVENT, str(row["verdict"]), None, sender_id, stored)


def _row(org: Account, request: Request, decision: Decision) -> dict[str, object]:
    return {
        "org_id": org.id,
        "environment": request.environment,
        "entry": str(request.entry),
        "namespace": request.namespace,
        "workload": request.workload,
        "operation": request.operation,
        "mode": None if decision.mode is None else str(decision.mode),
        "verdict": str(decision.verdict),
        "allowed": decision.allowed,
        "images": [
            {
                "image": item.image.reference,
                "container": item.image.container,
                "digest": item.digest,
                "allowed": item.passed,
                "reasons": list(item.reasons),
            }
            for item in decision.images
        ],
        "reasons": decision.reasons,
        "created_at": clock.now(),
    }


# The decision log.


async def decisions(
    conn: AsyncConnection,
    caller: Principal,
    login: str,
    where: DecisionFilter,
    *,
    per_page: int,
    after: int | None,
) -> tuple[list[StoredDecision], int | None]:
    """A page of decisions, each linked to the first deployment record of one of its digests in its
    environment recorded since it was taken (looked up now: the record may come later)."""
    org = await reader(conn, caller, login)
    page, next_key = await sql.decisions(conn, org.id, where, per_page=per_page, after=after)
    linked: list[StoredDecision] = []
    for item in page:
        digests = [i["digest"] for i in item.images if i.get("digest")]
        found = await artifacts.first_deployments_since(
            conn, org.id, item.environment, digests, item.created_at
        )
        first = min(found.values(), key=lambda row: row.recorded_at, default=None)
        deployment = (
            None
            if first is None
            else {
                "digest": first.digest,
                "deployment_record_id": first.record_id,
                "deployment_name": first.deployment_name,
                "cluster": first.cluster or None,
                "recorded_at": clock.iso(first.recorded_at),
            }
        )
        linked.append(replace(item, deployment=deployment))
    return linked, next_key
