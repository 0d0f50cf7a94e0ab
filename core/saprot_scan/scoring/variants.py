"""Scores of listed variants (single or multi-mutants) and the ``A23G:L45P`` notation that names them.

SaProt's rule: all sites of a multi-mutant are masked in the same pass and the variant's score is the
sum over its sites of log P(mt) - log P(wt).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from saprot_scan.scoring.logits import LogitsModel
from saprot_scan.encoding.tokens import AMINO_ACIDS, MAX_RESIDUES
from saprot_scan.errors import InputError
from saprot_scan.scoring.marginals import (Window, aa_log_probs, checked_logits, masked_batch, window_for_sites,
                                           window_ids)


@dataclass(frozen=True)
class Substitution:
    """One site of a variant: 0-based index in the chain, wild type and mutant letters."""

    index: int
    wt: str
    mt: str


def parse_variant(text: str, aa: str) -> list[Substitution]:
    """Parse ``A23G`` or ``A23G:L45P`` (1-based positions in the scored sequence, ProteinGym style)."""
    sites = []
    for part in filter(None, (p.strip() for p in text.replace(",", ":").split(":"))):
        wt, mt, number = part[0].upper(), part[-1].upper(), part[1:-1]
        if not number.isdigit() or wt not in AMINO_ACIDS or mt not in AMINO_ACIDS:
            raise InputError(f"bad mutation {part!r}: expected e.g. A23G (wild type, position, mutant)")
        index = int(number) - 1
        if not 0 <= index < len(aa):
            raise InputError(f"mutation {part}: position {number} is outside the chain (1..{len(aa)})")
        if aa[index] != wt:
            raise InputError(f"mutation {part}: residue {number} is {aa[index]}, not {wt}")
        sites.append(Substitution(index, wt, mt))
    if not sites:
        raise InputError(f"empty mutation {text!r}")
    if len({s.index for s in sites}) != len(sites):
        raise InputError(f"mutation {text}: a position is mutated twice")
    return sites


def score_variants(model: LogitsModel, ids: np.ndarray, struct: str, aa: str, variants: Iterable[Sequence[Substitution]],
                   batch_size: int | None = None, window_size: int = MAX_RESIDUES) -> np.ndarray:
    """One score per variant; all sites of a multi-mutant are masked in the same pass (SaProt's rule)."""
    variants = list(variants)
    scores = np.zeros(len(variants))
    groups: dict[Window, list[int]] = {}
    for k, sites in enumerate(variants):
        groups.setdefault(window_for_sites([s.index for s in sites], len(aa), window_size), []).append(k)
    for window, members in groups.items():
        base = window_ids(ids, window)
        size = batch_size or model.default_batch_size(len(base))
        for chunk_start in range(0, len(members), size):
            chunk = members[chunk_start:chunk_start + size]
            batch, rows = masked_batch(base, struct, [[site.index for site in variants[k]] for k in chunk], window)
            logits = checked_logits(model, batch, np.ones_like(batch), rows)
            for row, k in enumerate(chunk):
                total = 0.0
                for column, site in enumerate(variants[k]):
                    lp = aa_log_probs(logits[row, column])
                    total += lp[AMINO_ACIDS.index(site.mt)] - lp[AMINO_ACIDS.index(site.wt)]
                scores[k] = total
    return scores

