"""Count baselines the model must beat: amino-acid frequencies, and frequencies given the 3Di letter."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from saprot_scan import STRUCT_LETTERS

from .data import Domain, is_scored_residue

_N_STRUCT = len(STRUCT_LETTERS)


@dataclass(frozen=True)
class FrequencyBaselines:
    """P(aa) and P(aa | 3Di letter) from training residues (add-one smoothed), 20 amino acids."""

    aa: np.ndarray  # (20,)
    aa_given_struct: np.ndarray  # (21, 20): rows are 3Di letters incl. '#'

    @classmethod
    def fit(cls, domains: list[Domain]) -> "FrequencyBaselines":
        counts = np.ones((_N_STRUCT, 20))
        for d in domains:
            ids = d.token_ids()
            ids = ids[is_scored_residue(ids)] - 5
            np.add.at(counts, (ids % _N_STRUCT, ids // _N_STRUCT), 1)
        aa = counts.sum(0) / counts.sum()
        given = counts / counts.sum(1, keepdims=True)
        # '#' never occurs in SCOPe40: condition on nothing there.
        given[STRUCT_LETTERS.index("#")] = aa
        return cls(aa=aa, aa_given_struct=given)

    def probabilities(self, ids: np.ndarray, conditioned: bool) -> np.ndarray:
        """(n, 20) amino-acid probabilities for residue token ids (their 3Di letter is all that is used)."""
        ids = np.asarray(ids)
        if not conditioned:
            return np.broadcast_to(self.aa, (ids.size, 20))
        return self.aa_given_struct[(ids - 5) % _N_STRUCT]

    def to_json(self) -> dict:
        return {"aa": self.aa.round(6).tolist(), "aa_given_struct": self.aa_given_struct.round(6).tolist()}
