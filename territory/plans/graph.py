"""A plan's cells as the optimizer's graph of units (:class:`territory.optimizer.Units`).

Units are the plan's cells with accounts plus the empty cells between them (an empty cell
touching two or more occupied ones), so territories connect across small gaps; pieces that
still stand apart (islands, towns beyond the buffer) are linked to their neighbouring pieces
(:func:`connect_islands`) and reported. Cells may mix resolutions.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csgraph
from scipy.spatial import Delaunay, QhullError, cKDTree

from territory import grid
from territory.optimizer import Units
from territory.plans import units


def units_from_cells(cells: pd.DataFrame, *, extra: np.ndarray | None = None, buffer: int = 1) -> Units:
    """Units from cell metrics (``grid.aggregate_cells`` or a plan's mixed-resolution units):
    the cells with accounts, the empty cells up to ``buffer`` rings around them (so territories
    are regions, not speckles, and connect across the gaps between accounts), empty cells
    touching two units (``buffer`` 0), and any ``extra`` cells (e.g. empty cells already in the
    plan). Neighbours are found across resolutions (``units.touching``)."""
    occupied = cells["cell"].to_numpy(dtype=np.uint64)
    ids = np.unique(np.concatenate([occupied, np.asarray(extra if extra is not None else [], dtype=np.uint64)]))
    near = units.touching(ids)
    if buffer < 1:  # only the gaps: empty cells beside two or more units
        space, count = np.unique(near.empty, return_counts=True)
        ids = np.union1d(ids, space[count >= 2])
    for _ in range(max(buffer, 0)):
        ids = np.union1d(ids, near.empty)
        near = units.touching(ids)
    frame = pd.DataFrame({"cell": ids}).merge(cells.assign(cell=cells["cell"].astype(np.uint64)), on="cell", how="left")
    attrs = frame.drop(columns=["cell"]).select_dtypes("number").fillna(0.0).reset_index(drop=True)
    latlng = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in ids])
    lat0 = np.radians(latlng[:, 0].mean()) if len(latlng) else 0.0
    xy = np.column_stack([np.radians(latlng[:, 1]) * np.cos(lat0), np.radians(latlng[:, 0])]) * grid.EARTH_KM
    if buffer < 1:
        near = units.touching(ids)
    edges = np.column_stack([near.a, near.b]).astype(np.int64)
    edges, links = connect_islands(xy, edges)
    return Units(ids.astype(np.int64), xy, attrs, edges, tuple((int(ids[a]), int(ids[b]), km) for a, b, km in links))


def connect_islands(xy: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Join the graph's pieces (islands, towns further apart than the buffer) to their
    neighbouring pieces, like roads between them: one link per pair of pieces that are
    neighbours in the Gabriel graph of the units (a Delaunay edge whose circle on it as
    diameter holds no other unit), their shortest. The Gabriel graph holds the minimum
    spanning tree, so every piece is reached; unlike that tree alone, a piece is joined to each
    piece beside it, not only to its nearest: with a tree of links, two towns facing each other
    across empty land could only share a territory through every town on the tree's path
    between them, and a sparse region's territories could not trade the units that balance
    them. Positions too degenerate for a triangulation fall back to Borůvka (each piece to its
    nearest other piece, repeated until one piece is left)."""
    n = len(xy)
    links: list[tuple[int, int, float]] = []
    edges = edges.reshape(-1, 2)
    count, labels = _pieces(n, edges)
    if count > 1 and n >= 3:
        links = _gabriel_links(xy, labels)
        if links:
            edges = np.vstack([edges, np.array([(a, b) for a, b, _ in links], dtype=np.int64)])
            count, labels = _pieces(n, edges)
    tree = cKDTree(xy) if count > 1 else None
    while count > 1:
        best: dict[int, tuple[float, int, int]] = {}
        dist, idx = tree.query(xy, k=min(16, n))
        for i, (ds, js) in enumerate(zip(dist, idx)):
            for d, j in zip(ds, js):
                if labels[j] != labels[i]:
                    if d < best.get(labels[i], (np.inf,))[0]:
                        best[labels[i]] = (float(d), i, int(j))
                    break
        for comp in set(range(count)) - set(best):  # far from everything: search outside it
            members, others = np.flatnonzero(labels == comp), np.flatnonzero(labels != comp)
            d, j = cKDTree(xy[others]).query(xy[members])
            b = int(np.argmin(d))
            best[comp] = (float(d[b]), int(members[b]), int(others[j[b]]))
        new = {tuple(sorted((a, b))): d for d, a, b in best.values()}
        links.extend((a, b, d) for (a, b), d in new.items())
        edges = np.vstack([edges, np.array(list(new), dtype=np.int64)])
        count, labels = _pieces(n, edges)
    return edges, links


def _pieces(n: int, edges: np.ndarray) -> tuple[int, np.ndarray]:
    g = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    return csgraph.connected_components(g, directed=False)


def _gabriel_links(xy: np.ndarray, labels: np.ndarray) -> list[tuple[int, int, float]]:
    """The shortest Gabriel edge between each pair of neighbouring pieces (see connect_islands)."""
    try:
        simplices = Delaunay(xy).simplices
    except QhullError:  # all on one line, or too few distinct positions
        return []
    pairs = np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]])
    pairs = np.unique(np.sort(pairs[labels[pairs[:, 0]] != labels[pairs[:, 1]]], axis=1), axis=0)
    if not len(pairs):
        return []
    half = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1) / 2
    nearest, _ = cKDTree(xy).query((xy[pairs[:, 0]] + xy[pairs[:, 1]]) / 2)
    empty = nearest >= half * (1 - 1e-9)  # no unit nearer the middle than the ends: the circle is empty
    pairs, half = pairs[empty], half[empty]
    key = np.sort(labels[pairs], axis=1)
    order = np.lexsort((half, key[:, 1], key[:, 0]))
    first = np.r_[True, (np.diff(key[order], axis=0) != 0).any(axis=1)]  # the shortest per pair of pieces
    return [(int(a), int(b), float(2 * h)) for (a, b), h in zip(pairs[order][first], half[order][first])]
