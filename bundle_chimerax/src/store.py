"""Scan results kept in the session so ``saprot color|mutations|heatmap`` need no rescoring."""
from __future__ import annotations

from dataclasses import dataclass

ATTR_NAME = "saprot_score"
REGISTRANT = "SaProt scan"


@dataclass
class StoredScan:
    """One scored chain: the core's result and the ChimeraX chain it belongs to."""

    target: object   # targets.ChainTarget
    result: object   # saprot_scan.results.ScanResult
    model_line: str  # which model scored, as the core describes it

    @property
    def alive(self) -> bool:
        return not self.target.structure.deleted


def _scans(session) -> dict:
    scans = getattr(session, "_saprot_scans", None)
    if scans is None:
        scans = {}
        session._saprot_scans = scans
    return scans


def register_attribute(session) -> None:
    """Register ``saprot_score`` so ChimeraX knows its type (``color byattribute``, ``select``, sessions)."""
    from chimerax.atomic import Residue
    Residue.register_attr(session, ATTR_NAME, REGISTRANT, attr_type=float, can_return_none=True)


def remember(session, scan: StoredScan) -> None:
    _scans(session)[(scan.target.structure, scan.target.chain_id)] = scan


def stored_scans(session) -> list[StoredScan]:
    """Every remembered scan whose structure is still open, in model order."""
    scans = _scans(session)
    for key in [k for k, v in scans.items() if not v.alive]:
        del scans[key]
    return sorted(scans.values(), key=lambda s: (s.target.structure.id, s.target.chain_id))


def scan_for(session, structure, chain_id: str) -> StoredScan | None:
    scan = _scans(session).get((structure, chain_id))
    return scan if scan is not None and scan.alive else None
