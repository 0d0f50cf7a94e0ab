"""Imperfect structure files: each defect is either read one stated way (with a note) or refused in one line.

Real files carry placeholders, collapsed numbering, alternate residues and broken coordinates. Nothing
here is silent: what is read differently from the file's literal text becomes a note on the chain (shown
by every front end), and what cannot be read safely becomes an ``InputError`` naming the residue.
docs/imperfect-files.md ("Imperfect structures") lists the rules.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from saprot_scan.errors import InputError

#: Coordinates farther than this from the origin (Angstrom) are refused as absurd: the PDB format cannot hold
#: more than 9,999.999, the largest deposited assemblies span a few thousand Angstrom.
MAX_ABS_COORDINATE = 1.0e5
COORDINATE_COLUMNS = ("Cartn_x", "Cartn_y", "Cartn_z")
STANDARD_LETTERS = frozenset("ACDEFGHIKLMNPQRSTVWY")


def _column_strings(site, key: str, rows: np.ndarray) -> list[str]:
    return site[key].as_array(str)[rows].tolist() if key in site else ["?"] * int(rows.size)


def drop_placeholder_atoms(block, model: int) -> tuple[list[tuple[str, str]], int]:
    """Remove mmCIF atoms whose coordinates are ``?`` or ``.`` (biotite would read them as 0.0).

    Returns (auth chain id, note) pairs naming the residues of the chosen model that lost atoms, and that
    model's position among the models left (biotite counts models in order of appearance).
    """
    from biotite.structure.io import pdbx

    site = block["atom_site"]
    present = np.ones(site.row_count, dtype=bool)
    for key in COORDINATE_COLUMNS:
        if key in site and site[key].mask is not None:
            present &= site[key].mask.array == pdbx.MaskValue.PRESENT
    if present.all():
        return [], model
    numbers = site["pdbx_PDB_model_num"].as_array(str) if "pdbx_PDB_model_num" in site \
        else np.full(site.row_count, "1")
    order = list(dict.fromkeys(numbers.tolist()))
    chosen = order[model - 1] if 0 < model <= len(order) else None
    left = list(dict.fromkeys(numbers[present].tolist()))
    if chosen not in left:
        raise InputError(f"model {model}: every atom's coordinates are placeholders ('?' or '.'); no atom to read")
    gone = np.flatnonzero(~present & (numbers == chosen))
    columns = {}
    for key in site.keys():
        column = site[key]
        mask = None if column.mask is None else pdbx.CIFData(column.mask.array[present])
        columns[key] = pdbx.CIFColumn(pdbx.CIFData(column.as_array(str)[present]), mask)
    block["atom_site"] = pdbx.CIFCategory(columns)
    by_chain: dict[str, list[str]] = {}
    for chain, number, name, atom in zip(_column_strings(site, "auth_asym_id", gone),
                                         _column_strings(site, "auth_seq_id", gone),
                                         _column_strings(site, "auth_comp_id", gone),
                                         _column_strings(site, "auth_atom_id", gone)):
        by_chain.setdefault(chain, []).append(f"{name} {number} {atom}")
    notes = [(chain, f"{len(atoms)} atom(s) with placeholder coordinates ('?' or '.') read as missing "
                     f"({_some(atoms)})") for chain, atoms in by_chain.items()]
    return notes, left.index(chosen) + 1


def comp_id_disagreements(block) -> list[tuple[str, str]]:
    """Residues whose ``auth_comp_id`` and ``label_comp_id`` differ: read as auth_comp_id, the name PyMOL and
    ChimeraX show, and said so (per auth chain id)."""
    site = block["atom_site"]
    if "auth_comp_id" not in site or "label_comp_id" not in site:
        return []
    auth, label = site["auth_comp_id"].as_array(str), site["label_comp_id"].as_array(str)
    differ = np.flatnonzero((auth != label) & (label != "?") & (label != "."))
    if differ.size == 0:
        return []
    seen: dict[str, dict[str, dict[str, None]]] = {}
    for chain, number, a, b in zip(_column_strings(site, "auth_asym_id", differ),
                                   _column_strings(site, "auth_seq_id", differ), auth[differ], label[differ]):
        seen.setdefault(chain, {}).setdefault(f"{number} {a}", {})[b] = None
    notes = []
    for chain, residues in seen.items():
        listed = [f"{residue} (label {'/'.join(labels)})" for residue, labels in residues.items()]
        notes.append((chain, f"{len(residues)} residue(s) named differently in auth_comp_id and label_comp_id; "
                             f"read as auth_comp_id, the name the viewers show ({_some(listed)})"))
    return notes


def _some(items: list[str], shown: int = 3) -> str:
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def _altlocs(atoms) -> np.ndarray:
    if "altloc_id" in atoms.get_annotation_categories():
        return atoms.altloc_id
    return np.full(atoms.array_length(), "")


def collapsed_chains(atoms, is_amino_acid) -> dict[str, str]:
    """Chains where two amino-acid residues share one number: the same atom name (and alternate location)
    appears twice under one chain, number and insertion code. Returns chain id -> a description."""
    amino = _amino_mask(atoms, is_amino_acid)
    keys = Counter(zip(atoms.chain_id[amino].tolist(), atoms.res_id[amino].tolist(), atoms.ins_code[amino].tolist(),
                       atoms.atom_name[amino].tolist(), _altlocs(atoms)[amino].tolist()))
    found: dict[str, list[str]] = {}
    for (chain, number, icode, atom, _alt), count in keys.items():
        if count > 1 and atom == "CA":
            found.setdefault(chain, []).append(f"{number}{icode}".strip())
    return {chain: f"{len(numbers)} residue number(s) used by more than one residue ({_some(numbers)})"
            for chain, numbers in found.items()}


def _amino_mask(atoms, is_amino_acid) -> np.ndarray:
    names = atoms.res_name.tolist()
    verdict = {name: bool(is_amino_acid(name)) for name in set(names)}
    return np.array([verdict[name] for name in names], dtype=bool)


def renumber_from_labels(atoms, label_atoms, chains: dict[str, str], is_amino_acid) -> list[tuple[str, str]]:
    """Give the amino acids of the collapsed ``chains`` mmCIF's ``label_seq_id`` numbers (both arrays were read
    from one file the same way, so atom i is atom i)."""
    amino = _amino_mask(atoms, is_amino_acid)
    notes = []
    for chain, why in chains.items():
        rows = (atoms.chain_id == chain) & amino
        numbers = label_atoms.res_id[rows]
        if numbers.size == 0 or (numbers <= 0).any():
            raise InputError(f"chain {chain}: {why}, and the file has no label_seq_id to number it by; "
                             "renumber the residues")
        atoms.res_id[rows] = numbers
        atoms.ins_code[rows] = ""
        notes.append((chain, f"{why}; residues renumbered by the file's label_seq_id ({int(numbers.min())}.."
                             f"{int(numbers.max())})"))
    return notes


def last_residue_name_wins(atoms, is_amino_acid) -> tuple[object, list[tuple[str, str]]]:
    """Microheterogeneity (two amino-acid names for one residue in alternate locations): keep the atoms of the
    last name in file order, as the last alternate location of each atom wins, and say so. Other molecules
    that share a residue's number (a ligand, a water) are not alternates and stay."""
    if atoms.array_length() == 0:
        return atoms, []
    amino = _amino_mask(atoms, is_amino_acid)
    key = list(zip(atoms.chain_id.tolist(), atoms.res_id.tolist(), atoms.ins_code.tolist()))
    names: dict[tuple, dict[str, None]] = {}
    for k, name, is_amino in zip(key, atoms.res_name.tolist(), amino):
        if is_amino:
            names.setdefault(k, {})[name] = None
    mixed = {k: list(v) for k, v in names.items() if len(v) > 1}
    if not mixed:
        return atoms, []
    keep = np.array([not is_amino or k not in mixed or name == mixed[k][-1]
                     for k, name, is_amino in zip(key, atoms.res_name.tolist(), amino)])
    notes: dict[str, list[str]] = {}
    for (chain, number, icode), listed in mixed.items():
        notes.setdefault(chain, []).append(f"{number}{icode} {'/'.join(listed)} read as {listed[-1]}")
    return atoms[keep], [(chain, f"alternate residue names at one position, the last one read ({_some(items)})")
                         for chain, items in notes.items()]


def check_coordinates(residue, chain_id: str, where: str) -> None:
    """Refuse a residue with a non-finite or absurd coordinate, naming it (no score could be trusted)."""
    coord = np.asarray(residue.coord, dtype=float)
    finite = np.isfinite(coord).all(axis=1)
    sane = finite & (np.abs(np.where(np.isfinite(coord), coord, 0.0)) <= MAX_ABS_COORDINATE).all(axis=1)
    if sane.all():
        return
    k = int(np.flatnonzero(~sane)[0])
    what = (f"coordinates {', '.join(f'{v:g}' for v in coord[k])}" + ("" if finite[k] else " (not finite numbers)")
            + ("" if not finite[k] else f" (beyond {MAX_ABS_COORDINATE:,.0f} A of the origin)"))
    label = f"{int(residue.res_id[0])}{str(residue.ins_code[0]).strip()}"
    raise InputError(f"{where}: chain {chain_id} residue {label} ({residue.res_name[0]}) atom {residue.atom_name[k]} "
                     f"has {what}; fix or remove that atom")


def modified_residue_note(modified: list[tuple[str, str]]) -> str | None:
    """'3 modified residue(s) read as their parent amino acid (MSE as M x2, SEP as S)' from (name, parent)
    pairs, or None."""
    counts = Counter(modified)
    if not counts:
        return None
    listed = [f"{name} as {letter}" + (f" x{n}" if n > 1 else "") for (name, letter), n in sorted(counts.items())]
    return (f"{sum(counts.values())} modified residue(s) read as their parent amino acid, as the chemical "
            f"component table says ({_some(listed, 6)})")


def unknown_residue_note(unknown: list[str]) -> str | None:
    """'2 residue(s) of no standard amino acid (UNK 5, ...) kept as context, not scored' from labels, or None."""
    if not unknown:
        return None
    return (f"{len(unknown)} residue(s) that are no standard amino acid ({_some(unknown)}) kept as structure "
            "context, not scored (no rows)")


def has_scorable_residue(sequence: str) -> bool:
    """At least one of the 20 amino acids (an all-UNK chain has nothing to score)."""
    return any(letter in STANDARD_LETTERS for letter in sequence)
