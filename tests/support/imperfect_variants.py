"""A seeded mutator that turns the test structures into imperfect ones, one defect family at a time.

Every variant is named ``<source>-<family>-<k>`` and built from that name alone (the random generator is
seeded with it), so a failing variant reproduces from its name:

    python tests/support/imperfect_variants.py 1aki.cif-nonfinite_coordinate-0 OUT_DIR   # writes the file

Each family says what the right answer is where it is known (``Expect``): a refusal, a note on stderr,
or scores identical to the intact file's. Families without a known answer only get the CLI contract.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import tarfile
import zipfile
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.data import EXAMPLE_STRUCTURE, STRUCTURES, data_dir  # noqa: E402

#: Small real structures (mmCIF from tests/data and examples/), and two of them written as PDB files.
CIF_SOURCES = ("1aki.cif", "1dix.cif", "1k6p.cif", "3o5r.cif", "5zng.cif")
PDB_SOURCES = ("1aki.pdb", "1k6p.pdb")
SOURCES = CIF_SOURCES + PDB_SOURCES


@dataclass
class Expect:
    """What a correct run does on a variant beyond the contract (None: only the contract is known)."""

    exit: int | None = None
    stderr_has: str = ""  # text the one error line or a note must contain (lower case)
    same_scores: bool = False  # the CSV equals the intact file's, row for row
    same_rows: bool = False  # as many rows as the intact file (scores may move)


@dataclass
class Variant:
    name: str
    data: bytes
    suffix: str
    expect: Expect = field(default_factory=Expect)


def source_path(source: str) -> Path:
    return EXAMPLE_STRUCTURE if source == "1aki.cif" else data_dir() / STRUCTURES / source


@lru_cache(maxsize=None)
def source_text(source: str) -> str:
    """The intact file's text; the PDB sources are the mmCIF entry's first model written by biotite."""
    if source.endswith(".cif"):
        return source_path(source).read_text()
    from biotite.structure.io import pdb, pdbx

    cif = pdbx.CIFFile.read(str(source_path(source.replace(".pdb", ".cif"))))
    atoms = pdbx.get_structure(cif, model=1, use_author_fields=True, extra_fields=["b_factor", "occupancy"])
    out = pdb.PDBFile()
    out.set_structure(atoms)
    buffer = io.StringIO()
    out.write(buffer)
    return buffer.getvalue()


# --- one atom record at a time, for both formats -------------------------------------------------------

class Atoms:
    """The atom lines of a PDB or mmCIF text, with get/set by field name (PDB columns or mmCIF tags)."""

    PDB_FIELDS = {"group": (0, 6), "atom": (12, 16), "alt": (16, 17), "comp": (17, 20), "chain": (21, 22),
                  "seq": (22, 26), "icode": (26, 27), "x": (30, 38), "y": (38, 46), "z": (46, 54),
                  "occupancy": (54, 60), "bfactor": (60, 66)}
    CIF_FIELDS = {"group": "group_PDB", "atom": "auth_atom_id", "alt": "label_alt_id", "comp": "auth_comp_id",
                  "label_comp": "label_comp_id", "chain": "auth_asym_id", "seq": "auth_seq_id",
                  "icode": "pdbx_PDB_ins_code", "x": "Cartn_x", "y": "Cartn_y", "z": "Cartn_z",
                  "occupancy": "occupancy", "model": "pdbx_PDB_model_num", "bfactor": "B_iso_or_equiv",
                  "label_asym": "label_asym_id"}

    def __init__(self, text: str, cif: bool):
        self.lines = text.split("\n")
        self.cif = cif
        self.rows = [i for i, line in enumerate(self.lines) if line.startswith(("ATOM", "HETATM"))]
        if cif:
            tags = [line.split()[0] for line in self.lines if line.startswith("_atom_site.")]
            self.column = {tag.split(".", 1)[1]: k for k, tag in enumerate(tags)}
            first_model = self.get(self.rows[0], "model")
            self.rows = [r for r in self.rows if self.get(r, "model") == first_model]

    def get(self, row: int, name: str) -> str:
        line = self.lines[row]
        if self.cif:
            return line.split()[self.column[self.CIF_FIELDS[name]]]
        start, stop = self.PDB_FIELDS[name]
        return line[start:stop].strip()

    def set(self, row: int, name: str, value: str) -> None:
        line = self.lines[row]
        if self.cif:
            fields = line.split()
            fields[self.column[self.CIF_FIELDS[name]]] = value
            self.lines[row] = " ".join(fields)
            return
        start, stop = self.PDB_FIELDS[name]
        width = stop - start
        cell = value.ljust(width) if name in ("group", "icode", "alt", "chain") else value.rjust(width)
        self.lines[row] = line[:start].ljust(start) + cell[:width] + line[stop:]

    def plain(self, row: int) -> bool:
        """The atom has no alternate location."""
        return self.get(row, "alt") in ("", ".", "?")

    def residues(self) -> dict[tuple[str, str], list[int]]:
        """(chain, number) -> its atom rows, in file order (amino acids with a CA and no altlocs only)."""
        out: dict[tuple[str, str], list[int]] = {}
        for row in self.rows:
            out.setdefault((self.get(row, "chain"), self.get(row, "seq")), []).append(row)
        return {k: v for k, v in out.items() if any(self.get(r, "atom") == "CA" for r in v)
                and self.get(v[0], "group") == "ATOM" and all(self.plain(r) for r in v)}

    def text(self) -> str:
        return "\n".join(self.lines)


def _atoms(source: str) -> Atoms:
    return Atoms(source_text(source), source.endswith(".cif"))


def _pick_residue(atoms: Atoms, rng: random.Random, name: str | None = None) -> list[int]:
    residues = [rows for rows in atoms.residues().values() if name is None or atoms.get(rows[0], "comp") == name]
    return rng.choice(residues or list(atoms.residues().values()))


def _row_of(atoms: Atoms, rows: list[int], atom: str) -> int | None:
    return next((r for r in rows if atoms.get(r, "atom") == atom), None)


# --- the families: (source, rng) -> (data, suffix, Expect) ----------------------------------------------

def _text(atoms: Atoms, source: str, expect: Expect):
    return atoms.text().encode(), Path(source).suffix, expect


def missing_cb(source, rng):
    """One residue's CB line removed (a truncated side chain); a cysteine when there is one."""
    atoms = _atoms(source)
    rows = _pick_residue(atoms, rng, "CYS" if rng.random() < 0.6 else None)
    row = _row_of(atoms, rows, "CB")
    if row is not None:
        del atoms.lines[row]
    return _text(atoms, source, Expect(exit=0, same_rows=True))


def many_missing_cb(source, rng):
    """Every side chain cut at CA in a quarter of the residues."""
    atoms = _atoms(source)
    drop = set()
    for rows in atoms.residues().values():
        if rng.random() < 0.25:
            drop.update(r for r in rows if atoms.get(r, "atom") not in ("N", "CA", "C", "O"))
    atoms.lines = [line for i, line in enumerate(atoms.lines) if i not in drop]
    return _text(atoms, source, Expect(exit=0, same_rows=True))


def nonfinite_coordinate(source, rng):
    """One backbone coordinate nan / inf / 1e309 / 1e30 / -1e8 (refused, naming the residue)."""
    atoms = _atoms(source)
    rows = _pick_residue(atoms, rng)
    row = _row_of(atoms, rows, rng.choice(["CA", "N", "C", "CB"])) or rows[0]
    value = rng.choice(["nan", "inf", "-inf", "1e309", "1e30", "-1e8"] if atoms.cif else ["nan", "inf", "1e30"])
    atoms.set(row, rng.choice("xyz"), value)
    return _text(atoms, source, Expect(exit=2, stderr_has="residue " + atoms.get(rows[0], "seq")))


def placeholder_coordinate(source, rng):
    """mmCIF coordinates given as '?' or '.': missing atoms, said so (a side-chain atom, so no row is lost)."""
    atoms = _atoms(source)
    rows = _pick_residue(atoms, rng)
    side = [r for r in rows if atoms.get(r, "atom") not in ("N", "CA", "C")]
    row = rng.choice(side or rows)
    for axis in "xyz" if rng.random() < 0.5 else rng.choice("xyz"):
        atoms.set(row, axis, rng.choice("?."))
    keeps_ca = atoms.get(row, "atom") != "CA"
    return _text(atoms, source, Expect(exit=0, stderr_has="placeholder", same_rows=keeps_ca))


def placeholder_everywhere(source, rng):
    """Every coordinate of one axis a placeholder: no atom is left, a refusal."""
    atoms = _atoms(source)
    axis = rng.choice("xyz")
    for row in atoms.rows:
        atoms.set(row, axis, "?")
    return _text(atoms, source, Expect(exit=2))


def unknown_author_numbers(source, rng):
    """auth_seq_id '?' everywhere: renumbered by label_seq_id with a note (every residue still there)."""
    atoms = _atoms(source)
    for row in atoms.rows:
        atoms.set(row, "seq", rng.choice("?."))
    return _text(atoms, source, Expect(exit=0, stderr_has="label_seq_id", same_rows=True))


def collapsed_numbering(source, rng):
    """Every residue of the file given one number: mmCIF renumbers by label_seq_id, PDB is refused."""
    atoms = _atoms(source)
    number = str(rng.randint(-5, 500))
    for row in atoms.rows:
        atoms.set(row, "seq", number)
    expect = Expect(exit=0, stderr_has="label_seq_id", same_rows=True) if atoms.cif \
        else Expect(exit=2, stderr_has="numbering collapsed")
    return _text(atoms, source, expect)


def comp_id_disagreement(source, rng):
    """mmCIF label_comp_id differs from auth_comp_id for a few residues: auth (the viewers' name) is read."""
    atoms = _atoms(source)
    for _ in range(rng.randint(1, 4)):
        for row in _pick_residue(atoms, rng):
            atoms.set(row, "label_comp", rng.choice(["GLY", "ALA", "TRP", "UNK"]))
    return _text(atoms, source, Expect(exit=0, stderr_has="auth_comp_id", same_scores=True))


def all_unknown(source, rng):
    """Every residue named UNK: no scorable residue, a refusal."""
    atoms = _atoms(source)
    for row in atoms.rows:
        atoms.set(row, "comp", "UNK")
        if atoms.cif:
            atoms.set(row, "label_comp", "UNK")
    return _text(atoms, source, Expect(exit=2, stderr_has="no scorable residue"))


def modified_residues(source, rng):
    """A few residues renamed to a modified form (MSE, SEP, TPO, ...): read as the parent and reported."""
    parents = {"MET": "MSE", "SER": "SEP", "THR": "TPO", "TYR": "PTR", "LYS": "MLY", "PRO": "HYP", "CYS": "CSO"}
    atoms = _atoms(source)
    candidates = [rows for rows in atoms.residues().values() if atoms.get(rows[0], "comp") in parents]
    for rows in rng.sample(candidates, min(len(candidates), rng.randint(1, 4))):
        new = parents[atoms.get(rows[0], "comp")]
        for row in rows:
            atoms.set(row, "comp", new)
            atoms.set(row, "group", "HETATM")
            if atoms.cif:
                atoms.set(row, "label_comp", new)
    return _text(atoms, source, Expect(exit=0, stderr_has="modified residue", same_rows=True))


def altlocs(source, rng):
    """Alternate locations: a few atoms duplicated as altloc A and B, B moved a little (last one wins)."""
    atoms = _atoms(source)
    plain = [r for r in atoms.rows if atoms.plain(r)]
    for row in sorted(rng.sample(plain, min(10, len(plain))), reverse=True):
        atoms.set(row, "alt", "A")
        atoms.set(row, "occupancy", "0.50")
        original = atoms.lines[row]
        atoms.lines.insert(row + 1, original)
        atoms.set(row + 1, "alt", "B")
        atoms.set(row + 1, "x", f"{float(atoms.get(row, 'x')) + rng.uniform(-0.5, 0.5):.3f}")
    return _text(atoms, source, Expect(exit=0, same_rows=True))


def microheterogeneity(source, rng):
    """One residue present twice under one number with two names in altlocs A and B (the last one is read)."""
    atoms = _atoms(source)
    rows = _pick_residue(atoms, rng)
    block = [atoms.lines[r] for r in rows]
    for row in rows:
        atoms.set(row, "alt", "A")
    start = rows[-1] + 1
    atoms.lines[start:start] = block
    other = rng.choice(["ALA", "SER", "GLY", "VAL"])
    for k in range(len(block)):
        atoms.set(start + k, "alt", "B")
        atoms.set(start + k, "comp", other)
        if atoms.cif:
            atoms.set(start + k, "label_comp", other)
    return _text(atoms, source, Expect(exit=0, same_rows=True))


def zero_occupancy(source, rng):
    """Occupancy 0 on a fraction of atoms: coordinates are still read (Foldseek reads them too)."""
    atoms = _atoms(source)
    for row in atoms.rows:
        if rng.random() < 0.3:
            atoms.set(row, "occupancy", "0.00" if atoms.cif else "0.00")
    return _text(atoms, source, Expect(exit=0, same_scores=True))


def hetatm_only(source, rng):
    """Every ATOM record written as HETATM: the same protein."""
    atoms = _atoms(source)
    for row in atoms.rows:
        atoms.set(row, "group", "HETATM")
    return _text(atoms, source, Expect(exit=0, same_scores=True))


def insertion_codes(source, rng):
    """An insertion code on every residue: the same scores, positions written with the code."""
    atoms = _atoms(source)
    code = rng.choice("ABXZ")
    for row in atoms.rows:
        atoms.set(row, "icode", code)
    return _text(atoms, source, Expect(exit=0, same_rows=True))


def crlf(source, rng):
    """Windows line ends (and sometimes old Mac ones): the same scores."""
    ending = "\r\n" if rng.random() < 0.8 else "\r"
    return source_text(source).replace("\n", ending).encode(), Path(source).suffix, Expect(exit=0, same_scores=True)


def nul_bytes(source, rng):
    """NUL bytes inserted at random places (a damaged download): refused."""
    data = bytearray(source_text(source).encode())
    for _ in range(rng.randint(1, 5)):
        data[rng.randrange(len(data))] = 0
    return bytes(data), Path(source).suffix, Expect(exit=2)


def truncated_gzip(source, rng):
    """A gzipped file cut short: refused as damaged."""
    data = gzip.compress(source_text(source).encode(), mtime=0)
    cut = rng.randint(len(data) // 10, len(data) - 9)
    return data[:cut], Path(source).suffix + ".gz", Expect(exit=2)


def gzipped(source, rng):
    """A good gzipped file: the same scores."""
    return gzip.compress(source_text(source).encode(), mtime=0), Path(source).suffix + ".gz", \
        Expect(exit=0, same_scores=True)


def wrong_suffix(source, rng):
    """mmCIF saved as .pdb (or the other way round, or .txt / .ent): read by content, the same scores."""
    other = ".pdb" if source.endswith(".cif") else ".cif"
    return source_text(source).encode(), rng.choice([other, ".txt", ".ent", ""]), Expect(exit=0, same_scores=True)


def fasta(source, rng):
    """A FASTA file given as the structure: 'this is a sequence file', one line."""
    return b">sp|P00698|LYSC_CHICK\nKVFGRCELAAAMKRHGLDNYRGYSLGNWVCAAKFESNFNTQATNRNTDGSTDYGILQINSRWWCNDG\n", \
        rng.choice([".cif", ".pdb", ".fasta"]), Expect(exit=2, stderr_has="sequence file")


def truncated_text(source, rng):
    """The text cut at a random byte (an interrupted download)."""
    text = source_text(source)
    return text[:rng.randrange(len(text))].encode(), Path(source).suffix, Expect()


def deleted_lines(source, rng):
    """Random atom lines deleted (holes in the backbone)."""
    atoms = _atoms(source)
    drop = set(rng.sample(atoms.rows, max(1, len(atoms.rows) // rng.choice([3, 10, 50]))))
    atoms.lines = [line for i, line in enumerate(atoms.lines) if i not in drop]
    return _text(atoms, source, Expect())


def shuffled_atoms(source, rng):
    """The atom lines of the first model in random order."""
    atoms = _atoms(source)
    lines = [atoms.lines[r] for r in atoms.rows]
    rng.shuffle(lines)
    for row, line in zip(atoms.rows, lines):
        atoms.lines[row] = line
    return _text(atoms, source, Expect())


def garbled_field(source, rng):
    """Random atom fields replaced by junk ('', '?', 'x', '-', a long number)."""
    atoms = _atoms(source)
    names = ["atom", "comp", "seq", "x", "occupancy", "chain"]
    for row in rng.sample(atoms.rows, min(len(atoms.rows), rng.randint(1, 20))):
        atoms.set(row, rng.choice(names), rng.choice(["?", ".", "x", "-", "99999999", "1e5000", "NaN"]))
    return _text(atoms, source, Expect())


def backbone_only_ca(source, rng):
    """Only CA atoms: 3Di needs N, CA and C, so a refusal."""
    atoms = _atoms(source)
    keep = {r for r in atoms.rows if atoms.get(r, "atom") == "CA"}
    atoms.lines = [line for i, line in enumerate(atoms.lines) if i not in set(atoms.rows) - keep]
    return _text(atoms, source, Expect(exit=2))


def duplicated_chain(source, rng):
    """The whole first model appended again under the same chain ids (two residues per number)."""
    atoms = _atoms(source)
    block = [atoms.lines[r] for r in atoms.rows]
    at = atoms.rows[-1] + 1
    atoms.lines[at:at] = block
    return _text(atoms, source, Expect())


# --- issue 27: files from other tools and files made to hurt --------------------------------------------

def byte_order_mark(source, rng):
    """A UTF-8 byte-order mark before the first record (Windows editors): the same scores."""
    return b"\xef\xbb\xbf" + source_text(source).encode(), Path(source).suffix, Expect(exit=0, same_scores=True)


def unknown_names(source, rng):
    """A residue or two renamed to names no component table knows (ZZZ, AL): kept as context, with a note."""
    atoms = _atoms(source)
    for name in rng.sample(["ZZZ", "AL", "QQ1"], rng.randint(1, 2)):
        for row in _pick_residue(atoms, rng):
            atoms.set(row, "comp", name)
            if atoms.cif:
                atoms.set(row, "label_comp", name)
    return _text(atoms, source, Expect(exit=0, stderr_has="kept as structure context"))


FORCE_FIELD_NAMES = {"CYS": ("CYX", "CYM"), "HIS": ("HIE", "HID", "HIP", "HSD", "HSE"), "LYS": ("LYN",),
                     "ASP": ("ASH",), "GLU": ("GLH",)}


def force_field_names(source, rng):
    """AMBER/CHARMM names for protonation and disulfide states (CYX, HIE, HSD, LYN, ASH, GLH...): read as their
    parents with a note; the same scores."""
    atoms = _atoms(source)
    for rows in atoms.residues().values():
        names = FORCE_FIELD_NAMES.get(atoms.get(rows[0], "comp"))
        if names and rng.random() < 0.7:
            name = rng.choice(names)
            for row in rows:
                atoms.set(row, "comp", name)
                if atoms.cif:
                    atoms.set(row, "label_comp", name)
    return _text(atoms, source, Expect(exit=0, stderr_has="force-field names", same_scores=True))


def missing_ca(source, rng):
    """One residue keeps N and C but loses its CA: left out with a note naming it."""
    atoms = _atoms(source)
    rows = _pick_residue(atoms, rng)
    if _row_of(atoms, rows, "N") is not None and _row_of(atoms, rows, "C") is not None:
        del atoms.lines[_row_of(atoms, rows, "CA")]
        return _text(atoms, source, Expect(exit=0, stderr_has="without a ca atom"))
    return _text(atoms, source, Expect(exit=0, same_scores=True))


def lower_case_atoms(source, rng):
    """Atom names written in lower case in some residues (an exporter's habit): read upper-cased, the same scores."""
    atoms = _atoms(source)
    for _ in range(rng.randint(1, 5)):
        for row in _pick_residue(atoms, rng):
            atoms.set(row, "atom", atoms.get(row, "atom").lower())
    return _text(atoms, source, Expect(exit=0, stderr_has="lower case", same_scores=True))


def shared_author_chain(source, rng):
    """The first chain copied (moved 80 A) under a new label_asym_id and entity but the same auth_asym_id: two
    polymers under one author id are refused, never merged into one sequence."""
    atoms = _atoms(source)
    chain = atoms.get(atoms.rows[0], "chain")
    block = [r for r in atoms.rows if atoms.get(r, "chain") == chain]
    at = atoms.rows[-1] + 1
    atoms.lines[at:at] = [atoms.lines[r] for r in block]
    for k in range(len(block)):
        row = at + k
        atoms.set(row, "label_asym", "ZZ")
        atoms.set(row, "x", f"{float(atoms.get(row, 'x')) + 80.0:.3f}")
    return _text(atoms, source, Expect(exit=2, stderr_has="share this author chain id"))


def nan_b_factor(source, rng):
    """One atom's B-factor (the pLDDT of a predicted model) written nan in an AlphaFold file: refused, naming it."""
    atoms = _atoms(source)
    rows = _pick_residue(atoms, rng)
    atoms.set(rows[0], "bfactor", "nan")
    data = atoms.text()
    data = data if atoms.cif else "REMARK   1 ALPHAFOLD MODEL\n" + data
    return data.encode(), Path(source).suffix, Expect(exit=2, stderr_has="b-factor nan")


def other_compression(source, rng):
    """bzip2, xz or a zip of the one file: read as Python reads them, the same scores."""
    data = source_text(source).encode()
    kind = rng.choice(["bz2", "xz", "zip"])
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(source, data)
        packed = buffer.getvalue()
    else:
        packed = bz2.compress(data) if kind == "bz2" else lzma.compress(data)
    return packed, f"{Path(source).suffix}.{kind}", Expect(exit=0, same_scores=True)


def unread_container(source, rng):
    """zstd, a tar archive, BinaryCIF or a zip of two files: refused, naming what it is."""
    data = source_text(source).encode()
    kind = rng.choice(["zstd", "tar", "bcif", "zip2"])
    if kind == "zstd":
        return b"\x28\xb5\x2f\xfd\x04\x58" + data[:200], ".zst", Expect(exit=2, stderr_has="zstd")
    if kind == "tar":
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = tarfile.TarInfo(source)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        return buffer.getvalue(), ".tar", Expect(exit=2, stderr_has="tar archive")
    if kind == "bcif":
        keys = b"".join(bytes([0xA0 | len(k)]) + k for k in (b"encoder", b"version", b"dataBlocks"))
        return b"\x83" + keys + data[:300], ".bcif", Expect(exit=2, stderr_has="binarycif")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a" + source, data)
        archive.writestr("b" + source, data)
    return buffer.getvalue(), ".zip", Expect(exit=2, stderr_has="zip archive of 2 files")


def gzip_bomb(source, rng):
    """Zeros that decompress past the cap (the campaign runs with a 64 MiB cap): refused before memory fills."""
    member = gzip.compress(b"\0" * (1 << 24), mtime=0)
    return member * rng.randint(5, 8), Path(source).suffix + ".gz", Expect(exit=2, stderr_has="larger than any")


def no_data_line(source, rng):
    """mmCIF whose data_ line is gone (and sometimes a BOM before it): read as one block, the same scores."""
    text = "\n".join(line for line in source_text(source).split("\n") if not line.startswith("data_"))
    prefix = b"\xef\xbb\xbf" if rng.random() < 0.5 else b""
    return prefix + text.encode(), Path(source).suffix, Expect(exit=0, same_scores=True)


def _drop_column(atoms: Atoms, column: str) -> None:
    k = atoms.column[column]
    for row in atoms.rows:
        fields = atoms.lines[row].split()
        del fields[k]
        atoms.lines[row] = " ".join(fields)
    atoms.lines = [line for line in atoms.lines if line.strip() != f"_atom_site.{column}"]


def missing_column(source, rng):
    """An atom_site column left out: an optional one is read with its obvious value (the same scores), a
    coordinate column is named in plain words."""
    atoms = _atoms(source)
    column = rng.choice(["pdbx_PDB_model_num", "label_alt_id", "pdbx_PDB_ins_code", "group_PDB", "type_symbol",
                         "Cartn_x", "Cartn_z"])
    _drop_column(atoms, column)
    if column.startswith("Cartn"):
        return _text(atoms, source, Expect(exit=2, stderr_has=f"no {column.lower()} column"))
    if column == "label_alt_id":  # without it, alternate locations look like residues sharing a number
        return _text(atoms, source, Expect())
    return _text(atoms, source, Expect(exit=0, same_scores=True))


def bad_number(source, rng):
    """A coordinate that is no number ('5  1.0', '1.2.3', 'x1'): refused with the line it is on."""
    atoms = _atoms(source)
    row = rng.choice(atoms.rows)
    atoms.set(row, rng.choice("xyz"), rng.choice(["5  1.0", "1.2.3", "x1"]) if not atoms.cif
              else rng.choice(["1.2.3", "x1", "--4"]))
    return _text(atoms, source, Expect(exit=2, stderr_has=f"line {row + 1}:"))


def one_chain_ca_only(source, rng):
    """The last chain cut to CA atoms: left out with a note naming --chain where another chain is whole."""
    atoms = _atoms(source)
    chains = list(dict.fromkeys(atoms.get(r, "chain") for r in atoms.rows))
    drop = {r for r in atoms.rows if atoms.get(r, "chain") == chains[-1] and atoms.get(r, "atom") != "CA"}
    atoms.lines = [line for i, line in enumerate(atoms.lines) if i not in drop]
    expect = Expect(exit=0, stderr_has="--chain") if len(chains) > 1 else Expect(exit=2, stderr_has="only ca atoms")
    return _text(atoms, source, expect)


def plddt_over_100(source, rng):
    """Predicted-model B-factors (one per residue, 40..99) with one residue above 100: masking off, said why
    (a PDB file; the mmCIF sources say they are X-ray entries, which are never masked)."""
    atoms = _atoms(source)
    residues = list(atoms.residues().values())
    high = rng.randrange(len(residues))
    chosen = set()
    for k, rows in enumerate(residues):
        value = f"{100.5 + rng.random():.2f}" if k == high else f"{rng.uniform(40, 99):.2f}"
        for row in rows:
            atoms.set(row, "bfactor", value)
            chosen.add(row)
    for row in set(atoms.rows) - chosen:  # ligands, waters, altloc residues: one constant value each
        atoms.set(row, "bfactor", "50.00")
    if atoms.cif:  # the mmCIF sources declare an experimental method: their B-factors are never pLDDT
        return _text(atoms, source, Expect(exit=0))
    return _text(atoms, source, Expect(exit=0, stderr_has="plddt masking is off"))


FAMILIES: dict[str, Callable] = {f.__name__: f for f in (
    missing_cb, many_missing_cb, nonfinite_coordinate, placeholder_coordinate, placeholder_everywhere,
    unknown_author_numbers, collapsed_numbering, comp_id_disagreement, all_unknown, modified_residues, altlocs,
    microheterogeneity, zero_occupancy, hetatm_only, insertion_codes, crlf, nul_bytes, truncated_gzip, gzipped,
    wrong_suffix, fasta, truncated_text, deleted_lines, shuffled_atoms, garbled_field, backbone_only_ca,
    duplicated_chain,
    byte_order_mark, unknown_names, force_field_names, missing_ca, lower_case_atoms, shared_author_chain,
    nan_b_factor, other_compression, unread_container, gzip_bomb, no_data_line, missing_column, bad_number,
    one_chain_ca_only, plddt_over_100)}
CIF_ONLY = {"placeholder_coordinate", "placeholder_everywhere", "unknown_author_numbers", "comp_id_disagreement",
            "shared_author_chain", "no_data_line", "missing_column"}


def variant_names(per_family: int = 2) -> list[str]:
    """Every (source, family, k) that applies: ``per_family`` seeds per source and family."""
    return [f"{source}-{family}-{k}" for family in FAMILIES for source in SOURCES for k in range(per_family)
            if source.endswith(".cif") or family not in CIF_ONLY]


def make_variant(name: str) -> Variant:
    """The variant ``name`` stands for, the same every time."""
    source, family, _k = name.rsplit("-", 2)
    data, suffix, expect = FAMILIES[family](source, random.Random(name))
    return Variant(name, data, suffix, expect)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: imperfect_variants.py VARIANT-NAME OUT-FOLDER")
    made = make_variant(sys.argv[1])
    path = Path(sys.argv[2]) / f"{made.name}{made.suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(made.data)
    print(path)
