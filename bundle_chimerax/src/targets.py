"""Which chains a residue spec asks to score, and their atoms handed to the core as a ``Chain``.

SaProt needs a whole chain for context, so every protein chain that has a residue in the spec is
scored whole; colouring is then limited to the residues in the spec.  Atoms are read on the UI
thread (ChimeraX objects are not thread-safe); the core only ever sees plain arrays.
"""
from __future__ import annotations

from dataclasses import dataclass

from chimerax.core.errors import UserError


@dataclass
class ChainTarget:
    """One protein chain of one open structure, with the residues the user named in it."""

    structure: object          # chimerax.atomic.AtomicStructure
    chain_id: str
    chain_residues: object     # Residues: every residue of the chain, in structure order
    spec_residues: object      # Residues: the chain's residues that were in the spec

    @property
    def label(self) -> str:
        return f"#{self.structure.id_string}/{self.chain_id}"


def _describe_non_protein(residues) -> str:
    from chimerax.atomic import Residue
    kinds = set(residues.polymer_types)
    if kinds == {Residue.PT_NUCLEIC}:
        return "only nucleic-acid residues"
    if Residue.PT_NUCLEIC in kinds:
        return "nucleic-acid residues and ligands, but no protein residues"
    return "only ligand, ion or solvent residues"


def chain_targets(residues, spec_text: str = "") -> list[ChainTarget]:
    """Protein chains touched by ``residues``; a clear ``UserError`` when there are none."""
    from chimerax.atomic import Residue
    shown = f" {spec_text!r}" if spec_text else ""
    if residues is None or len(residues) == 0:
        raise UserError(f"saprot: the spec{shown} matches no residues")
    protein = residues.filter(residues.polymer_types == Residue.PT_AMINO)
    if len(protein) == 0:
        raise UserError(f"saprot: the spec{shown} selects {_describe_non_protein(residues)}; "
                        "SaProt scores protein chains")
    targets: list[ChainTarget] = []
    seen = set()
    for r in protein:
        key = (r.structure, r.chain_id)
        if key in seen:
            continue
        seen.add(key)
        s = r.structure
        whole = s.residues.filter(s.residues.chain_ids == r.chain_id)
        in_spec = protein.filter([rr.structure is s and rr.chain_id == r.chain_id for rr in protein])
        targets.append(ChainTarget(s, r.chain_id, whole, in_spec))
    targets.sort(key=lambda t: (t.structure.id, t.chain_id))
    return targets


def partner_targets(target: ChainTarget) -> list[ChainTarget]:
    """The other protein chains of ``target``'s structure (whole chains), for the interface and the structure
    scorers' partner context."""
    from chimerax.atomic import Residue
    s = target.structure
    out = []
    for chain_id in dict.fromkeys(s.residues.chain_ids.tolist()):
        if chain_id == target.chain_id:
            continue
        whole = s.residues.filter(s.residues.chain_ids == chain_id)
        if (whole.polymer_types == Residue.PT_AMINO).any():
            out.append(ChainTarget(s, chain_id, whole, whole))
    return out


def mentions_alphafold(structure) -> bool:
    """Whether the structure's file mentions AlphaFold: the core's rule for pLDDT masking when it
    reads a file, applied to the file ChimeraX opened (or, without one, to its name and header)."""
    import gzip
    import os
    path = getattr(structure, "filename", None)
    text = ""
    if path and os.path.isfile(path):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt", errors="replace") as handle:
                text = handle.read()
        except OSError:
            text = ""
    if not text:
        text = " ".join([str(getattr(structure, "name", "")), repr(getattr(structure, "metadata", {}))])
    return "alphafold" in text.lower()


def experimental_method(structure) -> str:
    """The experimental method the structure's header declares (mmCIF ``_exptl.method`` or PDB
    ``EXPDTA``), as the core records it for files: measured B-factors are never read as pLDDT."""
    metadata = getattr(structure, "metadata", {}) or {}
    expdta = metadata.get("EXPDTA")
    if expdta:
        return " ".join(str(line).strip() for line in expdta)
    try:
        from chimerax.mmcif import get_mmcif_tables_from_metadata
        (table,) = get_mmcif_tables_from_metadata(structure, ["exptl"])
    except (ImportError, ValueError, TypeError):
        return ""
    if table is None:
        return ""
    try:
        return " ".join(row[0] for row in table.fields(["method"]))
    except (ValueError, KeyError):
        return ""


def _last_alt_loc_values(atoms):
    """Coordinates and B-factors with the last alternate location of each atom, the rule the core
    applies to files (Foldseek's: the last one read wins), so a chain scores the same whether the
    core reads the file or ChimeraX hands over its atoms.  The displayed alt loc is left as it was."""
    import numpy as np
    coords = np.array(atoms.coords, dtype=float)
    bfactors = np.array(atoms.bfactors, dtype=float)
    for i in np.nonzero(atoms.num_alt_locs > 1)[0]:
        atom = atoms[int(i)]
        last = atom.alt_locs[-1]
        if last == atom.alt_loc:
            continue
        with atom.suppress_alt_loc_change_notifications():  # restores the current alt loc on exit
            atom.alt_loc = last
            coords[i] = atom.coord
            bfactors[i] = atom.bfactor
    return coords, bfactors


def core_chain(target: ChainTarget):
    """The chain as the core's ``Chain`` (per-atom arrays, no temporary file)."""
    from saprot_scan.viewers import chain_from_viewer
    atoms = target.chain_residues.atoms
    res = atoms.residues
    coords, bfactors = _last_alt_loc_values(atoms)
    return chain_from_viewer(
        target.chain_id,
        res_numbers=[int(n) for n in res.numbers],
        icodes=[str(c) for c in res.insertion_codes],
        res_names=[str(n) for n in res.names],
        atom_names=[str(n) for n in atoms.names],
        coords=coords,
        b_factors=bfactors,
        source=f"ChimeraX {target.label} ({target.structure.name})",
        alphafold=mentions_alphafold(target.structure),
        experimental_method=experimental_method(target.structure),
    )


def residue_lookup(target: ChainTarget) -> dict[tuple[int, str], object]:
    """(author number, insertion code) -> ChimeraX residue, for writing results back."""
    return {(int(r.number), str(r.insertion_code or "").strip()): r for r in target.chain_residues}
