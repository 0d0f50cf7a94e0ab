"""Scan results kept in the session (and in saved session files) so ``saprot color|mutations|heatmap``
need no rescoring, also after a session is reopened."""
from __future__ import annotations

from dataclasses import dataclass

from chimerax.core.state import StateManager

ATTR_NAME = "saprot_score"
REGISTRANT = "SaProt scan"
STATE_TAG = "saprot_scans"


@dataclass
class StoredScan:
    """One scored chain: the core's result and the ChimeraX chain it belongs to."""

    target: object   # targets.ChainTarget
    result: object   # saprot_scan.results.ScanResult
    model_line: str  # which model scored, as the core describes it

    @property
    def alive(self) -> bool:
        return not self.target.structure.deleted


class SaprotScans(StateManager):
    """The session's scans, keyed by (structure, chain id); saved in session files."""

    SESSION_VERSION = 1

    def __init__(self):
        self.scans: dict = {}

    def take_snapshot(self, session, flags):
        return {"version": self.SESSION_VERSION,
                "scans": [_scan_to_data(s) for s in self.scans.values() if s.alive]}

    @classmethod
    def restore_snapshot(cls, session, data):
        manager = cls()
        for item in data.get("scans", []):
            scan = _scan_from_data(item)
            if scan is not None:
                manager.scans[(scan.target.structure, scan.target.chain_id)] = scan
        return manager

    def reset_state(self, session):
        self.scans.clear()


_RESULT_FIELDS = ("chain_id", "wt", "scores", "method", "model_name", "model_sha256", "struct",
                  "plddt_mask_applied", "plddt_masked_count", "windows", "source", "notes")  # sessions before 0.2


def _scan_to_data(scan: StoredScan) -> dict:
    """The scan as the core saves any result (``ScanResult.to_dict``), scores kept exactly."""
    return {"structure": scan.target.structure, "chain_id": scan.target.chain_id,
            "model_line": scan.model_line, "result_dict": scan.result.to_dict(rounded=False)}


def _result_from_data(item: dict):
    from saprot_scan import ResidueId, ScanResult
    if "result_dict" in item:
        return ScanResult.from_dict(item["result_dict"])
    fields = dict(item["result"])  # a session saved by an earlier version of this bundle
    fields["residue_ids"] = tuple(ResidueId(c, int(n), i) for c, n, i in fields["residue_ids"])
    fields["notes"] = list(fields.get("notes", []))
    return ScanResult(**fields)


def _scan_from_data(item: dict) -> StoredScan | None:
    from chimerax.atomic import Residue
    from .targets import ChainTarget
    structure = item.get("structure")
    if structure is None or structure.deleted:
        return None
    chain_id = item["chain_id"]
    whole = structure.residues.filter(structure.residues.chain_ids == chain_id)
    protein = whole.filter(whole.polymer_types == Residue.PT_AMINO)
    return StoredScan(ChainTarget(structure, chain_id, whole, protein), _result_from_data(item), item["model_line"])


def register_attribute(session) -> None:
    """Register ``saprot_score``, ``saprot_percentile`` and ``saprot_interface`` so ChimeraX knows their type
    (``color byattribute``, ``select``, sessions)."""
    from chimerax.atomic import Residue
    from saprot_scan.viewers import INTERFACE_NAME, PERCENTILE_ATTR
    for name in (ATTR_NAME, PERCENTILE_ATTR):
        Residue.register_attr(session, name, REGISTRANT, attr_type=float, can_return_none=True)
    # True where a residue has an atom within 5 A of another chain (select ::saprot_interface)
    Residue.register_attr(session, INTERFACE_NAME, REGISTRANT, attr_type=bool, can_return_none=True)


def _manager(session) -> SaprotScans:
    try:
        return session.get_state_manager(STATE_TAG)
    except KeyError:
        manager = SaprotScans()
        session.add_state_manager(STATE_TAG, manager)
        return manager


def remember(session, scan: StoredScan) -> None:
    _manager(session).scans[(scan.target.structure, scan.target.chain_id)] = scan


def stored_scans(session) -> list[StoredScan]:
    """Every remembered scan whose structure is still open, in model order."""
    scans = _manager(session).scans
    for key in [k for k, v in scans.items() if not v.alive]:
        del scans[key]
    return sorted(scans.values(), key=lambda s: (s.target.structure.id, s.target.chain_id))


def scan_for(session, structure, chain_id: str) -> StoredScan | None:
    scan = _manager(session).scans.get((structure, chain_id))
    return scan if scan is not None and scan.alive else None
