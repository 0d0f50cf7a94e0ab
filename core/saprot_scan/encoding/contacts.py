"""Residues near other atoms, measured on every heavy atom (side chains included), for ``suggest --avoid`` and
for interfaces with the other chains of a file.

"An atom within R Å" means any atom: a tyrosine whose ring touches a partner is at the interface even when
its backbone and CB are 7 Å away. Chains read from older callers that carry no heavy atoms fall back to
N, CA, C and CB (the ideal CB where a side chain was truncated).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from saprot_scan.encoding.geometry import neighbour_pair_chunks, with_ideal_cb

#: Heavy-atom distance at which two residues of different chains are "at the interface" (a common cut-off).
INTERFACE_RADIUS = 5.0


def residue_atoms(chain) -> tuple[np.ndarray, np.ndarray]:
    """(M, 3) atom positions of the chain and the residue index of each: every heavy atom read from the
    structure plus N, CA, C, CB (the ideal CB for residues other than glycine that lack one)."""
    glycine = np.array([aa == "G" for aa in chain.sequence], dtype=bool)
    with np.errstate(invalid="ignore"):
        backbone = with_ideal_cb(chain.coords, keep_missing=glycine).reshape(-1, 3)
    owner = np.repeat(np.arange(len(chain)), 4)
    heavy = np.asarray(getattr(chain, "heavy_atoms", np.zeros((0, 3))), dtype=float).reshape(-1, 3)
    heavy_owner = np.asarray(getattr(chain, "heavy_atom_residue", np.zeros(0)), dtype=np.int64)
    points = np.concatenate([backbone, heavy])
    owners = np.concatenate([owner, heavy_owner])
    finite = np.isfinite(points).all(axis=1)
    return points[finite], owners[finite]


def residues_near(chain, targets: np.ndarray, radius: float) -> np.ndarray:
    """Boolean per residue of ``chain``: some atom of it lies within ``radius`` Å of a point of ``targets``."""
    out = np.zeros(len(chain), dtype=bool)
    targets = np.asarray(targets, dtype=float).reshape(-1, 3)
    targets = targets[np.isfinite(targets).all(axis=1)]
    if radius <= 0 or not len(targets):
        return out
    points, owners = residue_atoms(chain)
    if not len(points):
        return out
    mine = len(points)
    for i, j in neighbour_pair_chunks(np.concatenate([points, targets]), radius):
        hit = (i < mine) & (j >= mine)
        out[owners[i[hit]]] = True
    return out


def atoms_of(chain, residues: np.ndarray | None = None) -> np.ndarray:
    """(M, 3) atom positions of ``chain`` (of the residues masked True in ``residues``, when given)."""
    points, owners = residue_atoms(chain)
    return points if residues is None else points[np.asarray(residues, dtype=bool)[owners]]


def interface_residues(chain, partners: Sequence, radius: float = INTERFACE_RADIUS) -> np.ndarray:
    """Boolean per residue: a heavy atom within ``radius`` Å of a heavy atom of another chain in ``partners``
    (the scored chain itself, if listed, is skipped)."""
    others = [atoms_of(p) for p in partners if p is not chain and p.chain_id != chain.chain_id]
    if not others:
        return np.zeros(len(chain), dtype=bool)
    return residues_near(chain, np.concatenate(others), radius)


@dataclass(frozen=True)
class PartnerContext:
    """The file's other protein chains as the structure scorers see them (``--partner-context on``): their
    residues' letters and N, CA, C, CB. SaProt itself reads one chain; only the structure scorers use this."""

    chain_ids: tuple[str, ...]
    sequence: str
    coords: np.ndarray  # (K, 4, 3)

    @classmethod
    def of(cls, chains: Sequence) -> "PartnerContext":
        if not chains:
            return cls((), "", np.zeros((0, 4, 3), dtype=np.float32))
        return cls(tuple(c.chain_id for c in chains), "".join(c.sequence for c in chains),
                   np.concatenate([np.asarray(c.coords, dtype=np.float32) for c in chains]))

    def backbone(self) -> np.ndarray:
        """(K, 4, 3) N, CA, C, CB with the ideal CB where a side chain was truncated (glycine keeps none)."""
        glycine = np.array([aa == "G" for aa in self.sequence], dtype=bool)
        with np.errstate(invalid="ignore"):
            return with_ideal_cb(self.coords, keep_missing=glycine)


def attach_context(chains: Sequence, everything: Sequence, partners: bool) -> None:
    """Give each chain of ``chains`` its interface with the other chains of ``everything`` (always) and, with
    ``partners``, those chains as context for the structure scorers."""
    for chain in chains:
        others = [c for c in everything if c.chain_id != chain.chain_id]
        chain.interface = interface_residues(chain, others) if others else None
        chain.partners = PartnerContext.of(others) if partners and others else None
