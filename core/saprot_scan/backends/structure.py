"""The structure scorer kind: the offline default, scoring substitutions from the coordinates alone (no download).

A mutation's effect is dominated by where it sits (buried residues tolerate little) and by how different
the new amino acid is from the old one. This scorer adds four per-chain z-scored terms, each computed from
the coordinates the core already reads (N, CA, C, CB per residue):

    score(i, mt) = z(-burial_i) + z(BLOSUM62(wt_i, mt)) + 0.2 z(proline_i,mt) + 0.2 z(-pLDDT_i)

- burial: mean of the z-scores of the Cbeta count within 10 A (CA for glycine; the ideal Cbeta from the
  backbone for other residues without one, in every term) and the half-sphere
  exposure "up" count (CA atoms within 13 A on the side-chain side, Hamelryck 2005); a cysteine in a
  disulfide bond (CB-CB < 4.5 A) counts as buried as the chain's most buried residue;
- BLOSUM62 (Henikoff & Henikoff 1992, biotite's copy);
- proline: -1 for a proline introduced in a loop, -2 in a helix or strand (P-SEA, biotite);
- pLDDT: only for predicted models (when the pLDDT rule applies), clipped to 40..100.

Units are standard deviations of the chain's substitutions (0 = the chain's typical substitution; the
wild type is reported as 0 like a log-ratio). Weights and the dev-set measurements behind them are in
models/README.md. Multi-mutants are scored as the sum of their single substitutions (additive).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from saprot_scan.encoding.geometry import neighbour_pair_chunks, neighbour_pairs, with_ideal_cb
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.scoring.meaning import ScoreMeaning, chain_z

STRUCTURE_SCORER_NAME = "burial-blosum"
STRUCTURE_SCORER_VERSION = 1
#: Term weights (z-score units). burial and BLOSUM62 are fixed at 1 (the measured burial + BLOSUM62 rule);
#: the proline and pLDDT weights were chosen on the 26 dev assays (models/README.md).
WEIGHTS = {"burial": 1.0, "blosum62": 1.0, "proline": 0.2, "plddt": 0.2}
CONTACT_RADIUS = 10.0  # Angstrom, Cbeta-Cbeta (the measured burial rule)
HSE_RADIUS = 13.0  # Angstrom, the usual half-sphere exposure radius
DISULFIDE_CB_DISTANCE = 4.5  # Angstrom; bonded cystines sit at 3.4-4.3 A CB-CB
PLDDT_RANGE = (40.0, 100.0)
SCORE_MEANING = chain_z("structure score (z units; burial + BLOSUM62)")


def blosum62() -> np.ndarray:
    """BLOSUM62 as a (20, 20) array in AMINO_ACIDS order."""
    from biotite.sequence.align import SubstitutionMatrix

    matrix = SubstitutionMatrix.std_protein_matrix()
    return np.array([[matrix.get_score(a, b) for b in AMINO_ACIDS] for a in AMINO_ACIDS], dtype=float)


def _zscore(values: np.ndarray) -> np.ndarray:
    """(x - mean) / sd over the finite entries; a constant term contributes nothing."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros_like(values)
    sd = float(finite.std())
    return (values - float(finite.mean())) / sd if sd > 0 else np.zeros_like(values)


def _side_chain_directions(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CA positions and unit CA->CB directions; residues without CB get the ideal direction from N, CA, C."""
    n, ca, c, cb = coords[:, 0], coords[:, 1], coords[:, 2], coords[:, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        bisector = _unit(ca - n) + _unit(ca - c)
        ideal = _unit(bisector)
        measured = _unit(cb - ca)
    has_cb = np.isfinite(measured).all(axis=1)
    direction = np.where(has_cb[:, None], measured, ideal)
    return ca, np.nan_to_num(direction)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _neighbour_pairs(points: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i != j, of finite points within ``radius`` (encoding.geometry: linear memory)."""
    return neighbour_pairs(points, radius)


def _beta(coords: np.ndarray) -> np.ndarray:
    """Cbeta per residue, CA where there is none (glycine)."""
    return np.where(np.isfinite(coords[:, 3]).all(axis=1)[:, None], coords[:, 3], coords[:, 1])


def own_pair_chunks(points: np.ndarray, radius: float, context: np.ndarray | None = None):
    """Pairs (i, j) within ``radius`` with i one of ``points`` and j one of ``points`` or of the partner chains'
    ``context`` points (indices past ``len(points)``). Without context the pairs are those of ``points`` alone."""
    if context is None or not len(context):
        yield from neighbour_pair_chunks(points, radius)
        return
    mine = len(points)
    for i, j in neighbour_pair_chunks(np.concatenate([points, context]), radius):
        keep = i < mine
        yield i[keep], j[keep]


def contact_counts(coords: np.ndarray, radius: float = CONTACT_RADIUS, context: np.ndarray | None = None
                   ) -> np.ndarray:
    """Cbeta atoms (CA where there is no Cbeta: glycine) within ``radius`` of each residue's Cbeta, the partner
    chains' (``context``: their N, CA, C, CB) counted too when given."""
    beta = _beta(coords)
    counts = np.zeros(len(coords))
    for i, _ in own_pair_chunks(beta, radius, None if context is None else _beta(context)):
        counts += np.bincount(i, minlength=len(coords))
    return counts


def half_sphere_exposure(coords: np.ndarray, radius: float = HSE_RADIUS, context: np.ndarray | None = None
                         ) -> np.ndarray:
    """HSE-up: CA atoms within ``radius`` on the side-chain side of each residue's CA (partners' CA too)."""
    ca, direction = _side_chain_directions(coords)
    every = ca if context is None else np.concatenate([ca, context[:, 1]])
    counts = np.zeros(len(coords))
    for i, j in own_pair_chunks(ca, radius, None if context is None else context[:, 1]):
        up = np.einsum("kd,kd->k", every[j] - ca[i], direction[i]) > 0
        counts += np.bincount(i[up], minlength=len(coords))
    return counts


def disulfide_cysteines(sequence: str, coords: np.ndarray) -> np.ndarray:
    """Boolean per residue: a cysteine whose CB lies within 4.5 A of another cysteine's CB."""
    is_cys = np.array([aa == "C" for aa in sequence])
    bonded = np.zeros(len(sequence), dtype=bool)
    if is_cys.sum() < 2:
        return bonded
    index = np.flatnonzero(is_cys)
    i, j = _neighbour_pairs(coords[index, 3], DISULFIDE_CB_DISTANCE)
    bonded[index[i]] = True
    return bonded


def secondary_structure(coords: np.ndarray) -> np.ndarray:
    """P-SEA letters per residue ('a' helix, 'b' strand, 'c' coil) from the CA trace (biotite)."""
    import biotite.structure as struc

    length = len(coords)
    atoms = struc.AtomArray(length)
    atoms.coord = np.nan_to_num(coords[:, 1], nan=1e6).astype(np.float32)
    atoms.atom_name[:] = "CA"
    atoms.element[:] = "C"
    atoms.res_name[:] = "ALA"
    atoms.chain_id[:] = "A"
    atoms.res_id = np.arange(1, length + 1)
    atoms.hetero[:] = False
    if length < 5:
        return np.full(length, "c")
    try:
        sse = struc.annotate_sse(atoms)
    except Exception:  # P-SEA needs a few consecutive residues; an odd chain is simply "coil"
        return np.full(length, "c")
    return np.where(np.isin(sse, ["a", "b"]), sse, "c")


@dataclass(frozen=True)
class StructureFeatures:
    """What the scorer reads off one chain; kept so viewers and tests can explain a score."""

    burial: np.ndarray  # (L,) z-scored, high = buried
    contacts: np.ndarray  # (L,) Cbeta count within 10 A
    hse_up: np.ndarray  # (L,)
    disulfide: np.ndarray  # (L,) bool
    sse: np.ndarray  # (L,) 'a' / 'b' / 'c'
    plddt: np.ndarray | None  # (L,) or None for experimental structures


def structure_features(sequence: str, coords: np.ndarray, plddt: np.ndarray | None = None,
                        context=None) -> StructureFeatures:
    """Burial, disulfides, secondary structure (and pLDDT, passed through) for one chain.

    Residues other than glycine that lack a Cbeta (truncated side chains) get the ideal one from the backbone.
    ``context`` (``encoding.contacts.PartnerContext``, the file's other chains) makes burial count the partners'
    atoms too; the z-scores stay over this chain's residues, and without it nothing changes.
    """
    glycine = np.array([aa == "G" for aa in sequence], dtype=bool)
    with np.errstate(all="ignore"):  # residues without N or C carry NaN through; they are no one's neighbour
        coords = with_ideal_cb(np.asarray(coords, dtype=float), keep_missing=glycine)
        around = None if context is None else context.backbone()
        contacts = contact_counts(coords, context=around)
        hse = half_sphere_exposure(coords, context=around)
        burial = 0.5 * _zscore(contacts) + 0.5 * _zscore(hse)
        disulfide = disulfide_cysteines(sequence, coords)
        sse = secondary_structure(coords)
    if disulfide.any():
        burial = np.where(disulfide, burial.max(), burial)
    return StructureFeatures(burial, contacts, hse, disulfide, sse,
                             None if plddt is None else np.asarray(plddt, dtype=float))


def structure_scores(sequence: str, coords: np.ndarray, plddt: np.ndarray | None = None,
                     weights: dict[str, float] | None = None, context=None) -> np.ndarray:
    """(L, 20) scores in AMINO_ACIDS columns; wild type 0, unknown residues (X) NaN; ``context``: the partner
    chains (``structure_features``)."""
    weights = {**WEIGHTS, **(weights or {})}
    length = len(sequence)
    feats = structure_features(sequence, coords, plddt, context)
    wt = np.array([AMINO_ACIDS.find(a) for a in sequence])
    known = wt >= 0
    matrix = blosum62()
    substitution = np.where(known[:, None], matrix[np.maximum(wt, 0)], np.nan)
    proline = np.zeros((length, 20))
    proline[:, AMINO_ACIDS.index("P")] = np.where(feats.sse == "c", -1.0, -2.0)
    proline[~known] = np.nan
    total = weights["burial"] * _zscore(-feats.burial)[:, None] + weights["blosum62"] * _zscore(substitution)
    total = total + weights["proline"] * _zscore(proline)
    if feats.plddt is not None and weights["plddt"]:
        confidence = np.clip(feats.plddt, *PLDDT_RANGE)
        total = total + weights["plddt"] * _zscore(-confidence)[:, None]
    scores = np.where(known[:, None], total, np.nan)
    scores[np.flatnonzero(known), wt[known]] = 0.0
    return scores


def _parameters_digest(weights: dict[str, float]) -> str:
    """The scorer's identity for caches and outputs: its version and every parameter, hashed."""
    text = json.dumps({"name": STRUCTURE_SCORER_NAME, "version": STRUCTURE_SCORER_VERSION, "weights": weights,
                       "radii": [CONTACT_RADIUS, HSE_RADIUS, DISULFIDE_CB_DISTANCE], "plddt": PLDDT_RANGE,
                       "matrix": "BLOSUM62"}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class StructureScorer:
    """A ``Scorer`` (backends.base) that needs no language model: the terms above, from one chain's coordinates.

    Not cached (``cacheable = False``): its scores depend on coordinates the token cache key does not see,
    and a 3,000-residue chain takes well under a second.
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    origin: str = ""
    name: str = STRUCTURE_SCORER_NAME
    kind: str = "structure"
    precision: str = "fp64"
    device: str = "cpu"
    cacheable: bool = False
    score_meaning: ScoreMeaning = SCORE_MEANING
    methods: tuple[str, ...] = ("masked",)  # no language model: the wild-type marginal does not exist here

    @property
    def sha256(self) -> str:
        return _parameters_digest(self.weights)

    def describe(self) -> str:
        why = f" ({self.origin})" if self.origin else ""
        return (f"structure scorer {self.name}{why}: burial + BLOSUM62, not SaProt "
                "(models fetch saprot-35m for SaProt)")

    def cache_identity(self) -> Sequence[str]:
        return (self.name, self.sha256)

    def check(self) -> None:
        """Nothing to load; biotite (a core dependency) is all it needs."""

    def scan(self, chain, tokens, method: str = "masked", batch_size: int | None = None,
             progress: Callable[[int, int], None] | None = None, cancel=None) -> np.ndarray:
        """(L, 20) scores; ``method`` does not change them (there is no language model to mask)."""
        plddt = None
        if getattr(tokens, "plddt_masked", False):
            from saprot_scan.encoding.plddt import plddt_values

            plddt = plddt_values(chain)
        scores = structure_scores(chain.sequence, chain.coords, plddt, self.weights, partner_context(chain))
        if progress is not None:
            progress(len(chain), len(chain))
        return scores

    def score_variants(self, chain, tokens, variants: Sequence[Sequence], batch_size: int | None = None
                       ) -> np.ndarray:
        """Multi-mutants as the sum of their single-site scores (additive)."""
        table = self.scan(chain, tokens)
        return np.array([sum(table[s.index, AMINO_ACIDS.index(s.mt)] for s in sites) for sites in variants])

    def chain_key(self, chain) -> str:
        """The coordinates' fingerprint (the partner chains' too): what, besides the tokens, the scores depend on."""
        digest = hashlib.sha256(np.ascontiguousarray(np.asarray(chain.coords, dtype=np.float32)).tobytes())
        context = partner_context(chain)
        if context is not None:
            digest.update(context.sequence.encode())
            digest.update(np.ascontiguousarray(np.asarray(context.coords, dtype=np.float32)).tobytes())
        return digest.hexdigest()


def partner_context(chain):
    """The other chains of the file a chain was read with (``--partner-context on``), or None."""
    context = getattr(chain, "partners", None)
    return context if context is not None and len(context.sequence) else None


def load_structure_scorer(spec: str | None = None, device: str = "auto", precision: str | None = "auto"
                          ) -> StructureScorer:
    """``load_scorer``'s loader for the structure kind (device and precision do not apply)."""
    return StructureScorer(origin="named" if spec else "")
