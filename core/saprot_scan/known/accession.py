"""The UniProt accession a structure file names for a chain: AlphaFold DB file names and headers, PDB ``DBREF``,
mmCIF ``_struct_ref`` / ``_struct_ref_seq`` and ModelCIF's ``_ma_target_ref_db_details``."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

_AF_NAME = re.compile(r"AF-([A-Z0-9]{6,10})-F\d+", re.IGNORECASE)
_UNIPROT = re.compile(r"^[OPQ][0-9][A-Z0-9]{3}[0-9]$|^[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2}$")
UNIPROT_DBS = ("UNP", "UNIPROT", "UNIPROTKB", "SWS", "TREMBL")


def is_accession(text: str) -> bool:
    """Whether ``text`` has the form of a UniProtKB accession (P00698, A0A023GPI8)."""
    return bool(_UNIPROT.match(str(text).strip().upper()))


def _read(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8", errors="replace")


def accession_of(path: str | Path, chain: str | None = None) -> str:
    """The UniProt accession ``path`` names for ``chain`` (any chain when None); '' when it names none."""
    path = Path(path)
    try:
        text = _read(path)
    except (OSError, EOFError):
        return ""
    found = _from_pdb(text, chain) if not text.lstrip().startswith("data_") else _from_cif(path, chain)
    if found:
        return found
    match = _AF_NAME.search(path.name) or _AF_NAME.search(text[:5000])
    return match.group(1).upper() if match else ""


def _from_pdb(text: str, chain: str | None) -> str:
    for line in text.splitlines():
        if line.startswith("DBREF ") and (chain is None or line[12:13].strip() == chain):
            fields = line.split()
            if len(fields) >= 7 and fields[5].upper() in UNIPROT_DBS and is_accession(fields[6]):
                return fields[6].upper()
    return ""


def _from_cif(path: Path, chain: str | None) -> str:
    import gemmi

    try:
        block = gemmi.cif.read(str(path)).sole_block()
    except (RuntimeError, ValueError):
        return ""
    refs = {}
    table = block.find("_struct_ref.", ["id", "db_name", "pdbx_db_accession"])
    for row in table:
        if gemmi.cif.as_string(row[1]).upper() in UNIPROT_DBS and is_accession(gemmi.cif.as_string(row[2])):
            refs[gemmi.cif.as_string(row[0])] = gemmi.cif.as_string(row[2]).upper()
    if refs and chain is not None:
        for row in block.find("_struct_ref_seq.", ["ref_id", "pdbx_strand_id"]):
            if gemmi.cif.as_string(row[1]) == chain and gemmi.cif.as_string(row[0]) in refs:
                return refs[gemmi.cif.as_string(row[0])]
    if refs:
        return next(iter(refs.values()))
    for row in block.find("_ma_target_ref_db_details.", ["db_name", "db_accession"]):
        if gemmi.cif.as_string(row[0]).upper() in UNIPROT_DBS and is_accession(gemmi.cif.as_string(row[1])):
            return gemmi.cif.as_string(row[1]).upper()
    return ""
