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

    ``model`` is the chosen model's position in file order. Returns (auth chain id, note) pairs naming the
    residues of that model that lost atoms, and its position among the models left (biotite counts models in
    order of appearance).
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


#: atom_site columns biotite needs that have an obvious value when a hand-made or exported file leaves them out.
_DEFAULT_COLUMNS = {"pdbx_PDB_model_num": "1", "group_PDB": "ATOM", "label_alt_id": ".", "pdbx_PDB_ins_code": "?"}
#: Columns no file can do without: (either of the names, what it holds).
_REQUIRED_COLUMNS = ((("Cartn_x",), "the x coordinates"), (("Cartn_y",), "the y coordinates"),
                     (("Cartn_z",), "the z coordinates"), (("auth_atom_id", "label_atom_id"), "the atom names"),
                     (("auth_comp_id", "label_comp_id"), "the residue names"),
                     (("auth_asym_id", "label_asym_id"), "the chain ids"),
                     (("auth_seq_id", "label_seq_id"), "the residue numbers"))


def complete_atom_site(block) -> None:
    """Refuse an mmCIF whose atom_site table lacks a column no reading can do without, naming it in plain words;
    fill the columns that have one obvious value (one model, no alternate locations, no insertion codes,
    elements from the atom names) so the reader does not fail on their absence."""
    from biotite.structure.io import pdbx

    if "atom_site" not in block:
        raise InputError("no atom_site table: the file has no atoms (is it an mmCIF of a structure?)")
    site = block["atom_site"]
    for names, what in _REQUIRED_COLUMNS:
        if not any(name in site for name in names):
            raise InputError(f"the atom_site table has no {' or '.join(names)} column ({what}); "
                             "the file cannot be read")
    fill = {name: value for name, value in _DEFAULT_COLUMNS.items() if name not in site}
    if "type_symbol" not in site:
        atom = site["auth_atom_id" if "auth_atom_id" in site else "label_atom_id"].as_array(str)
        fill["type_symbol"] = np.char.upper(np.char.lstrip(atom, "0123456789"))[:].astype("U1")
    if not fill:
        return
    columns = {key: site[key] for key in site.keys()}
    for name, value in fill.items():
        columns[name] = pdbx.CIFColumn(pdbx.CIFData(np.broadcast_to(np.asarray(value), (site.row_count,)).copy()))
    block["atom_site"] = pdbx.CIFCategory(columns)


def cif_model_numbers(block) -> list[int]:
    """The model numbers of an mmCIF file in order of appearance (``pdbx_PDB_model_num``)."""
    numbers = dict.fromkeys(block["atom_site"]["pdbx_PDB_model_num"].as_array(str).tolist())
    try:
        return [int(n) for n in numbers]
    except ValueError:
        return list(range(1, len(numbers) + 1))


def pdb_model_numbers(text: str) -> list[int]:
    """The serial numbers of a PDB file's MODEL records in order ([1] without any: one model)."""
    numbers = []
    for line in text.split("\n"):
        if line.startswith("MODEL"):
            try:
                numbers.append(int(line[5:].split()[0]))
            except (ValueError, IndexError):
                return []
    if not numbers:
        return [1]
    return numbers if len(set(numbers)) == len(numbers) else []


def check_shared_author_chains(block, is_amino_acid) -> None:
    """Two polymer chains under one author chain id (different label_asym_id): biotite would merge them into one
    sequence, so such a file is refused naming them (a lone amino acid or a ligand beside a chain is fine)."""
    site = block["atom_site"]
    if "auth_asym_id" not in site or "label_asym_id" not in site:
        return []
    auth, label = site["auth_asym_id"].as_array(str), site["label_asym_id"].as_array(str)
    atom = site["auth_atom_id" if "auth_atom_id" in site else "label_atom_id"].as_array(str)
    comp = site["auth_comp_id" if "auth_comp_id" in site else "label_comp_id"].as_array(str)
    seq = site["auth_seq_id" if "auth_seq_id" in site else "label_seq_id"].as_array(str)
    model = site["pdbx_PDB_model_num"].as_array(str)
    ca = (atom == "CA") & (model == model[0])
    residues: dict[tuple[str, str], set] = {}
    for a, b, c, n in zip(auth[ca], label[ca], comp[ca], seq[ca]):
        if is_amino_acid(c):
            residues.setdefault((a, b), set()).add(n)
    polymers: dict[str, list[str]] = {}
    for (a, b), numbers in residues.items():
        if len(numbers) >= 2:
            polymers.setdefault(a, []).append(b)
    for a, labels in polymers.items():
        if len(labels) > 1:
            raise InputError(f"chain {a}: {len(labels)} polymer chains share this author chain id (label_asym_id "
                             f"{', '.join(labels)}); read as one they would make one wrong sequence, so give each "
                             "its own auth_asym_id")


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


#: Fixed-column fields of a PDB atom record that must hold numbers: name -> (start, stop, blank allowed).
_PDB_NUMBERS = {"residue number": (22, 26, False), "x": (30, 38, False), "y": (38, 46, False), "z": (46, 54, False),
                "occupancy": (54, 60, True), "B-factor": (60, 66, True)}
_CIF_NUMBERS = ("Cartn_x", "Cartn_y", "Cartn_z", "occupancy", "B_iso_or_equiv", "auth_seq_id", "label_seq_id",
                "pdbx_PDB_model_num")


def first_bad_field(text: str, cif: bool) -> str | None:
    """'line 812: x is '5  1.0', not a number' for the first atom record whose numeric field does not read, or
    None (the parser's own text is then the best there is)."""
    lines = text.split("\n")
    if cif:
        return _first_bad_cif_field(lines)
    for number, line in enumerate(lines, 1):
        if not line.startswith(("ATOM  ", "HETATM")):
            continue
        for name, (start, stop, blank_ok) in _PDB_NUMBERS.items():
            cell = line[start:stop]
            if blank_ok and not cell.strip():
                continue
            if not _reads_as_number(cell, integer=name == "residue number"):
                return f"line {number}: the {name} field (columns {start + 1}-{stop}) is {cell!r}, not a number"
    return None


def _reads_as_number(cell: str, integer: bool) -> bool:
    value = cell.strip()
    if integer:  # hybrid-36 residue numbers (A000 ...) are letters and digits
        return value.lstrip("-").isdigit() or (value.isalnum() and value.isascii() and len(value) == 4)
    try:
        float(value)
    except ValueError:
        return False
    return " " not in value


def _first_bad_cif_field(lines: list[str]) -> str | None:
    tags = [line.split()[0].split(".", 1)[1] for line in lines if line.startswith("_atom_site.")]
    wanted = {k: name for k, name in enumerate(tags) if name in _CIF_NUMBERS}
    for number, line in enumerate(lines, 1):
        if not line.startswith(("ATOM", "HETATM")):
            continue
        fields = line.split()
        if len(fields) != len(tags):
            return (f"line {number}: {len(fields)} values where the atom_site table has {len(tags)} columns "
                    "(a value with a space needs quotes)")
        for k, name in wanted.items():
            value = fields[k]
            if value in ("?", "."):
                continue
            if not _reads_as_number(value, integer=name.endswith(("seq_id", "model_num"))):
                return f"line {number}: {name} is {value!r}, not a number"
    return None


#: Residue names molecular-dynamics force fields (AMBER, CHARMM, GROMACS) give protonation or disulfide states
#: of standard amino acids, read as their parents.
FORCE_FIELD_PARENTS = {"CYX": "CYS", "CYM": "CYS", "HIE": "HIS", "HID": "HIS", "HIP": "HIS", "HSD": "HIS",
                       "HSE": "HIS", "HSP": "HIS", "LYN": "LYS", "ASH": "ASP", "GLH": "GLU"}


def force_field_note(names: list[str]) -> str | None:
    """'3 residue(s) with force-field names read as their parent amino acid (CYX as CYS x2, HIE as HIS)'."""
    counts = Counter(names)
    if not counts:
        return None
    listed = [f"{name} as {FORCE_FIELD_PARENTS[name]}" + (f" x{n}" if n > 1 else "")
              for name, n in sorted(counts.items())]
    return (f"{sum(counts.values())} residue(s) with force-field names (protonation or disulfide states) read as "
            f"their parent amino acid ({_some(listed, 6)})")


def missing_ca_note(residues: list[str]) -> str | None:
    """Amino acids that have a backbone but no CA atom: every per-residue quantity hangs on CA, so they are not
    read; the note says so instead of dropping them silently."""
    if not residues:
        return None
    return (f"{len(residues)} residue(s) without a CA atom left out (no scores, not in the 3Di string): "
            f"{_some(residues)}")


def has_backbone(coords: np.ndarray) -> bool:
    """At least one residue with N and C beside its CA (3Di letters need all three)."""
    return bool((~np.isnan(coords[:, [0, 2], 0]).any(axis=1)).any())


def upper_case_atom_names(atoms, is_amino_acid) -> tuple[object, list[tuple[str, str]]]:
    """Atom names of amino acids written in lower case (some exporters do) read upper-cased, as the PDB spells
    them, with a note per chain; without this, 'ca' would not be the CA and the residue would vanish."""
    names = atoms.atom_name
    lower = (np.char.upper(names) != names) & _amino_mask(atoms, is_amino_acid)
    if not lower.any():
        return atoms, []
    atoms = atoms.copy()
    atoms.atom_name = np.where(lower, np.char.upper(names), names)
    notes = []
    for chain in dict.fromkeys(atoms.chain_id[lower].tolist()):
        count = len(set(atoms.res_id[lower & (atoms.chain_id == chain)].tolist()))
        notes.append((chain, f"atom names in lower case read upper-cased in {count} residue(s) (ca as CA)"))
    return atoms, notes


def check_b_factors(residue, chain_id: str, where: str) -> None:
    """Refuse a residue with a non-finite B-factor, naming it: in a predicted model it is the pLDDT, and a NaN
    there would escape the pLDDT mask and turn into NaN scores."""
    b = np.asarray(residue.b_factor, dtype=float)
    bad = np.flatnonzero(~np.isfinite(b))
    if bad.size == 0:
        return
    k = int(bad[0])
    label = f"{int(residue.res_id[0])}{str(residue.ins_code[0]).strip()}"
    raise InputError(f"{where}: chain {chain_id} residue {label} ({residue.res_name[0]}) atom {residue.atom_name[k]} "
                     f"has B-factor {b[k]:g} (not a finite number; in a predicted model that is its pLDDT); "
                     "fix or remove that value")


def plddt_range_note(b_factors: np.ndarray, constant_per_residue: bool, residue_ids) -> str | None:
    """A chain that looks predicted (one B-factor per residue, varying, none negative) except for values above 100:
    pLDDT masking stays off for it, and the note says which residue made it so (``--plddt-mask on`` forces it)."""
    b = np.asarray(b_factors, dtype=float)
    if not constant_per_residue or len(b) < 2 or (b < 0).any() or not (b > 100).any() or b.max() == b.min():
        return None
    over = np.flatnonzero(b > 100)
    listed = [f"{residue_ids[i].label} ({b[i]:g})" for i in over]
    return (f"pLDDT masking is off for this chain: {len(over)} residue(s) have B-factors above 100 "
            f"({_some(listed)}), so its B-factors are not read as pLDDT (0..100); '--plddt-mask on' masks anyway")
