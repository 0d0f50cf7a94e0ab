"""Structure files made for the core tests from real PDB entries in tests/data (never canned text).

Each helper reads a real mmCIF file with biotite, changes one thing (B-factors, a residue name, an
insertion code, which atoms are kept) and writes the result where the test asks.
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np

FOLDSEEK_DIR_NAME = "foldseek_3di"


def load_atoms(cif_path: Path, model: int = 1):
    """First model (or ``model``) of a real mmCIF file, author fields, with B-factors."""
    from biotite.structure.io import pdbx

    cif = pdbx.CIFFile.read(str(cif_path))
    return pdbx.get_structure(cif, model=model, use_author_fields=True, extra_fields=["b_factor"])


def pdb_text(atoms) -> str:
    from biotite.structure.io import pdb

    handle = pdb.PDBFile()
    handle.set_structure(atoms)
    buffer = io.StringIO()
    handle.write(buffer)
    return buffer.getvalue()


def cif_text(atoms) -> str:
    from biotite.structure.io import pdbx

    handle = pdbx.CIFFile()
    pdbx.set_structure(handle, atoms)
    buffer = io.StringIO()
    handle.write(buffer)
    return buffer.getvalue()


def write_pdb(atoms, path: Path, header: str = "") -> Path:
    path.write_text(header + pdb_text(atoms))
    return path


def write_cif(atoms, path: Path) -> Path:
    path.write_text(cif_text(atoms))
    return path


def gzip_copy(src: Path, dst: Path) -> Path:
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return dst


def residue_index(atoms) -> np.ndarray:
    """0-based residue number of every atom (residue order in the file)."""
    import biotite.structure as struc

    starts = struc.get_residue_starts(atoms)
    index = np.zeros(atoms.array_length(), dtype=int)
    index[starts[1:]] = 1
    return np.cumsum(index)


def with_plddt(atoms, plddt: np.ndarray, per_atom_jitter: bool = False):
    """A copy whose B-factors hold ``plddt`` per residue (as predicted-model files do).

    ``per_atom_jitter`` makes atoms of one residue differ slightly (the residue mean stays the same), so
    only the "alphafold" text, not the per-residue-constant pattern, marks the file as predicted.
    """
    atoms = atoms.copy()
    per_atom = np.asarray(plddt, dtype=float)[residue_index(atoms)]
    if per_atom_jitter:
        jitter = np.zeros(atoms.array_length())
        idx = residue_index(atoms)
        for r in np.unique(idx):
            members = np.flatnonzero(idx == r)
            if len(members) > 1:
                jitter[members[0]], jitter[members[1]] = 0.5, -0.5
        per_atom = per_atom + jitter
    atoms.b_factor = per_atom
    return atoms


def protein_only(atoms, chain: str | None = None):
    import biotite.structure as struc

    keep = struc.filter_amino_acids(atoms)
    if chain is not None:
        keep &= atoms.chain_id == chain
    return atoms[keep]


def as_selenomethionine(atoms):
    """Every MET becomes MSE (SD -> SE, HETATM), as in selenomethionine crystal structures."""
    atoms = atoms.copy()
    met = atoms.res_name == "MET"
    atoms.res_name[met] = "MSE"
    atoms.hetero[met] = True
    sd = met & (atoms.atom_name == "SD")
    atoms.atom_name[sd] = "SE"
    atoms.element[sd] = "SE"
    return atoms


def with_insertion_codes(atoms, numbers_to_codes: dict[int, tuple[int, str]]):
    """Renumber residues: author number n -> (new number, insertion code)."""
    atoms = atoms.copy()
    res_ids = atoms.res_id.copy()
    for old, (new, code) in numbers_to_codes.items():
        sel = res_ids == old
        atoms.res_id[sel] = new
        atoms.ins_code[sel] = code
    return atoms


def plddt_ramp(length: int) -> np.ndarray:
    """Distinct per-residue pLDDT values from 40 to 95 (so some residues fall below 70)."""
    return np.linspace(40.0, 95.0, length)
