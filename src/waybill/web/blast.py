"""Blast radius as a picture: from an advisory (or a package URL) to the packages and versions, the
organization's repositories holding them, the digests those built, and the places they run now.

It reads the same service as ``/waybill/blast-radius`` with the viewer's principal, so a repository
the viewer cannot read gives no node, edge or count; only the organization's repositories are shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Response, get
from litestar.params import FromPath

from waybill.alerts import blast
from waybill.core.errors import BadRequest, ValidationFailed
from waybill.http.context import AnyRequest, database
from waybill.web.common import organization, text_param
from waybill.web.graph import LEVEL_WORDS, LEVELS, Node, layout, level_of
from waybill.web.render import advisory_href, page, query, short_digest
from waybill.web.viewer import sign_in_redirect, signed_in

# Nodes a column shows before folding the rest into one counted node.
COLUMN_LIMIT = 12


def _place_label(deployment: Any) -> str:
    return " · ".join(p for p in (deployment.logical_environment, deployment.cluster) if p)


def picture(org: str, report: blast.Report, root: str | None) -> dict[str, Any]:
    """Nodes, edges and the table rows of the report's repositories of ``org``."""
    base = f"/ui/orgs/{quote(org, safe='')}"
    entries = [e for e in report.repositories if e.repository.owner.login.lower() == org.lower()]
    roots: dict[str, Node] = {}
    packages: dict[str, Node] = {}
    repositories: list[Node] = []
    artifacts: dict[str, Node] = {}
    places: dict[str, Node] = {}
    place_counts: dict[str, int] = {}
    edges: list[tuple[str, str, str]] = []

    def higher(node: Node, level: str) -> None:
        if LEVELS.index(level) < LEVELS.index(node.level):
            node.level = level

    for ghsa in report.advisories:
        roots[ghsa] = Node(f"advisory:{ghsa}", ghsa, advisory_href(org, ghsa), f"Advisory {ghsa}")
    if root is not None and not roots:
        roots[root] = Node(
            f"advisory:{root}", root, base + "/blast-radius" + query({}, package_url=root), root
        )
    rows = []
    for entry in entries:
        repo = entry.repository
        scores = [blast.exposure(d) for d in entry.deployments]
        repo_level = level_of(max(scores, default=0))
        repo_key = f"repository:{repo.id}"
        repositories.append(
            Node(
                repo_key,
                repo.full_name,
                f"/ui/repos/{quote(repo.owner.login, safe='')}/{quote(repo.name, safe='')}/dependencies",
                f"{repo.full_name}: {len(entry.artifacts)} digests, {len(scores)} deployments",
                repo_level,
                note=f"{len(scores)} deployed",
            )
        )
        for dep, hits in entry.dependencies:
            key = f"package:{dep.package_url}"
            node = packages.get(key)
            if node is None:
                node = packages[key] = Node(
                    key,
                    f"{dep.name}@{dep.version}" if dep.version else dep.name,
                    f"{base}/alerts" + query({}, ecosystem=dep.ecosystem, package=dep.name),
                    dep.package_url,
                )
            higher(node, repo_level)
            edges.append((key, repo_key, repo_level))
            sources = [g for g in hits if g in roots] or ([] if report.advisories else list(roots))
            for ghsa in sources:
                edges.append((roots[ghsa].key, key, repo_level))
                higher(roots[ghsa], repo_level)
        for artifact in entry.artifacts.values():
            a_key = f"artifact:{artifact.digest}"
            a_level = level_of(max((blast.exposure(d) for d in artifact.deployments), default=0))
            names = sorted({s.name for s in artifact.storage})
            node = artifacts.get(a_key)
            if node is None:
                label = short_digest(artifact.digest)
                node = artifacts[a_key] = Node(
                    a_key,
                    f"{names[0]} {label}" if names else label,
                    f"{base}/artifacts/{quote(artifact.digest, safe=':')}",
                    artifact.digest + (f" ({', '.join(names)})" if names else ""),
                )
            higher(node, a_level)
            edges.append((repo_key, a_key, a_level))
            for deployment in artifact.deployments:
                label = _place_label(deployment)
                p_key = f"place:{label}"
                level = level_of(blast.exposure(deployment))
                if p_key not in places:
                    places[p_key] = Node(
                        p_key,
                        label,
                        f"{base}/artifacts"
                        + query(
                            {}, environment=deployment.logical_environment, cluster=deployment.cluster or None
                        ),
                        label,
                    )
                place_counts[p_key] = place_counts.get(p_key, 0) + 1
                higher(places[p_key], level)
                edges.append((a_key, p_key, level))
        rows.append(
            {
                "repository": repo,
                "packages": sorted({d.package_url for d, _ in entry.dependencies}),
                "digests": len(entry.artifacts),
                "deployments": len(scores),
                "risks": sorted({r for d in entry.deployments for r in d.runtime_risks}),
                "level": repo_level,
            }
        )
    for key, node in places.items():
        count = place_counts[key]
        node.note = f"{count} deployment" + ("" if count == 1 else "s")
        node.title = f"{node.label}: {node.note}"

    def ordered(nodes: list[Node]) -> list[Node]:
        # Internet-exposed first, then by the other levels; stable within a level.
        return sorted(nodes, key=lambda n: LEVELS.index(n.level))

    graph = layout(
        [
            ("Advisories", list(roots.values())),
            ("Packages", ordered(list(packages.values()))),
            ("Repositories", ordered(repositories)),
            ("Artifacts", ordered(list(artifacts.values()))),
            ("Running in", ordered(list(places.values()))),
        ],
        edges,
        limit=COLUMN_LIMIT,
        more_href="#repositories",
    )
    deployed = sum(place_counts.values())
    exposed = sum(1 for r in rows if r["level"] == "internet-exposed")
    summary = (
        f"{len(rows)} repositories, {len(artifacts)} artifact digests and {deployed} deployments "
        f"in {len(places)} places; {exposed} repositories run internet-exposed."
    )
    return {"graph": graph, "rows": rows, "summary": summary, "deployments": deployed}


@get("/ui/orgs/{org:str}/blast-radius")
async def blast_radius_page(request: AnyRequest, org: FromPath[str]) -> Response[bytes]:
    advisory = text_param(request, "advisory")
    package_url = text_param(request, "package_url")
    try:
        target = blast.target({"advisory": advisory, "package_url": package_url})
    except ValidationFailed:
        raise BadRequest("Give exactly one of advisory or package_url.") from None
    async with database(request).read() as conn:
        viewer = await signed_in(request, conn)
        if viewer is None:
            return sign_in_redirect(request)
        owner = await organization(conn, org)
        report = await blast.blast_radius(conn, viewer.principal, target)
    context: dict[str, Any] = {
        "title": f"Blast radius · {advisory or package_url} · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "alerts",
        "subject": advisory or package_url,
        "advisory": advisory,
        "package_url": package_url,
        "levels": [(level, LEVEL_WORDS[level]) for level in LEVELS],
        **picture(owner.login, report, package_url),
    }
    return page("blast.html", context)


route_handlers: list[Any] = [blast_radius_page]
