"""SaProt's pretraining objective (dataset/saprot/saprot_foldseek_dataset.py, see shared/docs/saprot-reference.md).

Each residue token is selected with probability 0.15 (at least one per sequence); its label is the full
combined token id (446-way cross-entropy, unselected positions ignored). Of the selected tokens 80% become
``"#" + its 3Di letter`` (amino acid hidden, structure kept), 10% a random residue token, 10% stay.
"""
from __future__ import annotations

import numpy as np

from saprot_scan import STRUCT_LETTERS, VOCAB_SIZE, token_id

from .data import is_scored_residue

IGNORE_INDEX = -100
SELECT_PROB = 0.15
_N_STRUCT = len(STRUCT_LETTERS)
#: id of ``"#" + s`` for every residue token id (the amino acid hidden, the 3Di letter kept).
_HIDE_AA = np.arange(VOCAB_SIZE)
_HIDE_AA[5:] = token_id("#", STRUCT_LETTERS[0]) + (np.arange(5, VOCAB_SIZE) - 5) % _N_STRUCT
_FIRST_RESIDUE_TOKEN = 5


def hide_amino_acids(ids: np.ndarray) -> np.ndarray:
    """Replace each residue token by ``"#" + its 3Di letter`` (how SaProt masks a site when scoring)."""
    return _HIDE_AA[np.asarray(ids)]


def hide_structure(ids: np.ndarray) -> np.ndarray:
    """Replace every 3Di letter by ``#`` (amino acids kept): the 'no structure' ablation and pLDDT masking."""
    ids = np.asarray(ids)
    out = ids.copy()
    res = ids >= _FIRST_RESIDUE_TOKEN
    aa_index = (ids[res] - 5) // _N_STRUCT
    out[res] = 5 + _N_STRUCT * aa_index + STRUCT_LETTERS.index("#")
    return out


def saprot_mask(ids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, labels) for one sequence of ids ``<cls> ... <eos>`` under SaProt's objective.

    Only residues with one of the 20 amino acids can be selected (``<unk>`` residues never are).
    """
    ids = np.asarray(ids, dtype=np.int64)
    candidates = np.flatnonzero(is_scored_residue(ids))
    labels = np.full_like(ids, IGNORE_INDEX)
    inputs = ids.copy()
    if candidates.size == 0:
        return inputs, labels
    chosen = candidates[rng.random(candidates.size) < SELECT_PROB]
    if chosen.size == 0:
        chosen = rng.choice(candidates, size=1)
    labels[chosen] = ids[chosen]
    action = rng.random(chosen.size)
    hide = chosen[action < 0.8]
    randomise = chosen[(action >= 0.8) & (action < 0.9)]
    inputs[hide] = _HIDE_AA[ids[hide]]
    inputs[randomise] = rng.integers(_FIRST_RESIDUE_TOKEN, VOCAB_SIZE, size=randomise.size)
    return inputs, labels


def drop_structure(ids: np.ndarray, rng: np.random.Generator, whole_prob: float = 0.05,
                   span_prob: float = 0.15) -> np.ndarray:
    """Set some 3Di letters to ``#`` as SaProt's low-pLDDT masking does, so the model knows ``#`` at inference.

    SCOPe40 comes from experimental structures and has no pLDDT, so low-confidence regions are imitated:
    with ``whole_prob`` the whole chain, with ``span_prob`` one random span of 10-40% of it.
    """
    ids = np.asarray(ids)
    draw = rng.random()
    if draw < whole_prob:
        return hide_structure(ids)
    if draw < whole_prob + span_prob:
        n = ids.size - 2
        length = max(1, int(n * rng.uniform(0.1, 0.4)))
        start = 1 + int(rng.integers(0, max(1, n - length + 1)))
        out = ids.copy()
        out[start:start + length] = hide_structure(ids[start:start + length])
        return out
    return ids

