"""Territory colours that tell neighbours apart: graph colouring over the territory adjacency.

Two territories are neighbours when cells of one touch cells of the other (H3 ring 1); cells
two rings apart count too, with less weight, so territories separated by one empty cell also
differ where the palette allows. Colours come from a colour-blind-safe palette with no black
and no grey (grey means "unassigned" on the map). DSatur (Brélaz 1979) colours the most
constrained territory first; a planar map needs at most four colours, so with twelve a clash
only happens for territories scattered over many pieces, and then on the shortest shared border.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from territory.plans import units

# Okabe & Ito (2008) without black, then Paul Tol's "muted" hues: distinct under the common
# colour-vision deficiencies, and none of them the unassigned grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#882255", "#44AA99", "#999933", "#332288", "#AA4499")
TOUCHING = 1000.0  # weight of one pair of touching cells; cells two rings apart weigh 1


def adjacency(assignments: pd.DataFrame) -> dict[frozenset, float]:
    """{territory pair: weight} from ``assignments`` (cell, territory_id); cells of any resolution
    (``units.touching``): each pair of touching cells weighs ``TOUCHING``, each pair of cells
    beside the same empty cell 1."""
    frame = assignments[assignments["territory_id"].map(lambda t: isinstance(t, str))]
    order = np.argsort(frame["cell"].to_numpy(dtype=np.uint64))
    cells = frame["cell"].to_numpy(dtype=np.uint64)[order]
    owner = frame["territory_id"].to_numpy()[order]
    near = units.touching(cells)
    weights: dict[frozenset, float] = defaultdict(float)
    for a, b in zip(owner[near.a], owner[near.b]):
        if a != b:
            weights[frozenset((a, b))] += TOUCHING
    by_empty: dict[int, set[str]] = defaultdict(set)
    for pos, e in zip(near.beside, near.empty):
        by_empty[int(e)].add(owner[pos])
    for around in by_empty.values():
        ordered = sorted(around)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                weights[frozenset((a, b))] += 1.0
    return dict(weights)


def assign(territories: list[str], weights: dict[frozenset, float], *, current: dict[str, str] | None = None,
           palette: tuple[str, ...] = PALETTE) -> dict[str, str]:
    """A colour per territory so that neighbours differ (weights from :func:`adjacency`).

    With ``current``, a territory keeps its colour when no touching neighbour that kept its own
    has the same one: only the clashing territories change (a plan's look stays familiar).
    """
    near: dict[str, dict[str, float]] = {t: {} for t in territories}
    for pair, w in weights.items():
        a, b = tuple(pair)
        if a in near and b in near:
            near[a][b] = near[b][a] = w
    colour: dict[str, str] = {}
    for t in sorted(territories, key=lambda t: -sum(near[t].values())):  # the most connected keep theirs first
        c = (current or {}).get(t)
        if c in palette and not any(colour.get(n) == c and w >= TOUCHING for n, w in near[t].items()):
            colour[t] = c
    while len(colour) < len(territories):  # DSatur: the territory whose neighbours use the most colours
        t = max((t for t in territories if t not in colour),
                key=lambda t: (len({colour[n] for n in near[t] if n in colour}), sum(near[t].values()), t))
        cost = defaultdict(float)
        for n, w in near[t].items():
            if n in colour:
                cost[colour[n]] += w
        used = defaultdict(int)
        for c in colour.values():
            used[c] += 1
        colour[t] = min(palette, key=lambda c: (cost[c], used[c], palette.index(c)))  # then the least used
    return colour


def clashes(assignments: pd.DataFrame, colours: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of touching territories that have the same colour (what a reader would confuse)."""
    return sorted(tuple(sorted(pair)) for pair, w in adjacency(assignments).items()
                  if w >= TOUCHING and len({colours.get(t) for t in pair}) == 1)
