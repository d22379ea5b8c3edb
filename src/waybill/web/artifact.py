"""The artifact page: everything known about one digest in an organization."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.attestations import service as attestations
from waybill.attestations.verification.bundle import BundleError, parse_bundle
from waybill.attestations.verification.identity import SignerIdentity, signer_identity
from waybill.core.errors import NotFound
from waybill.http.context import AnyRequest, database
from waybill.web.render import page
from waybill.web.viewer import sign_in_redirect, signed_in

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class AttestationRow:
    summary: attestations.Summary
    repository: str
    signer: SignerIdentity | None


def _signer(bundle: bytes) -> SignerIdentity | None:
    try:
        return signer_identity(parse_bundle(bundle).certificate)
    except BundleError:
        return None


@get("/ui/orgs/{org:str}/artifacts/{digest:str}")
async def artifact_page(request: AnyRequest, org: FromPath[str], digest: FromPath[str]) -> Response[bytes]:
    if not DIGEST.match(digest):
        raise NotFound()
    async with database(request).read() as conn:
        viewer = await signed_in(request, conn)
        if viewer is None:
            return sign_in_redirect(request)
        owner = await accounts.find_account(conn, org)
        if owner is None or not owner.is_org:
            raise NotFound()
        found = await attestations.newest_for_digest(conn, viewer.principal, owner.login, digest)
        repos = await accounts.repositories_by_ids(conn, {a.repository_id for a in found})
    rows = [AttestationRow(a, repos[a.repository_id].full_name, _signer(a.bundle)) for a in found]
    context: dict[str, Any] = {
        "title": f"Artifact {digest[:19]}",
        "viewer": viewer,
        "org": owner.login,
        "digest": digest,
        "attestations": rows,
    }
    return page("artifact.html", context)


route_handlers: list[Any] = [artifact_page]
