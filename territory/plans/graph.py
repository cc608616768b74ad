"""A plan's cells as the optimizer's graph of units (:class:`territory.optimizer.Units`).

Units are the plan's cells with accounts plus the empty cells between them (an empty cell
touching two or more occupied ones), so territories connect across small gaps; islands that
still stand apart are linked to their nearest unit and reported. Cells may mix resolutions.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csgraph
from scipy.spatial import cKDTree

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
    """Join the graph's pieces with the shortest links between them (Borůvka: each piece to its
    nearest other piece, repeated until one piece is left), like roads between islands."""
    n = len(xy)
    links: list[tuple[int, int, float]] = []
    if n == 0:
        return edges, links
    tree = cKDTree(xy)
    edges = edges.reshape(-1, 2)
    while True:
        g = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
        count, labels = csgraph.connected_components(g, directed=False)
        if count == 1:
            return edges, links
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


