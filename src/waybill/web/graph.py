"""A layered graph laid out for an SVG drawn on the server: columns of boxes, left to right, with
curved edges between neighbouring columns.

Each column shows at most ``limit`` nodes; the rest fold into one node that counts them, and edges
to folded nodes go to it, so a picture of 50 repositories and 500 deployments stays readable. A
column may also count nodes it was never given (``Hidden``: counted in SQL, never loaded); edges to
them name the column's fold, ``fold_key(heading)``.
Edges carry a risk level that the stylesheet draws with both a colour and a line pattern (and the
legend names in words), never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMN_WIDTH = 190
COLUMN_GAP = 60
NODE_HEIGHT = 34
NODE_GAP = 10
TOP = 30
LABEL_CHARS = 24

# Risk levels, highest first: the order edges are listed in (and drawn last, so they lie on top).
LEVELS = ("internet-exposed", "elevated", "deployed", "not-deployed")
LEVEL_WORDS = {
    "internet-exposed": "internet-exposed",
    "elevated": "critical resource, sensitive data or lateral movement",
    "deployed": "deployed, no runtime risk",
    "not-deployed": "not deployed now",
}


def level_of(score: int) -> str:
    """The level of an exposure score (see alerts.blast.exposure): 0 when nothing runs."""
    if score >= 16:
        return "internet-exposed"
    if score >= 2:
        return "elevated"
    return "deployed" if score >= 1 else "not-deployed"


@dataclass
class Node:
    key: str
    label: str
    href: str
    title: str
    level: str = "not-deployed"
    note: str = ""
    x: int = 0
    y: int = 0
    folded: int = 0

    @property
    def short(self) -> str:
        return self.label if len(self.label) <= LABEL_CHARS else self.label[: LABEL_CHARS - 1] + "…"

    @property
    def marked(self) -> bool:
        return self.level == "internet-exposed"


@dataclass
class Column:
    heading: str
    x: int
    nodes: list[Node] = field(default_factory=list)
    total: int = 0


@dataclass
class Edge:
    path: str
    level: str
    title: str


@dataclass
class Picture:
    columns: list[Column]
    edges: list[Edge]
    width: int
    height: int
    node_width: int = COLUMN_WIDTH
    node_height: int = NODE_HEIGHT


@dataclass(frozen=True)
class Hidden:
    count: int
    level: str


NONE_HIDDEN = Hidden(0, LEVELS[-1])


def _rank(level: str) -> int:
    return LEVELS.index(level)


def fold_key(heading: str) -> str:
    return f"more:{heading}"


def layout(
    columns: list[tuple[str, list[Node], Hidden]],
    edges: list[tuple[str, str, str]],
    *,
    limit: int,
    more_href: str,
) -> Picture:
    """``columns``: (heading, nodes most exposed first, nodes counted but not given); ``edges``:
    (from key, to key, level) between neighbouring columns. Returns the nodes placed and the edges as
    SVG paths."""
    placed: list[Column] = []
    where: dict[str, Node] = {}
    for index, (heading, nodes, hidden) in enumerate(columns):
        shown = nodes[:limit]
        rest = nodes[limit:]
        x = index * (COLUMN_WIDTH + COLUMN_GAP)
        column = Column(heading, x, list(shown), len(nodes) + hidden.count)
        more = len(rest) + hidden.count
        if more:
            folded = Node(
                key=fold_key(heading),
                label=f"+ {more} more",
                href=more_href,
                title=f"{more} more {heading.lower()}",
                level=min([n.level for n in rest] + ([hidden.level] if hidden.count else []), key=_rank),
                folded=more,
            )
            column.nodes.append(folded)
            for node in rest:
                where[node.key] = folded
        for row, node in enumerate(column.nodes):
            node.x, node.y = x, TOP + row * (NODE_HEIGHT + NODE_GAP)
            where.setdefault(node.key, node)
        placed.append(column)
    drawn: dict[tuple[str, str], str] = {}
    for source, target, level in edges:
        a, b = where.get(source), where.get(target)
        if a is None or b is None:
            continue
        pair = (a.key, b.key)
        if pair not in drawn or _rank(level) < _rank(drawn[pair]):
            drawn[pair] = level
    keyed = {n.key: n for c in placed for n in c.nodes}
    paths = []
    # Lowest risk first, so the internet-exposed edges are drawn last, on top of the others.
    for (a_key, b_key), level in sorted(drawn.items(), key=lambda item: -_rank(item[1])):
        a, b = keyed[a_key], keyed[b_key]
        x1, y1 = a.x + COLUMN_WIDTH, a.y + NODE_HEIGHT // 2
        x2, y2 = b.x, b.y + NODE_HEIGHT // 2
        middle = (x1 + x2) // 2
        paths.append(
            Edge(
                f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}",
                level,
                f"{a.label} → {b.label}: {LEVEL_WORDS[level]}",
            )
        )
    rows = max((len(c.nodes) for c in placed), default=0)
    width = max(len(placed) * (COLUMN_WIDTH + COLUMN_GAP) - COLUMN_GAP, COLUMN_WIDTH)
    height = TOP + max(rows, 1) * (NODE_HEIGHT + NODE_GAP)
    return Picture(placed, paths, width, height)
