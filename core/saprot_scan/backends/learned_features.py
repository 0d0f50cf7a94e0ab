"""What the learned structure scorer reads: one row of numbers per (residue, substitution) of a chain.

The features are the ones the stability and variant-effect literature keeps finding, all computed from the
coordinates the core already reads (N, CA, C, CB) plus the 3Di letters and pLDDT every scan has:

- burial at several radii (Cbeta counts at 6, 8, 10, 12 A) and half-sphere exposure up/down (Hamelryck
  2005): buried sites tolerate least (the strongest single signal in DMS data, e.g. Gray et al. 2017);
- the residue's environment: counts of hydrophobic, aromatic, positive, negative and polar side chains
  around it (contact chemistry: salt bridges, aromatic stacking, hydrophobic packing), disulfide cysteines;
- secondary structure (P-SEA) and the 3Di letter (Foldseek's tertiary-interaction alphabet, as SaProt
  reads it; '#' where pLDDT masked it); distance to the chain termini; pLDDT (AlphaFold confidence);
- the substitution: BLOSUM62, hydrophobicity (Kyte & Doolittle 1982), side-chain volume (Zamyatnin 1972),
  charge, helix propensity (Pace & Scholtz 1998) of wild type and mutant, and proline/glycine flags;
- the burial-blosum score of the same cell, so the model starts from the hand-made rule.

Nothing constant over a chain (its length, say): with within-assay targets such a feature can only let the
trees recognise the training proteins (the first design used log(length) in 522 of its 4,200 splits).

No distance to ligands: the core keeps no HETATM records (a chain is N, CA, C, CB per residue). With the
file's other chains as context (``--partner-context on``) the counts (burial, half spheres, environment)
include the partners' residues; without it every feature is exactly what the trees were trained on.
Every feature is finite for any input the core accepts (NaN coordinates give zero counts).
"""
from __future__ import annotations

import numpy as np

from saprot_scan.backends.structure import (_side_chain_directions, blosum62, own_pair_chunks, structure_features,
                                            structure_scores)
from saprot_scan.encoding.tokens import AMINO_ACIDS

#: Kyte & Doolittle (1982) hydropathy.
HYDROPATHY = {"A": 1.8, "R": -4.5, "N": -3.5, "D": -3.5, "C": 2.5, "Q": -3.5, "E": -3.5, "G": -0.4, "H": -3.2,
              "I": 4.5, "L": 3.8, "K": -3.9, "M": 1.9, "F": 2.8, "P": -1.6, "S": -0.8, "T": -0.7, "W": -0.9,
              "Y": -1.3, "V": 4.2}
#: Side-chain volumes in A^3 (Zamyatnin 1972).
VOLUME = {"A": 88.6, "R": 173.4, "N": 114.1, "D": 111.1, "C": 108.5, "Q": 143.8, "E": 138.4, "G": 60.1,
          "H": 153.2, "I": 166.7, "L": 166.7, "K": 168.6, "M": 162.9, "F": 189.9, "P": 112.7, "S": 89.0,
          "T": 116.1, "W": 227.8, "Y": 193.6, "V": 140.0}
#: Helix propensity, kcal/mol relative to alanine (Pace & Scholtz 1998); higher = worse in a helix.
HELIX_PENALTY = {"A": 0.0, "L": 0.21, "R": 0.21, "M": 0.24, "K": 0.26, "Q": 0.39, "E": 0.40, "I": 0.41,
                 "W": 0.49, "S": 0.50, "Y": 0.53, "F": 0.54, "H": 0.61, "V": 0.61, "N": 0.65, "T": 0.66,
                 "C": 0.68, "D": 0.69, "G": 1.0, "P": 3.16}
CHARGE = {"K": 1.0, "R": 1.0, "H": 0.1, "D": -1.0, "E": -1.0}
GROUPS = {"hydrophobic": "AVILMFWC", "aromatic": "FWY", "positive": "KR", "negative": "DE", "polar": "STNQHY"}
BURIAL_RADII = (6.0, 8.0, 10.0, 12.0)
ENVIRONMENT_RADIUS = 8.0  # Angstrom, Cbeta-Cbeta: the first shell of side-chain contacts
HSE_RADIUS = 13.0
THREEDI_LETTERS = "acdefghiklmnpqrstvwy#"
TERMINUS_CAP = 30  # residues; farther from a terminus than this is "interior"
PLDDT_UNKNOWN = 90.0  # experimental structures carry no pLDDT: treated as a confident model

_PER_RESIDUE = ([f"cb_count_{r:g}" for r in BURIAL_RADII] + ["hse_up", "hse_down", "burial_z", "burial_window",
                "disulfide", "helix", "strand", "terminus_distance", "plddt"]
                + [f"env_{g}" for g in GROUPS] + ["opposite_charges", "wt_charge_environment"]
                + [f"3di_{c}" for c in THREEDI_LETTERS])
_PER_SUBSTITUTION = ["blosum62", "hydropathy_wt", "hydropathy_mt", "hydropathy_delta", "volume_wt", "volume_mt",
                     "volume_delta", "charge_wt", "charge_mt", "helix_penalty_wt", "helix_penalty_mt",
                     "mt_proline", "mt_glycine", "wt_proline", "wt_glycine", "wt_cysteine", "mt_aromatic",
                     "burial_blosum"]
FEATURE_NAMES: tuple[str, ...] = tuple(_PER_RESIDUE + _PER_SUBSTITUTION)


def _table(values: dict[str, float], default: float = 0.0) -> np.ndarray:
    return np.array([values.get(a, default) for a in AMINO_ACIDS], dtype=float)


def _beta(coords: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(coords[:, 3]).all(axis=1)[:, None], coords[:, 3], coords[:, 1])


def _own_pairs(points: np.ndarray, radius: float, context: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of ``backends.structure.own_pair_chunks`` at once (j past len(points): a partner's point)."""
    chunks = list(own_pair_chunks(points, radius, context))
    if not chunks:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


def half_spheres(coords: np.ndarray, radius: float = HSE_RADIUS, context: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(HSE-up, HSE-down): CA atoms within ``radius`` on the side-chain side and on the other side (the partner
    chains' CA atoms too, given their N, CA, C, CB as ``context``)."""
    ca, direction = _side_chain_directions(coords)
    i, j = _own_pairs(ca, radius, None if context is None else context[:, 1])
    every = ca if context is None else np.concatenate([ca, context[:, 1]])
    up = np.einsum("kd,kd->k", every[j] - ca[i], direction[i]) > 0
    length = len(coords)
    return (np.bincount(i[up], minlength=length).astype(float),
            np.bincount(i[~up], minlength=length).astype(float))


def beta_pairs(coords: np.ndarray, radius: float, context: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j) of Cbeta atoms (CA for glycine) within ``radius`` and their distances: one neighbour search
    serves every smaller radius. j past the chain's length is a residue of the partner chains (``context``)."""
    beta = _beta(coords).astype(np.float32)
    theirs = None if context is None else _beta(context).astype(np.float32)
    i, j = _own_pairs(beta, radius, theirs)
    every = beta if theirs is None else np.concatenate([beta, theirs])
    return i, j, np.linalg.norm(every[i] - every[j], axis=1)


def environment_counts(sequence: str, i: np.ndarray, j: np.ndarray, partners: str = "") -> dict[str, np.ndarray]:
    """Per residue, how many neighbours (pairs i, j) of each chemical group surround it; j past the chain's
    length indexes ``partners``, the partner chains' letters."""
    length = len(sequence)
    letters = np.array(list(sequence + partners))
    out = {}
    for group, members in GROUPS.items():
        hit = np.isin(letters[j], list(members))
        out[group] = np.bincount(i[hit], minlength=length).astype(float)
    charge = _table(CHARGE)
    index = np.array([AMINO_ACIDS.find(a) for a in sequence + partners])
    residue_charge = np.where(index >= 0, charge[np.maximum(index, 0)], 0.0)
    opposite = (residue_charge[i] * residue_charge[j]) < -0.5
    out["opposite_charges"] = np.bincount(i[opposite], minlength=length).astype(float)
    out["charge_environment"] = np.bincount(i, weights=residue_charge[j], minlength=length)
    out["residue_charge"] = residue_charge[:length]
    return out


def _window_mean(values: np.ndarray, half_width: int = 3) -> np.ndarray:
    """Mean over residues i-3..i+3 (edges use what exists): how buried the whole segment is."""
    kernel = np.ones(2 * half_width + 1)
    if len(values) < len(kernel):  # np.convolve's "same" would return the kernel's length
        return np.array([values[max(0, i - half_width):i + half_width + 1].mean() for i in range(len(values))])
    total = np.convolve(values, kernel, mode="same")
    count = np.convolve(np.ones_like(values), kernel, mode="same")
    return total / count


def residue_features(sequence: str, coords: np.ndarray, plddt: np.ndarray | None, struct: str | None,
                     context=None) -> np.ndarray:
    """(L, len(_PER_RESIDUE)) features of each position; ``context`` (``encoding.contacts.PartnerContext``):
    the partner chains, counted in burial and environment."""
    coords = np.asarray(coords, dtype=float)
    length = len(sequence)
    feats = structure_features(sequence, coords, plddt, context)
    around = None if context is None else np.asarray(context.coords, dtype=float)
    hse_up, hse_down = half_spheres(coords, context=around)
    i, j, distance = beta_pairs(coords, max(BURIAL_RADII), around)
    near = distance <= ENVIRONMENT_RADIUS
    env = environment_counts(sequence, i[near], j[near], "" if context is None else context.sequence)
    position = np.arange(length)
    terminus = np.minimum(np.minimum(position, length - 1 - position), TERMINUS_CAP).astype(float)
    confidence = np.full(length, PLDDT_UNKNOWN) if plddt is None else np.clip(np.nan_to_num(
        np.asarray(plddt, dtype=float), nan=PLDDT_UNKNOWN), 0.0, 100.0)
    letters = np.array(list((struct or "#" * length).lower()), dtype="<U1")
    threedi = (letters[:, None] == np.array(list(THREEDI_LETTERS))[None, :]).astype(float)
    columns = [np.bincount(i[distance <= r], minlength=length).astype(float) for r in BURIAL_RADII] + [
        hse_up, hse_down, feats.burial, _window_mean(feats.burial), feats.disulfide.astype(float),
        (feats.sse == "a").astype(float), (feats.sse == "b").astype(float), terminus, confidence,
        *(env[g] for g in GROUPS), env["opposite_charges"], env["residue_charge"] * env["charge_environment"]]
    return np.column_stack([np.nan_to_num(np.column_stack(columns)), threedi])


def substitution_features(sequence: str, coords: np.ndarray, plddt: np.ndarray | None = None,
                          struct: str | None = None, split: bool = False, context=None):
    """(L, 20, len(FEATURE_NAMES)) features of every substitution, columns in AMINO_ACIDS order; with
    ``split`` the two parts instead: (L, residue features) and (L, 20, substitution features)."""
    length = len(sequence)
    per_residue = residue_features(sequence, coords, plddt, struct, context)
    wt = np.array([AMINO_ACIDS.find(a) for a in sequence])
    safe_wt = np.maximum(wt, 0)
    baseline = np.nan_to_num(structure_scores(sequence, coords, plddt, context=context))
    hydro, volume, charge, helix = (_table(HYDROPATHY), _table(VOLUME), _table(CHARGE), _table(HELIX_PENALTY))
    mt = np.broadcast_to(np.arange(20), (length, 20))
    w = np.broadcast_to(safe_wt[:, None], (length, 20))
    is_mt = {a: (mt == AMINO_ACIDS.index(a)).astype(float) for a in "PG"}
    is_wt = {a: (w == AMINO_ACIDS.index(a)).astype(float) for a in "PGC"}
    aromatic = np.isin(mt, [AMINO_ACIDS.index(a) for a in "FWY"]).astype(float)
    substitution = np.stack([
        blosum62()[w, mt], hydro[w], hydro[mt], hydro[mt] - hydro[w], volume[w], volume[mt], volume[mt] - volume[w],
        charge[w], charge[mt], helix[w], helix[mt], is_mt["P"], is_mt["G"], is_wt["P"], is_wt["G"], is_wt["C"],
        aromatic, baseline], axis=-1)
    if split:
        return per_residue, substitution
    residue = np.broadcast_to(per_residue[:, None, :], (length, 20, per_residue.shape[1]))
    return np.concatenate([residue, substitution], axis=-1)


__all__ = ["FEATURE_NAMES", "substitution_features", "residue_features", "half_spheres", "environment_counts",
           "beta_pairs"]
