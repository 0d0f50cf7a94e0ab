"""The structure's text for the page's 3D view: the scored model only, without waters, as PDB (3Dmol.js reads
insertion codes from PDB, not from mmCIF) or as mmCIF where PDB cannot hold it (long chain names, too many
atoms); the file's own text when gemmi cannot read it."""
from __future__ import annotations

import gzip
import os
from pathlib import Path

#: PDB format's limits: one-character chain names, five-digit atom serials.
_PDB_MAX_ATOMS = 99_999


def _file_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def _one_model(path: Path, model: int) -> dict:
    import gemmi

    st = gemmi.read_structure(str(path))
    keep = model - 1 if 1 <= model <= len(st) else 0
    for index in reversed(range(len(st))):
        if index != keep:
            del st[index]
    st.remove_waters()
    names = [chain.name for chain in st[0]]
    if all(len(name) == 1 for name in names) and st[0].count_atom_sites() <= _PDB_MAX_ATOMS:
        return {"text": st.make_pdb_string(gemmi.PdbWriteOptions(minimal=True)), "format": "pdb"}
    return {"text": st.make_mmcif_document().as_string(), "format": "cif"}


def structure_for_page(path: str | os.PathLike | None, model: int = 1) -> dict | None:
    """``{"text", "format", "name"}`` of model ``model`` (1-based) of a PDB or mmCIF file, plain or gzipped;
    None when there is no readable file (a member of a tar archive, a viewer's object): the page then says
    there is no 3D view instead."""
    if not path:
        return None
    path = Path(path)
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    try:
        page = _one_model(path, model)
    except Exception:  # noqa: BLE001 - whatever gemmi refuses, the core's reader coped with: show the file itself
        try:
            text = _file_text(path)
        except (OSError, EOFError):
            return None
        page = {"text": text, "format": "cif" if text.lstrip().startswith("data_") else "pdb"}
    return {**page, "name": name}
