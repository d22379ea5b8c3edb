"""Blast radius as a picture: from an advisory (or a package URL) to the packages and versions, the
organization's repositories holding them, the digests those built, and the places they run now.

It reads the same service as ``/waybill/blast-radius`` (its ``overview``) with the viewer's
principal, so a repository the viewer cannot read gives no node, edge or count; only the
organization's repositories and deployment records are shown. Beyond the most exposed few, digests
are counted in SQL, never loaded, so the page costs the same for 5 digests or 5,000.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Response, get
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.alerts import blast
from waybill.core.errors import BadRequest, ValidationFailed
from waybill.http.context import AnyRequest, ReadConn
from waybill.web.common import text_param
from waybill.web.graph import LEVEL_WORDS, LEVELS, NONE_HIDDEN, Hidden, Node, fold_key, layout, level_of
from waybill.web.render import advisory_href, page, query, short_digest
from waybill.web.viewer import SignedIn

# Nodes a column shows before folding the rest into one counted node.
COLUMN_LIMIT = 12
ARTIFACTS = "Artifacts"


def _place_label(logical_environment: str, cluster: str) -> str:
    return " · ".join(p for p in (logical_environment, cluster) if p)


def picture(org: str, view: blast.Overview, root: str | None) -> dict[str, Any]:
    """Nodes, edges and the table rows of the overview of ``org``."""
    base = f"/ui/orgs/{quote(org, safe='')}"
    found = view.footprint
    roots: dict[str, Node] = {}
    packages: dict[str, Node] = {}
    repositories: list[Node] = []
    edges: list[tuple[str, str, str]] = []
    folded_artifacts = fold_key(ARTIFACTS)

    def higher(node: Node, level: str) -> None:
        if LEVELS.index(level) < LEVELS.index(node.level):
            node.level = level

    for ghsa in view.advisories:
        roots[ghsa] = Node(f"advisory:{ghsa}", ghsa, advisory_href(org, ghsa), f"Advisory {ghsa}")
    if root is not None and not roots:
        roots[root] = Node(
            f"advisory:{root}", root, base + "/blast-radius" + query({}, package_url=root), root
        )
    rows = []
    hidden_level = LEVELS[-1]
    for entry, built in view.repositories:
        repo = entry.repository
        repo_level = level_of(built.highest)
        repo_key = f"repository:{repo.id}"
        repositories.append(
            Node(
                repo_key,
                repo.full_name,
                f"/ui/repos/{quote(repo.owner.login, safe='')}/{quote(repo.name, safe='')}/dependencies",
                f"{repo.full_name}: {built.digests} digests, {built.deployments} deployments",
                repo_level,
                note=f"{built.deployments} deployed",
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
            sources = [g for g in hits if g in roots] or ([] if view.advisories else list(roots))
            for ghsa in sources:
                edges.append((roots[ghsa].key, key, repo_level))
                higher(roots[ghsa], repo_level)
        if built.folded_highest >= 0:
            level = level_of(built.folded_highest)
            edges.append((repo_key, folded_artifacts, level))
            hidden_level = min(hidden_level, level, key=LEVELS.index)
        rows.append(
            {
                "repository": repo,
                "packages": sorted({d.package_url for d, _ in entry.dependencies}),
                "digests": built.digests,
                "deployments": built.deployments,
                "risks": built.risks,
                "level": repo_level,
            }
        )
    artifacts: list[Node] = []
    for artifact in found.artifacts:
        a_key = f"artifact:{artifact.digest}"
        label = short_digest(artifact.digest)
        artifacts.append(
            Node(
                a_key,
                f"{artifact.names[0]} {label}" if artifact.names else label,
                f"{base}/artifacts/{quote(artifact.digest, safe=':')}",
                artifact.digest + (f" ({', '.join(artifact.names)})" if artifact.names else ""),
                level_of(artifact.highest),
            )
        )
        for repository_id in artifact.repository_ids:
            edges.append((f"repository:{repository_id}", a_key, level_of(artifact.highest)))
        for run in artifact.running:
            edges.append(
                (a_key, f"place:{_place_label(run.logical_environment, run.cluster)}", level_of(run.exposure))
            )
    places: list[Node] = []
    for place in found.places:
        label = _place_label(place.logical_environment, place.cluster)
        note = f"{place.deployments} deployment" + ("" if place.deployments == 1 else "s")
        places.append(
            Node(
                f"place:{label}",
                label,
                f"{base}/artifacts"
                + query({}, environment=place.logical_environment, cluster=place.cluster or None),
                f"{label}: {note}",
                level_of(place.highest),
                note=note,
            )
        )
        if place.folded_highest >= 0:
            edges.append((folded_artifacts, f"place:{label}", level_of(place.folded_highest)))

    def ordered(nodes: list[Node]) -> list[Node]:
        # Internet-exposed first, then by the other levels; stable within a level.
        return sorted(nodes, key=lambda n: LEVELS.index(n.level))

    graph = layout(
        [
            ("Advisories", list(roots.values()), NONE_HIDDEN),
            ("Packages", ordered(list(packages.values())), NONE_HIDDEN),
            ("Repositories", ordered(repositories), NONE_HIDDEN),
            (ARTIFACTS, artifacts, Hidden(found.artifact_count - len(artifacts), hidden_level)),
            ("Running in", ordered(places), NONE_HIDDEN),
        ],
        edges,
        limit=COLUMN_LIMIT,
        more_href="#repositories",
    )
    deployed = sum(p.deployments for p in found.places)
    exposed = sum(1 for r in rows if r["level"] == "internet-exposed")
    summary = (
        f"{len(rows)} repositories, {found.artifact_count} artifact digests and {deployed} deployments "
        f"in {len(places)} places; {exposed} repositories run internet-exposed."
    )
    return {"graph": graph, "rows": rows, "summary": summary, "deployments": deployed}


@get("/ui/orgs/{org:str}/blast-radius")
async def blast_radius_page(
    request: AnyRequest, org: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    advisory = text_param(request, "advisory")
    package_url = text_param(request, "package_url")
    try:
        target = blast.target({"advisory": advisory, "package_url": package_url})
    except ValidationFailed:
        raise BadRequest("Give exactly one of advisory or package_url.") from None
    owner = await accounts.get_org(read_conn, org)
    view = await blast.overview(read_conn, viewer.principal, target, owner.id, COLUMN_LIMIT)
    context: dict[str, Any] = {
        "title": f"Blast radius · {advisory or package_url} · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "alerts",
        "subject": advisory or package_url,
        "advisory": advisory,
        "package_url": package_url,
        "levels": [(level, LEVEL_WORDS[level]) for level in LEVELS],
        **picture(owner.login, view, package_url),
    }
    return page("blast.html", context)


route_handlers: list[Any] = [blast_radius_page]
