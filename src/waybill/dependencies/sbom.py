"""The SPDX 2.3 JSON document of a dependency graph, in the shape GitHub exports: the repository is
the root package (``SPDXRef-Repository``) that the document ``DESCRIBES``, packages carry their
package URL as a ``PACKAGE-MANAGER``/``purl`` external reference, and ``DEPENDS_ON`` relationships
follow the submitted dependency edges."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from waybill.accounts.types import Repository
from waybill.core import clock
from waybill.dependencies.purls import display_name
from waybill.dependencies.repository import GraphRow

CREATOR = "Tool: Waybill-Dependency-Graph"
_NOT_IN_ID = re.compile(r"[^A-Za-z0-9.-]+")


def _external_ref(purl: str) -> list[dict[str, str]]:
    return [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]


def _spdx_id(type_: str, name: str, version: str | None, taken: set[str]) -> str:
    stem = _NOT_IN_ID.sub("-", f"{type_}-{name}" + (f"-{version}" if version else "")).strip("-")
    candidate = f"SPDXRef-{stem}"
    counter = 1
    while candidate in taken:
        counter += 1
        candidate = f"SPDXRef-{stem}-{counter}"
    taken.add(candidate)
    return candidate


def document(repo: Repository, rows: Sequence[GraphRow], web_base: str, now: datetime) -> dict[str, Any]:
    root = "SPDXRef-Repository"
    taken = {root, "SPDXRef-DOCUMENT"}
    ids: dict[int, str] = {}
    packages: list[dict[str, Any]] = [
        {
            "name": repo.full_name,
            "SPDXID": root,
            "versionInfo": repo.default_branch,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "externalRefs": _external_ref(f"pkg:github/{repo.full_name}@{repo.default_branch}"),
        }
    ]
    direct: set[int] = set()
    edges: dict[int, list[int]] = {}
    has_parent: set[int] = set()
    for row in rows:
        package_id = row.package_id
        if package_id not in ids:
            # GitHub names SPDX packages ecosystem-style (``@scope/name``, ``group:artifact``).
            name = display_name(row.type, row.namespace, row.name)
            spdx_id = ids[package_id] = _spdx_id(row.type, name, row.version, taken)
            package: dict[str, Any] = {
                "name": name,
                "SPDXID": spdx_id,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "externalRefs": _external_ref(row.purl),
            }
            if row.version is not None:
                package["versionInfo"] = row.version
            packages.append(package)
        if row.relationship == "direct":
            direct.add(package_id)
        if row.depends_on:
            children = edges.get(package_id)
            if children is None:
                # A package's first row (the usual case: one manifest) keeps its edges as they are.
                edges[package_id] = list(row.depends_on)
            else:
                children.extend(c for c in row.depends_on if c not in children)
            has_parent.update(row.depends_on)
    relationships: list[dict[str, str]] = [
        {"relationshipType": "DESCRIBES", "spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": root}
    ]
    for package_id, spdx_id in ids.items():
        # Direct dependencies hang off the repository, and so does anything no other package
        # claims, so that every package is reachable from the root.
        if package_id in direct or package_id not in has_parent:
            relationships.append(
                {"relationshipType": "DEPENDS_ON", "spdxElementId": root, "relatedSpdxElement": spdx_id}
            )
    for parent, children in edges.items():
        for child in children:
            if child in ids:
                relationships.append(
                    {
                        "relationshipType": "DEPENDS_ON",
                        "spdxElementId": ids[parent],
                        "relatedSpdxElement": ids[child],
                    }
                )
    return {
        "SPDXID": "SPDXRef-DOCUMENT",
        "spdxVersion": "SPDX-2.3",
        "creationInfo": {"created": clock.iso(now), "creators": [CREATOR]},
        "name": repo.full_name,
        "dataLicense": "CC0-1.0",
        "documentNamespace": f"{web_base}/{repo.full_name}/dependency_graph/sbom-{uuid.uuid4().hex[:16]}",
        "packages": packages,
        "relationships": relationships,
    }
