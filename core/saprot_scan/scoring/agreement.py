"""How closely two sets of substitution scores agree: the check behind every faster copy of a model (int8, fp16).

The measure is the one the speed work is held to: per position, the Spearman rank correlation of the
19 substitution scores (wild-type column left out), plus the largest absolute score difference.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saprot_scan.encoding.tokens import AMINO_ACIDS


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks (0-based) of a 1-D array, ties given their mean rank (as Spearman's rho and the ROC AUC need)."""
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (first + (counts - 1) / 2.0)[inverse]


_ranks = average_ranks


def per_position_spearman(reference: np.ndarray, other: np.ndarray, wt: str) -> np.ndarray:
    """(L,) Spearman rho of the 19 substitution scores at each position; NaN where the wild type is unknown."""
    reference, other = np.asarray(reference, float), np.asarray(other, float)
    rho = np.full(len(wt), np.nan)
    for i, aa in enumerate(wt):
        col = AMINO_ACIDS.find(aa)
        if col < 0 or not (np.all(np.isfinite(reference[i])) and np.all(np.isfinite(other[i]))):
            continue
        keep = np.arange(20) != col
        a, b = _ranks(reference[i, keep]), _ranks(other[i, keep])
        a, b = a - a.mean(), b - b.mean()
        denom = np.sqrt((a * a).sum() * (b * b).sum())
        rho[i] = float((a * b).sum() / denom) if denom > 0 else np.nan
    return rho


@dataclass(frozen=True)
class Agreement:
    """Summary of per-position rank agreement between a variant's scores and the fp32 reference."""

    mean_spearman: float
    median_spearman: float
    min_spearman: float
    share_at_least_099: float
    max_abs_diff: float
    positions: int

    def passes(self, threshold: float = 0.99) -> bool:
        """The acceptance rule used throughout: mean per-position rho at least ``threshold``."""
        return self.mean_spearman >= threshold

    def line(self) -> str:
        return (f"per-position Spearman mean {self.mean_spearman:.4f}, median {self.median_spearman:.4f}, "
                f"min {self.min_spearman:.4f}, {100 * self.share_at_least_099:.0f}% of positions >= 0.99; "
                f"max |score diff| {self.max_abs_diff:.3g} over {self.positions} positions")


def compare_scores(reference: np.ndarray, other: np.ndarray, wt: str) -> Agreement:
    """Agreement of ``other`` with ``reference`` ((L, 20) score arrays over the same chain)."""
    rho = per_position_spearman(reference, other, wt)
    ok = np.isfinite(rho)
    diff = np.abs(np.asarray(reference, float) - np.asarray(other, float))
    rows = rho[ok]
    return Agreement(mean_spearman=float(rows.mean()), median_spearman=float(np.median(rows)),
                     min_spearman=float(rows.min()), share_at_least_099=float((rows >= 0.99).mean()),
                     max_abs_diff=float(np.nanmax(diff)), positions=int(ok.sum()))
