"""Turn what the user picked in PyMOL into the protein chains the core scores."""
from __future__ import annotations

from dataclasses import dataclass

from pymol import cmd

from .core_link import PluginError, core


@dataclass(frozen=True, order=True)
class ChainKey:
    """One chain of one PyMOL object: PyMOL's own unit of 'a chain'."""

    obj: str
    chain: str

    @property
    def label(self) -> str:
        return f"{self.obj}/{self.chain or '-'}"

    def selection(self) -> str:
        return f'%{self.obj} and chain "{self.chain}"'


@dataclass(frozen=True)
class PickedResidue:
    """A single residue the user pointed at, as PyMOL names it."""

    key: ChainKey
    resi: str
    resv: int
    resn: str

    @property
    def icode(self) -> str:
        return insertion_code(self.resi)

    @property
    def label(self) -> str:
        return f"{self.key.label}:{self.resi} {self.resn}"


def insertion_code(resi: str) -> str:
    """PyMOL's resi is number plus insertion code ("52A"); the code is what follows the number."""
    return resi.lstrip("-0123456789").strip()


def count_atoms(selection: str, *, _self=cmd) -> int:
    """Atoms in a selection; a selection PyMOL cannot parse becomes a clear user error."""
    if not selection or not selection.strip():
        raise PluginError("no selection given")
    try:
        count = _self.count_atoms(selection)
    except Exception:
        count = -1
    if count < 0:
        raise PluginError(f"'{selection}' is not a valid selection")
    return count


def _what_is(selection: str, *, _self=cmd) -> str:
    """Say what a protein-free selection holds, so the message tells the user why it was refused."""
    kinds = [("polymer.nucleic", "nucleic acid"), ("organic", "a ligand"), ("solvent", "solvent"),
             ("inorganic", "ions"), ("metals", "metal ions")]
    found = [name for expr, name in kinds if _self.count_atoms(f"({selection}) and {expr}") > 0]
    if "a ligand" in found:
        names: set[str] = set()
        _self.iterate(f"({selection}) and organic", "names.add(resn)", space={"names": names})
        found[found.index("a ligand")] = "a ligand (" + ", ".join(sorted(names)[:4]) + ")"
    return " and ".join(found) if found else "no amino-acid residues"


def protein_chains(selection: str, *, _self=cmd) -> list[ChainKey]:
    """The protein chains (object, chain) that a selection touches, in PyMOL's atom order."""
    if count_atoms(selection, _self=_self) == 0:
        raise PluginError(f"selection '{selection}' is empty; nothing was scored")
    rows: list[tuple[str, str]] = []
    _self.iterate(f"({selection}) and polymer.protein and name CA", "rows.append((model, chain))",
                space={"rows": rows})
    if not rows:
        raise PluginError(f"selection '{selection}' holds {_what_is(selection, _self=_self)}, not protein; "
                          "pick a protein residue, chain or object")
    return [ChainKey(obj, chain) for obj, chain in dict.fromkeys(rows)]


def picked_residues(selection: str, *, _self=cmd) -> list[PickedResidue]:
    """Distinct residues (by object, chain, resi) covered by a selection."""
    rows: list[tuple] = []
    _self.iterate(f"byres ({selection})", "rows.append((model, chain, resi, resv, resn))",
                space={"rows": rows})
    return [PickedResidue(ChainKey(m, c), resi, resv, resn)
            for m, c, resi, resv, resn in dict.fromkeys(rows)]


def read_chain(key: ChainKey, state: int = -1, *, _self=cmd):
    """Build the core's Chain from the object's atoms in the displayed state (no temporary file)."""
    rows: list[tuple] = []
    _self.iterate_state(state, key.selection(), "rows.append((resv, resi, resn, name, x, y, z, b, alt, type))",
                      space={"rows": rows})
    if not rows:
        raise PluginError(f"{key.label} has no coordinates in the current state")
    res_numbers = [r[0] for r in rows]
    icodes = [insertion_code(r[1]) for r in rows]
    res_names = [r[2] for r in rows]
    atom_names = [r[3] for r in rows]
    coords = [(r[4], r[5], r[6]) for r in rows]
    b_factors = [r[7] for r in rows]
    core()
    from saprot_scan.viewers import chain_from_viewer, header_says_alphafold

    # PyMOL keeps no file header: the object name and title are all it knows (AlphaFold DB names say so).
    title = _self.get_title(key.obj, state if state > 0 else _self.get_state()) or ""
    return chain_from_viewer(key.chain, res_numbers, icodes, res_names, atom_names, coords, b_factors,
                             source=f"PyMOL object {key.obj}", alphafold=header_says_alphafold(key.obj, title),
                             altlocs=[r[8] for r in rows], hetero=[r[9] == "HETATM" for r in rows])


def with_partners(key: ChainKey, chain, partners: bool = True, *, _self=cmd):
    """``chain`` marked with its interface with the object's other protein chains, which the structure scorers
    then count in burial with ``partners`` (the core's partner context; SaProt reads one chain). A partner that
    cannot be read is left out."""
    from saprot_scan import InputError
    from saprot_scan.viewers import with_partners as attach

    others = []
    for other in protein_chains(f"%{key.obj}", _self=_self):
        if other == key:
            continue
        try:
            others.append(read_chain(other, _self=_self))
        except (InputError, PluginError):
            continue
    return attach(chain, others, partners) if others else chain
