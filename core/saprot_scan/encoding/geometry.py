"""Geometry every structure term shares: the ideal CB of a residue without one, and neighbour searches whose
memory grows linearly with the chain whatever its coordinates.

biotite's and gemmi's cell lists allocate a dense grid over the bounding box, so a chain spread over
10,000 A (or a stray coordinate) asks for ~10^9 cells. The search here keeps only the occupied cells (sorted
keys and binary search) and hands out pairs in bounded chunks, so even every atom on one spot (L^2 pairs)
never holds more than ``max_pairs`` of them at once.
"""
from __future__ import annotations

from itertools import product
from typing import Iterator

import numpy as np

#: Ideal CB from the backbone: CB = a*(b x c) + b_w*b + c_w*c + CA with b = CA - N, c = C - CA
#: (the constants of trRosetta, Yang et al. 2020, PNAS; Foldseek builds its virtual CB the same way).
IDEAL_CB_WEIGHTS = (-0.58273431, 0.56802827, -0.54067466)
#: Candidate pairs examined at once (two int64 index arrays and a float32 distance each).
MAX_PAIRS_PER_CHUNK = 1 << 21


def ideal_cb(n: np.ndarray, ca: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(L, 3) ideal CB positions from N, CA, C; NaN where a backbone atom is missing."""
    b = ca - n
    c_vec = c - ca
    a = np.cross(b, c_vec)
    wa, wb, wc = IDEAL_CB_WEIGHTS
    return wa * a + wb * b + wc * c_vec + ca


def with_ideal_cb(coords: np.ndarray, keep_missing: np.ndarray | None = None) -> np.ndarray:
    """(L, 4, 3) N, CA, C, CB where a missing CB is the ideal one (residues flagged in ``keep_missing`` keep NaN)."""
    coords = np.array(coords, dtype=float)
    missing = ~np.isfinite(coords[:, 3]).all(axis=1)
    if keep_missing is not None:
        missing &= ~np.asarray(keep_missing, dtype=bool)
    if missing.any():
        with np.errstate(invalid="ignore"):
            coords[missing, 3] = ideal_cb(coords[missing, 0], coords[missing, 1], coords[missing, 2])
    return coords


def _cell_keys(points: np.ndarray, size: float) -> tuple[np.ndarray, list[int]]:
    """One int64 key per point's cell (the grid shifted so every neighbour cell has a key too) and the 27 key
    offsets of a cell's neighbourhood."""
    cells = np.floor(points / size).astype(np.int64)
    cells -= cells.min(axis=0) - 1
    span = cells.max(axis=0) + 2
    if float(np.prod(span.astype(float))) >= 2.0 ** 62:
        raise ValueError("points spread too far for a neighbour search")  # callers refuse such coordinates
    keys = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
    offsets = [int((dx * span[1] + dy) * span[2] + dz) for dx, dy, dz in product((-1, 0, 1), repeat=3)]
    return keys, offsets


def neighbour_pair_chunks(points: np.ndarray, radius: float, max_pairs: int = MAX_PAIRS_PER_CHUNK
                          ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Index pairs (i, j), i != j, of finite points at most ``radius`` apart (both orders), in chunks.

    Non-finite points have no neighbours. Distances are compared in float32, like biotite's cell list.
    """
    points = np.asarray(points, dtype=np.float32)
    usable = np.flatnonzero(np.isfinite(points).all(axis=1))
    if usable.size == 0:
        return
    own = points[usable]
    keys, offsets = _cell_keys(own.astype(float), radius)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    lo = np.stack([np.searchsorted(sorted_keys, keys + o, side="left") for o in offsets], axis=1)
    width = np.stack([np.searchsorted(sorted_keys, keys + o, side="right") for o in offsets], axis=1) - lo
    total = np.cumsum(width.sum(axis=1))
    limit = np.float32(radius) ** 2
    start = 0
    while start < len(own):
        before = int(total[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(total, before + max_pairs, side="right")))
        lengths, firsts = width[start:stop].ravel(), lo[start:stop].ravel()
        count = int(lengths.sum())
        i = np.repeat(np.repeat(np.arange(start, stop), len(offsets)), lengths)
        position = np.arange(count) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(firsts, lengths)
        j = order[position]
        delta = own[i] - own[j]
        close = (np.einsum("kd,kd->k", delta, delta) <= limit) & (i != j)
        yield usable[i[close]], usable[j[close]]
        start = stop


def neighbour_pairs(points: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of ``neighbour_pair_chunks`` at once (for callers that know the count is small)."""
    chunks = list(neighbour_pair_chunks(points, radius))
    if not chunks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])
