"""Read protein chains from PDB/mmCIF files (or a viewer's atom arrays) the way Foldseek reads them.

Foldseek's rules that matter for identical 3Di strings: amino-acid residues that have a CA atom, in
file order; for atoms with alternate locations the last one read wins; a missing CB is made virtual
(that part lives in the encoder). Residues keep author chain ids, numbers and insertion codes.
"""
from __future__ import annotations

import io
import os
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from saprot_scan.encoding import files, imperfect
from saprot_scan.errors import InputError

BACKBONE_ATOMS = ("N", "CA", "C", "CB")
#: Record names a PDB-format file may open with (header, coordinates, or a bare model).
PDB_RECORDS = frozenset(("HEADER", "OBSLTE", "TITLE", "SPLIT", "CAVEAT", "COMPND", "SOURCE", "KEYWDS", "EXPDTA",
                         "NUMMDL", "MDLTYP", "AUTHOR", "REVDAT", "SPRSDE", "JRNL", "REMARK", "DBREF", "SEQADV",
                         "SEQRES", "MODRES", "HET", "HETNAM", "HETSYN", "FORMUL", "HELIX", "SHEET", "SSBOND",
                         "LINK", "CISPEP", "SITE", "CRYST1", "ORIGX1", "SCALE1", "MTRIX1", "MODEL", "ATOM",
                         "HETATM", "ANISOU", "TER"))
#: Words of the PDB's experimental methods (EXPDTA, _exptl.method); "THEORETICAL MODEL" is not one of them.
EXPERIMENTAL_METHOD_WORDS = ("X-RAY", "ELECTRON", "NMR", "NEUTRON", "FIBER", "POWDER", "SCATTERING",
                             "INFRARED", "EPR", "FLUORESCENCE")


@dataclass(frozen=True, order=True)
class ResidueId:
    """A residue as the user knows it: author chain id, author number, insertion code."""

    chain: str
    number: int
    icode: str = ""

    @property
    def label(self) -> str:
        """Author number plus insertion code, e.g. ``"52A"``."""
        return f"{self.number}{self.icode}"

    def __str__(self) -> str:
        return f"{self.chain}:{self.label}"


@dataclass
class Chain:
    """One protein chain, reduced to what SaProt needs."""

    chain_id: str
    residue_ids: tuple[ResidueId, ...]
    sequence: str
    coords: np.ndarray  # (L, 4, 3) float32: N, CA, C, CB; NaN where absent
    b_factors: np.ndarray  # (L,) mean B-factor over the residue's atoms (pLDDT in predicted models)
    alphafold_text: bool = False  # the file text mentions "alphafold" (SaProt's auto rule)
    b_factor_constant_per_residue: bool = False  # every residue's atoms share one B-factor
    source: str = ""
    notes: list[str] = field(default_factory=list)
    model: int = 1  # model number in the source file (NMR ensembles), so the foldseek binary reads the same one
    experimental_method: str = ""  # EXPDTA / _exptl.method, e.g. "X-RAY DIFFRACTION"; empty for predictions
    #: every heavy atom of the scored residues, side chains included (M, 3), and the residue index of each (M,):
    #: distances "an atom within" (suggest --avoid, interfaces) need more than N, CA, C, CB
    heavy_atoms: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.float32))
    heavy_atom_residue: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: residues with a heavy atom within 5 A of another protein chain of the file (None: no other chain read)
    interface: np.ndarray | None = None
    #: the file's other chains as context for the structure scorers (``encoding.contacts.PartnerContext``)
    partners: object | None = None

    @property
    def experimental(self) -> bool:
        """The file says its coordinates were measured, so its B-factors are not pLDDT."""
        method = self.experimental_method.upper()
        return any(word in method for word in EXPERIMENTAL_METHOD_WORDS)

    def __len__(self) -> int:
        return len(self.sequence)


def _tabulated(res_name: str):
    import gemmi

    name = res_name.upper()
    return gemmi.find_tabulated_residue(imperfect.FORCE_FIELD_PARENTS.get(name, name))


def one_letter(res_name: str) -> str:
    """One-letter code; modified residues map to their parent amino acid (MSE -> M), else X."""
    info = _tabulated(res_name)
    code = info.one_letter_code.upper() if info is not None else "X"
    return code if code in imperfect.STANDARD_LETTERS else "X"


def _is_modified(res_name: str) -> bool:
    """A modified amino acid that gemmi's chemical component table gives a parent for (lower-case code)."""
    info = _tabulated(res_name)
    return info is not None and info.one_letter_code.islower()


def _is_amino_acid(res_name: str) -> bool:
    """Amino acid as Foldseek's reader (gemmi's residue table) sees it; unknown names are skipped."""
    info = _tabulated(res_name)
    return info is not None and info.is_amino_acid()


def _open_text(path: Path) -> str:
    """The file's text (decompressed, within the caps of ``files``), a UTF-8 byte-order mark dropped and line
    ends made Unix ones."""
    raw = files.read_structure_bytes(path)
    if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark is no part of the first record
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _with_data_line(text: str) -> str:
    """An mmCIF text that starts with its tables but no ``data_`` line (hand-edited or cut) read as one block."""
    for line in text.split("\n", 200)[:200]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return f"data_structure\n{text}" if stripped.startswith(("loop_", "_")) else text
    return text


def _parse_failure(err: Exception, text: str) -> str:
    """The parser's complaint in the user's words: the line and field at fault where one can be found."""
    where = imperfect.first_bad_field(text, _looks_like_cif(Path("x"), text))
    if where:
        return where
    if isinstance(err, KeyError):  # a CIF without the category biotite looked for
        return f"no {err.args[0]} table" if err.args else "a required table is missing"
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _looks_like_cif(path: Path, text: str) -> bool:
    """mmCIF or PDB by content (a file saved under the other suffix still reads), else by suffix."""
    for line in text.split("\n", 200)[:200]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.lower().startswith("data_"):
            return True
        if line[:6].rstrip() in PDB_RECORDS:
            return False
        break
    return path.name.lower().removesuffix(".gz").endswith((".cif", ".mmcif"))


def _load_atoms(path: Path, text: str, model: int):
    """Parse one model (the first by default) with every alternate location, so the last one can win.

    Returns the atoms, the experimental method the file declares ("" when none) and (chain id, note) pairs
    saying what was read differently from the file's literal text.
    """
    import biotite.structure as struc
    from biotite.structure.io import pdb, pdbx

    if _looks_like_cif(path, text):
        cif = pdbx.CIFFile.read(io.StringIO(text))
        imperfect.complete_atom_site(cif.block)
        position = _model_position(model, imperfect.cif_model_numbers(cif.block), path)
        notes, position = imperfect.drop_placeholder_atoms(cif.block, position)
        notes += imperfect.comp_id_disagreements(cif.block)
        imperfect.check_shared_author_chains(cif.block, _is_amino_acid)
        atoms = pdbx.get_structure(cif, model=position, altloc="all", use_author_fields=True,
                                   extra_fields=["b_factor"])
        collapsed = imperfect.collapsed_chains(atoms, _is_amino_acid)
        if collapsed:
            labels = pdbx.get_structure(cif, model=position, altloc="all", use_author_fields=False)
            notes += imperfect.renumber_from_labels(atoms, labels, collapsed, _is_amino_acid)
        try:
            method = " ".join(cif.block["exptl"]["method"].as_array(str).tolist())
        except (KeyError, ValueError):
            method = ""
    else:
        pdb_file = pdb.PDBFile.read(io.StringIO(text))
        count = pdb_file.get_model_count()
        numbers = imperfect.pdb_model_numbers(text)
        position = _model_position(model, numbers if len(numbers) == count else list(range(1, count + 1)), path)
        atoms = pdb_file.get_structure(model=position, altloc="all", extra_fields=["b_factor"])
        notes = []
        method = " ".join(line[6:].strip() for line in text.split("\n") if line.startswith("EXPDTA"))
    if isinstance(atoms, struc.AtomArrayStack):
        atoms = atoms[0]
    return atoms, method, notes


def _model_position(model: int, numbers: list[int], path: Path) -> int:
    """The 1-based position (in file order) of the model whose number is ``model``: NMR files may number their
    models 2, 5, 7, and ``--model-number 5`` means the one called 5, not the fifth."""
    if not numbers:
        raise InputError(f"{path.name}: no atoms found; is it a PDB or mmCIF file?")
    if model in numbers:
        return numbers.index(model) + 1
    listed = f"{numbers[0]}..{numbers[-1]}" if numbers == list(range(numbers[0], numbers[-1] + 1)) and \
        len(numbers) > 3 else ", ".join(map(str, numbers[:10])) + (" ..." if len(numbers) > 10 else "")
    raise InputError(f"{path.name}: model {model} requested, the file has {len(numbers)} (numbered {listed}; "
                     "--model-number takes the number of a MODEL record or pdbx_PDB_model_num)")


def _last_altloc_wins(atoms):
    """Keep, for every (residue, atom name), the last atom in file order, as Foldseek does."""
    keys = {}
    for i, key in enumerate(zip(atoms.chain_id, atoms.res_id, atoms.ins_code, atoms.atom_name)):
        keys[key] = i
    keep = np.zeros(atoms.array_length(), dtype=bool)
    keep[list(keys.values())] = True
    return atoms[keep]


def read_structure(path: str | os.PathLike, chains: Sequence[str] | None = None, model: int = 1,
                   partners: bool | None = None) -> list[Chain]:
    """Read the protein chains of a PDB or mmCIF file (plain or gzipped); the first model of ensembles.

    ``chains`` selects author chain ids; by default every protein chain is returned, each on its own.
    ``model`` picks another model of an ensemble by its number (``MODEL`` record, ``pdbx_PDB_model_num``).
    ``partners`` (True/False) also reads the file's other protein chains to mark each chain's interface with
    them, and with True gives them to the structure scorers as context (``encoding.contacts``); None reads the
    asked chains only. What is read and refused, and the caps on reading, are in docs/imperfect-files.md.
    """
    path = Path(path)
    text = _open_text(path)
    if not text.strip():
        raise InputError(f"{path.name}: the file is empty")
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html", "<?xml")):
        raise InputError(f"{path.name}: this is an HTML/XML page, not a PDB or mmCIF file")
    if head.startswith(">"):
        raise InputError(f"{path.name}: this is a sequence file (FASTA), not a structure; give a PDB or mmCIF file")
    if "\x00" in text:
        raise InputError(f"{path.name}: not a readable PDB/mmCIF file (it contains NUL bytes: binary or damaged)")
    files.check_atom_count(text, path.name)
    original, text = text, _with_data_line(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # biotite's notes (e.g. guessed elements) are not the user's business
            atoms, method, notes = _load_atoms(path, text, model)
    except InputError as err:
        if str(err).startswith(path.name):
            raise
        raise InputError(f"{path.name}: {err}") from None
    except Exception as err:  # biotite raises many kinds on malformed input
        raise InputError(f"{path.name}: not a readable PDB/mmCIF file ({_parse_failure(err, original)})") from None
    if atoms.array_length() == 0:
        raise InputError(f"{path.name}: no atoms found; is it a PDB or mmCIF file?")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = chains_from_atoms(atoms, chains=chains, source=str(path),
                                   alphafold_text="alphafold" in text.lower())
    for chain in result:
        chain.model = model
        chain.experimental_method = method
        chain.notes[:0] = [note for chain_id, note in notes if chain_id == chain.chain_id]
        if not chain.experimental and not chain.alphafold_text:
            chain.notes += filter(None, [imperfect.plddt_range_note(chain.b_factors, chain.b_factor_constant_per_residue,
                                                                   chain.residue_ids)])
    if partners is not None:
        from saprot_scan.encoding.contacts import attach_context

        attach_context(result, result if not chains else _all_protein_chains(atoms, path, result), partners)
    return result


def _all_protein_chains(atoms, path: Path, read: list[Chain]) -> list[Chain]:
    """The chains already read plus every other protein chain of the same atoms (unreadable ones left out)."""
    done = {c.chain_id for c in read}
    others = [c for c in dict.fromkeys(atoms.chain_id.tolist()) if c not in done]

    def build(chain_ids: list[str]) -> list[Chain]:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return chains_from_atoms(atoms, chains=chain_ids, source=str(path))

    try:  # one pass over the atoms for all partners
        return list(read) + build(others) if others else list(read)
    except InputError:  # water, a ligand-only chain, a damaged partner: read them one by one, skip those
        out = list(read)
        for chain_id in others:
            try:
                out += build([chain_id])
            except InputError:
                continue
        return out


def chains_from_atoms(atoms, chains: Sequence[str] | None = None, source: str = "",
                      alphafold_text: bool = False) -> list[Chain]:
    """Turn a biotite AtomArray into protein Chains (the shared path for files and viewers).

    Two residues sharing one number are refused here (a file's mmCIF labels renumber them before), and
    chains with nothing to score (all UNK) are left out with a note, or refused when nothing else is left.
    """
    where = Path(source).name or "the structure"
    atoms, case_notes = imperfect.upper_case_atom_names(atoms, _is_amino_acid)
    collapsed = imperfect.collapsed_chains(atoms, _is_amino_acid)
    if collapsed:
        chain, why = next(iter(collapsed.items()))
        raise InputError(f"{where}: chain {chain}: {why}; the residue numbering collapsed, renumber the residues")
    atoms, mixed = imperfect.last_residue_name_wins(atoms, _is_amino_acid)
    atoms = _last_altloc_wins(atoms)
    available = list(dict.fromkeys(atoms.chain_id.tolist()))
    wanted = list(chains) if chains else available
    missing = [c for c in wanted if c not in available]
    if missing:
        listing = ", ".join(c if c.strip() else "'' (blank)" for c in available) if available else "none"
        raise InputError(f"chain {', '.join(missing)} not found in {Path(source).name or 'the structure'} "
                         f"(chains: {listing})")
    result, unscorable, ca_only = [], [], []
    for chain_id in wanted:
        chain = _build_chain(atoms[atoms.chain_id == chain_id], chain_id, source, alphafold_text)
        if chain is None:
            if chains:
                raise InputError(f"chain {chain_id} in {where} has no amino-acid residues with a CA atom")
            continue
        if not imperfect.has_scorable_residue(chain.sequence):
            unscorable.append(chain_id)
            continue
        if not imperfect.has_backbone(chain.coords):
            ca_only.append(chain_id)
            continue
        chain.notes[:0] = [note for mixed_chain, note in mixed + case_notes if mixed_chain == chain_id]
        result.append(chain)
    if ca_only and (chains or not result):
        others = [c for c in available if c not in ca_only]
        hint = f"; --chain {others[0]} picks another of the file's chains" if chains and others else ""
        raise InputError(f"{where}: chain {', '.join(ca_only)} has only CA atoms (no backbone N and C); SaProt's "
                         f"3Di letters need N, CA and C{hint}")
    if not result and unscorable:
        raise InputError(f"{where}: no scorable residue in chain {', '.join(unscorable)} (every amino acid is "
                         "unknown, e.g. UNK)")
    if not result:
        raise InputError(f"{where}: no protein chain found (no amino-acid residues with a CA atom)")
    if unscorable:
        result[0].notes.append(f"chain {', '.join(unscorable)} left out: no scorable residue (all unknown, e.g. UNK)")
    if ca_only:
        result[0].notes.append(f"chain {', '.join(ca_only)} left out: only CA atoms (3Di needs N, CA and C); "
                               f"--chain {result[0].chain_id} scores a chain by name")
    return result


def _is_heavy(atom_name: str) -> bool:
    """Not a hydrogen or deuterium by its name (viewers pass names without elements; "1HB" is old PDB style)."""
    return not atom_name.lstrip("0123456789").startswith(("H", "D"))


def _build_chain(atoms, chain_id: str, source: str, alphafold_text: bool) -> Chain | None:
    import biotite.structure as struc

    starts = struc.get_residue_starts(atoms, add_exclusive_stop=True)
    ids, letters, coords, bfac, modified, names_read = [], [], [], [], [], []
    no_ca, renamed = [], []
    heavy, owner = [], []
    where = Path(source).name or "the structure"
    constant_b = True
    for start, stop in zip(starts[:-1], starts[1:]):
        residue = atoms[start:stop]
        res_name = str(residue.res_name[0])
        names = residue.atom_name.tolist()
        amino = _is_amino_acid(res_name)
        if "CA" not in names:
            if amino and "N" in names and "C" in names:  # a backbone without its CA: not readable, said so
                no_ca.append(f"{res_name} {int(residue.res_id[0])}{str(residue.ins_code[0]).strip()}")
            continue
        # a ligand (a HETATM record: Foldseek skips it, so its 3Di must too), or an ion named CA; a name that is no
        # amino acid in an ATOM record, with a backbone, is kept as context (UNK-like, a note names it)
        hetero = bool(residue.hetero[0]) if "hetero" in residue.get_annotation_categories() else False
        if not amino and (hetero or not ("N" in names and "C" in names)):
            continue
        imperfect.check_coordinates(residue, chain_id, where)
        imperfect.check_b_factors(residue, chain_id, where)
        xyz = np.full((4, 3), np.nan, dtype=np.float32)
        for k, atom_name in enumerate(BACKBONE_ATOMS):
            if atom_name in names:
                xyz[k] = residue.coord[names.index(atom_name)]
        b = residue.b_factor.astype(float)
        constant_b &= bool(np.all(b == b[0]))
        ids.append(ResidueId(chain_id, int(residue.res_id[0]), str(residue.ins_code[0]).strip()))
        letters.append(one_letter(res_name) if amino else "X")
        names_read.append(res_name)
        if res_name.upper() in imperfect.FORCE_FIELD_PARENTS:
            renamed.append(res_name.upper())
        elif _is_modified(res_name):
            modified.append((res_name, letters[-1]))
        coords.append(xyz)
        kept = np.array([_is_heavy(name) for name in names], dtype=bool) & np.isfinite(residue.coord).all(axis=1)
        heavy.append(np.asarray(residue.coord[kept], dtype=np.float32))
        owner.append(np.full(int(kept.sum()), len(ids) - 1, dtype=np.int64))
        bfac.append(float(b.mean()))
    if not ids:
        return None
    coords_arr = np.stack(coords)
    chain = Chain(chain_id=chain_id, residue_ids=tuple(ids), sequence="".join(letters),
                  coords=coords_arr, b_factors=np.asarray(bfac), alphafold_text=alphafold_text,
                  b_factor_constant_per_residue=constant_b, source=source,
                  heavy_atoms=np.concatenate(heavy).reshape(-1, 3), heavy_atom_residue=np.concatenate(owner))
    if len(set(ids)) != len(ids):  # a residue split by its atoms' order; the numbering cannot name it
        twice = next(r for r, n in Counter(ids).items() if n > 1)
        raise InputError(f"{where}: chain {chain_id} residue {twice.label} appears twice; renumber the residues")
    unknown = [f"{name} {r.label}" for name, r, letter in zip(names_read, ids, letters) if letter == "X"]
    for note in (imperfect.force_field_note(renamed), imperfect.modified_residue_note(modified),
                 imperfect.unknown_residue_note(unknown), imperfect.missing_ca_note(no_ca)):
        if note and len(unknown) < len(ids):  # an all-unknown chain is refused or left out by the caller
            chain.notes.append(note)
    return chain


def chain_from_arrays(chain_id: str, res_numbers: Sequence[int], icodes: Sequence[str],
                      res_names: Sequence[str], atom_names: Sequence[str], coords: np.ndarray,
                      b_factors: Sequence[float], source: str = "viewer",
                      alphafold_text: bool = False, altlocs: Sequence[str] | None = None,
                      hetero: Sequence[bool] | None = None) -> Chain:
    """Build a Chain from per-atom arrays as a viewer holds them (no temporary file).

    Atoms must be grouped by residue, in chain order. Alternate locations are either resolved already or
    named in ``altlocs`` (then the last one wins, as for files); without ids, one atom name twice in a
    residue means two residues share its number.
    """
    import biotite.structure as struc

    n = len(atom_names)
    if n == 0:
        raise InputError("no atoms were selected")
    lengths = {len(res_numbers), len(icodes), len(res_names), len(b_factors), len(coords)}
    if lengths != {n}:
        raise InputError("per-atom arrays have different lengths")
    atoms = struc.AtomArray(n)
    atoms.coord = np.asarray(coords, dtype=np.float32).reshape(n, 3)
    atoms.chain_id = np.full(n, chain_id)
    atoms.res_id = np.asarray(res_numbers, dtype=int)
    atoms.ins_code = np.asarray([str(c or "").strip() for c in icodes])
    atoms.res_name = np.asarray([str(r).upper() for r in res_names])
    atoms.atom_name = np.asarray([str(a) for a in atom_names])
    atoms.add_annotation("b_factor", dtype=float)
    atoms.b_factor = np.asarray(b_factors, dtype=float)
    if altlocs is not None:
        if len(altlocs) != n:
            raise InputError("per-atom arrays have different lengths")
        atoms.add_annotation("altloc_id", dtype="U4")
        atoms.altloc_id = np.asarray([str(a or "").strip() for a in altlocs])
    if hetero is not None:  # HETATM records: a ligand with backbone-like atom names is no residue (as in files)
        if len(hetero) != n:
            raise InputError("per-atom arrays have different lengths")
        atoms.hetero = np.asarray([bool(h) for h in hetero])
    return chains_from_atoms(atoms, chains=[chain_id], source=source, alphafold_text=alphafold_text)[0]
