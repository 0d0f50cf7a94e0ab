"""Register a scan with ChimeraX's ``mutation_scores`` bundle (ChimeraX 1.9+), so that
``mutationscores heatmap|label|define`` work on it.  Older ChimeraX has no such bundle; then this
does nothing and says so once in the log.
"""
from __future__ import annotations

from .store import StoredScan

SCORE_NAME = "saprot"


def mutation_scores_available() -> bool:
    try:
        import chimerax.mutation_scores.ms_data  # noqa: F401
    except ImportError:
        return False
    return True


def set_name(scan: StoredScan) -> str:
    """Name of the mutation set, usable unquoted in commands: ``saprot_1_A``."""
    return f"saprot_{scan.target.structure.id_string.replace('.', '_')}_{scan.target.chain_id}"


def _mutation_scores(scan: StoredScan, ms_data):
    """One ``MutationScores`` per substitution; residues with an insertion code cannot be keyed by
    number in ``mutation_scores`` and are left out (the attribute still carries them)."""
    from saprot_scan import AMINO_ACIDS
    result = scan.result
    items = []
    for i, (rid, wt) in enumerate(zip(result.residue_ids, result.wt)):
        if rid.icode or wt not in AMINO_ACIDS:
            continue
        for k, mt in enumerate(AMINO_ACIDS):
            if mt != wt:
                items.append(ms_data.MutationScores(rid.number, wt, mt, {SCORE_NAME: float(result.scores[i, k])}))
    return items


def register(session, scans: list[StoredScan]) -> list[str]:
    """Add each scan as a mutation set; returns the set names (empty when the bundle is absent)."""
    if not mutation_scores_available():
        return []
    from chimerax.mutation_scores import ms_data
    names = []
    manager = ms_data.mutation_scores_manager(session)
    for scan in scans:
        name = set_name(scan)
        mset = ms_data.MutationSet(name, _mutation_scores(scan, ms_data))
        chain = scan.target.chain_residues[0].chain if len(scan.target.chain_residues) else None
        if chain is not None:
            # The method's name changed between ChimeraX releases (1.9: set_chain; later: set_associated_chains).
            if hasattr(mset, "set_associated_chains"):
                mset.set_associated_chains([chain], allow_mismatches=True)
            elif hasattr(mset, "set_chain"):
                mset.set_chain(chain, allow_mismatches=True)
        manager.add_scores(mset)
        names.append(name)
    return names
