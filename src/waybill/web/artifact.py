"""The artifact page (everything known about one digest in an organization), its deployment history,
and the attestation page."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.accounts.types import Repository
from waybill.alerts import service as dependabot
from waybill.artifacts import service as artifacts
from waybill.artifacts.types import ArtifactFilter, HistoryFilter
from waybill.attestations import service as attestations
from waybill.attestations.verification.bundle import BundleError, Dsse, parse_bundle
from waybill.attestations.verification.identity import signer_identity
from waybill.core.errors import DomainError, NotFound
from waybill.core.keyset import Cursor
from waybill.core.types import Digest
from waybill.dependencies import service as dependencies
from waybill.dependencies.types import Dependency
from waybill.http.context import AnyRequest, Caller, ReadConn
from waybill.http.pagination import encode_cursor
from waybill.web.common import digest_param, page_cursor
from waybill.web.render import page
from waybill.web.viewer import SignedIn

GIT_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# The artifact page shows the newest entries of the history; its own page shows them all.
TIMELINE_ENTRIES = 10
# The artifact page lists this many of its repository's open alerts, newest first.
OPEN_ALERTS = 20
# A predicate larger than this is cut on the attestation page (the API serves the whole bundle).
PREDICATE_CHARS = 20_000


@dataclass(frozen=True)
class Statement:
    subjects: list[tuple[str, str]]
    predicate: Any


@dataclass(frozen=True)
class AttestationRow:
    summary: attestations.Summary
    repository: Repository
    # Identity fields of the signing certificate: the stored verdict's, else read from the bundle.
    identity: dict[str, str]
    readable: bool
    statement: Statement | None


def _statement(bundle: bytes) -> tuple[dict[str, str], Statement | None, bool]:
    """The certificate's identity, the in-toto statement, and whether the bundle could be read."""
    try:
        parsed = parse_bundle(bundle)
    except BundleError:
        return {}, None, False
    identity = signer_identity(parsed.certificate).as_dict()
    if not isinstance(parsed.content, Dsse):
        return identity, None, True
    try:
        body = json.loads(parsed.content.payload)
        subjects = [
            (
                str(s.get("name", "")),
                ", ".join(f"{alg}:{value}" for alg, value in s.get("digest", {}).items()),
            )
            for s in body.get("subject", [])
        ]
        return identity, Statement(subjects, body.get("predicate")), True
    except (ValueError, AttributeError, TypeError):
        return identity, None, True


def _row(summary: attestations.Summary, repository: Repository) -> AttestationRow:
    identity, statement, readable = _statement(summary.bundle)
    if summary.verdict is not None:
        identity = {k: str(v) for k, v in summary.verdict.identity.items() if v is not None}
    return AttestationRow(summary, repository, identity, readable, statement)


def _predicate_commit(predicate: Any) -> str | None:
    """The git commit a SLSA provenance predicate says it built from (v1 resolvedDependencies,
    v0.2 materials)."""
    if not isinstance(predicate, dict):
        return None
    definition = predicate.get("buildDefinition")
    candidates = definition.get("resolvedDependencies") if isinstance(definition, dict) else None
    if not isinstance(candidates, list):
        candidates = predicate.get("materials")
    for item in candidates if isinstance(candidates, list) else []:
        digest = item.get("digest") if isinstance(item, dict) else None
        if isinstance(digest, dict):
            for key in ("gitCommit", "sha1"):
                value = digest.get(key)
                if isinstance(value, str) and GIT_COMMIT.match(value.lower()):
                    return value.lower()
    return None


def built_from(row: AttestationRow) -> str | None:
    """The commit a provenance attestation's artifact was built from: the signing certificate's
    source repository digest, else the commit its predicate names."""
    commit = row.identity.get("source_repository_digest", "").lower()
    if GIT_COMMIT.match(commit):
        return commit
    return _predicate_commit(row.statement.predicate) if row.statement is not None else None


@dataclass(frozen=True)
class BuildDependencies:
    repository: Repository
    commit: str
    # None: no snapshot was submitted for that commit.
    packages: list[Dependency] | None


@get("/ui/orgs/{org:str}/artifacts/{digest:str}")
async def artifact_page(
    request: AnyRequest,
    org: FromPath[str],
    digest: FromPath[str],
    caller: Caller,
    read_conn: ReadConn,
    viewer: SignedIn,
) -> Response[bytes]:
    subject = digest_param(digest)
    owner = await accounts.get_org(read_conn, org)
    caller = viewer.principal
    # The digest as a search: every readable artifact with exactly this digest (one per repository).
    named = await artifacts.linked_artifacts(
        read_conn, caller, owner.login, ArtifactFilter(search=digest), Cursor(per_page=20)
    )
    timeline = await artifacts.history(
        read_conn, caller, owner.login, HistoryFilter(digest=subject), Cursor(per_page=TIMELINE_ENTRIES)
    )
    found = await attestations.newest_for_digest(read_conn, caller, owner.login, subject)
    repos = await accounts.repositories_by_ids(
        read_conn, {a.repository_id for a in found} | {a.repository_id for a in named.items}
    )
    rows = [_row(a, repos[a.repository_id]) for a in found]
    # Only repositories whose alerts the viewer may read (write access, as on GitHub) count.
    alerts = await dependabot.open_alerts(
        read_conn, caller, [repos[a.repository_id] for a in named.items], OPEN_ALERTS
    )
    build = None
    provenance = next((r for r in rows if r.summary.is_provenance), None)
    commit = None if provenance is None else built_from(provenance)
    if provenance is not None and commit is not None:
        try:
            repo = await dependencies.repository(
                read_conn, caller, owner.login, provenance.repository.name, dependencies.READ
            )
        except DomainError:
            repo = None
        if repo is not None:
            build = BuildDependencies(
                repo, commit, await dependencies.dependencies_at_commit(read_conn, repo, commit)
            )
    storage = [s for a in named.items for s in a.storage]
    deployments = [d for a in named.items for d in a.deployments]
    context: dict[str, Any] = {
        "title": f"Artifact {digest[:19]}",
        "viewer": viewer,
        "org": owner.login,
        "section": "artifacts",
        "digest": digest,
        "named": named.items,
        "repos": repos,
        "storage": storage,
        "deployments": deployments,
        "timeline": timeline.items,
        "more_history": timeline.next_key is not None,
        "attestations": rows,
        "provenance": provenance,
        "commit": commit,
        "build": build,
        # None: the viewer may not read the alerts, and the page does not say whether there are any.
        "alerts": alerts,
    }
    return page("artifact.html", context)


@get("/ui/orgs/{org:str}/artifacts/{digest:str}/history")
async def history_page(
    request: AnyRequest, org: FromPath[str], digest: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    subject = digest_param(digest)
    cursor = page_cursor(request)
    owner = await accounts.get_org(read_conn, org)
    found = await artifacts.history(
        read_conn, viewer.principal, owner.login, HistoryFilter(digest=subject), cursor
    )
    context: dict[str, Any] = {
        "title": f"History of {digest[:19]}",
        "viewer": viewer,
        "org": owner.login,
        "section": "artifacts",
        "digest": digest,
        "timeline": found.items,
        "older": None if found.next_key is None else encode_cursor(found.next_key),
        "newer": None if found.prev_key is None else encode_cursor(found.prev_key),
    }
    return page("history.html", context)


@get("/ui/repos/{owner:str}/{repo:str}/attestations/{attestation_id:str}")
async def attestation_page(
    request: AnyRequest,
    owner: FromPath[str],
    repo: FromPath[str],
    attestation_id: FromPath[str],
    read_conn: ReadConn,
    viewer: SignedIn,
) -> Response[bytes]:
    if not attestation_id.isdigit() or len(attestation_id) > 18:
        raise NotFound()
    found = await attestations.verification(read_conn, viewer.principal, owner, repo, int(attestation_id))
    repository = await accounts.find_repository(read_conn, owner, repo)
    assert repository is not None
    attestation = found.attestation
    bundle = attestations.decompress(await attestations.bundle(read_conn, attestation.id))
    identity, statement, readable = _statement(bundle)
    if attestation.verification.checked_id is not None:
        identity = {k: str(v) for k, v in found.identity.items() if v is not None}
    predicate = None
    if statement is not None:
        predicate = json.dumps(statement.predicate, indent=2, sort_keys=True, ensure_ascii=False)
        if len(predicate) > PREDICATE_CHARS:
            predicate = predicate[:PREDICATE_CHARS] + "\n…"
    context: dict[str, Any] = {
        "title": f"Attestation {attestation.id}",
        "viewer": viewer,
        "org": repository.owner.login,
        "repository": repository,
        "attestation": attestation,
        "identity": identity,
        "readable": readable,
        "statement": statement,
        "predicate": predicate,
        "digests": [d for _, d in statement.subjects if Digest.sha256(d)] if statement else [],
    }
    if repository.owner.is_org:
        context["section"] = "artifacts"
    return page("attestation.html", context)


route_handlers: list[Any] = [artifact_page, history_page, attestation_page]
