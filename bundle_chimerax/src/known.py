"""``saprot known``: known variants (UniProt/ClinVar/gnomAD, AlphaMissense, a lab's list) placed on the scanned
chains: the agreement with the scores in the log, residue attributes ``saprot_known_pathogenic``,
``saprot_known_benign`` (counts) and ``saprot_am_pathogenicity`` (mean), and selectors ``saprot_known_pathogenic``,
``saprot_known_benign``, ``saprot_known_gnomad``, ``saprot_am_pathogenic``, ... (the core does the work)."""
from __future__ import annotations

from html import escape

from chimerax.core.commands import CmdDesc, OpenFileNameArg, RepeatOf, StringArg
from chimerax.core.errors import UserError


def register_attributes(session) -> None:
    from chimerax.atomic import Residue
    from saprot_scan.viewers import KNOWN_ATTRS

    from .store import REGISTRANT
    for name in KNOWN_ATTRS:
        Residue.register_attr(session, name, REGISTRANT, attr_type=float if "am_" in name else int,
                              can_return_none=True)


def _store_values(scan) -> None:
    import numpy as np
    from saprot_scan.viewers import known_residue_values

    from .targets import residue_lookup
    lookup = residue_lookup(scan.target)
    for name, values in known_residue_values(scan.result).items():
        for rid, value in zip(scan.result.residue_ids, values):
            residue = lookup.get((rid.number, rid.icode))
            if residue is not None:
                setattr(residue, name, None if not np.isfinite(value) else
                        float(value) if "am_" in name else int(value))


def _name_selectors(session, scans) -> dict[str, int]:
    from saprot_scan.viewers import KNOWN_NAMES, known_residues

    from .coloring import _name_residues
    counts = {}
    for name in KNOWN_NAMES:
        count = _name_residues(session, scans, name,
                               lambda result, name=name: [rid.label in set(known_residues(result, name))
                                                          for rid in result.residue_ids],
                               f"residues with known variants ({KNOWN_NAMES[name]})")
        if count:
            counts[name] = count
    return counts


def saprot_known(session, files=None, uniprot: str | None = None, reference: str | None = None):
    """Place known variants on every scanned chain; log the mapping and the agreement; returns the agreement
    block of each chain."""
    from dataclasses import replace

    from saprot_scan import InputError
    from saprot_scan.viewers import read_known_variants, with_known

    from .store import remember, stored_scans
    scans = stored_scans(session)
    if not scans:
        raise UserError("saprot known: nothing has been scanned in this session; run saprot scan first")
    try:
        known = read_known_variants(list(files or []), uniprot or "", report=session.logger.info)
        placed = [replace(scan, result=with_known(scan.result, known, reference or "")) for scan in scans]
    except InputError as err:
        raise UserError(f"saprot known: {err}") from None
    for scan in placed:
        remember(session, scan)
    show_known(session, placed, [f"known variants: {line}" for line in known.sources])
    return {scan.target.label: scan.result.known["agreement"] for scan in placed}


def show_known(session, scans, lines: list[str] | None = None) -> None:
    """Attributes, selectors and the log (mapping and agreement) for stored scans that carry known variants
    (placed by ``saprot known``, or read back from a batch folder given them)."""
    from saprot_scan.viewers import known_lines

    register_attributes(session)
    lines = list(lines or [])
    for scan in scans:
        _store_values(scan)
        lines += [f"{scan.target.label}: {line}" for line in known_lines(scan.result)]
    counts = _name_selectors(session, scans)
    if counts:
        lines.append("selectors: " + ", ".join(f"{name} ({count} residues)" for name, count in counts.items()))
    session.logger.info("<br>".join(escape(line) for line in lines), is_html=True)


known_desc = CmdDesc(optional=[("files", RepeatOf(OpenFileNameArg))],
                     keyword=[("uniprot", StringArg), ("reference", OpenFileNameArg)],
                     synopsis="put known variants (ClinVar, gnomAD, AlphaMissense, a labelled CSV) beside the scores")
