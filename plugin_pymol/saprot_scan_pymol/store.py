"""What the plugin remembers in this PyMOL process: scores per chain and the scene before colouring."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .atoms import ChainKey
from .palettes import DEFAULT_PALETTE

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"  # the dialog lists them before the core is imported


def check_summary(kind: str) -> str:
    """mean, min, max or one target amino acid, checked by the core so every front end accepts the same words."""
    from .core_link import core

    core()
    from saprot_scan import check_summary as core_check_summary

    return core_check_summary(kind or "mean")


@dataclass
class ChainScore:
    """A core ScanResult plus what is needed to know whether it still fits the structure."""

    key: ChainKey
    result: object  # saprot_scan.results.ScanResult
    fingerprint: str
    model_id: str
    model_text: str
    method: str
    #: author labels (PyMOL resi) of the residues the scan's selection named, which alone are coloured;
    #: None: the whole chain (a chain, object or 'all' was scanned)
    shown: frozenset | None = None


@dataclass
class Snapshot:
    """Colours and b-factors of one object before the plugin first touched it."""

    atom_count: int
    by_atom: dict[tuple, tuple[int, float]]


@dataclass
class Store:
    scores: dict[ChainKey, ChainScore] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    summary: str = "mean"
    palette: str = DEFAULT_PALETTE
    bfactor: bool = False
    painted: dict[tuple[str, str, str], float] = field(default_factory=dict)
    percentiles: dict[tuple[str, str, str], float] = field(default_factory=dict)  # the painted summary's percentile
    native: dict[tuple[str, str, str], float] = field(default_factory=dict)  # saprot_design: P(native aa)
    scale: object = None  # the last saprot_scan.viewers.ColourScale painted (for messages)
    #: what the colours show: "preview" (one-pass wt marginal), "refining", "final", "stopped" ("" before a scan)
    stage: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock)

    def results(self) -> list:
        return [entry.result for entry in self.scores.values()]

    def forget_objects_not_in(self, names: set[str]) -> None:
        """Objects deleted since the last scan take their scores and snapshot with them."""
        with self.lock:
            for key in [k for k in self.scores if k.obj not in names]:
                del self.scores[key]
            for obj in [o for o in self.snapshots if o not in names]:
                del self.snapshots[obj]
            self.painted = {k: v for k, v in self.painted.items() if k[0] in names}
            self.percentiles = {k: v for k, v in self.percentiles.items() if k[0] in names}
            self.native = {k: v for k, v in self.native.items() if k[0] in names}

    def clear(self) -> None:
        with self.lock:
            self.scores.clear()
            self.snapshots.clear()
            self.painted.clear()
            self.percentiles.clear()
            self.native.clear()
            self.summary, self.palette, self.bfactor = "mean", DEFAULT_PALETTE, False
            self.scale = None
            self.stage = ""


STORE = Store()


def saprot_score(model: str, chain: str, resi: str):
    """The per-residue summary last painted, for iterate/alter expressions.

    Open-source PyMOL has no atom properties (p.*), so there the number is read this way:
    ``iterate name CA, print(resi, saprot_score(model, chain, resi))``.
    """
    return STORE.painted.get((model, chain, str(resi)))


def saprot_percentile(model: str, chain: str, resi: str):
    """The same per-residue summary as saprot_score, over the substitutions' percentiles within the chain
    (0-100, higher = more tolerated; the same meaning for every scorer):
    ``iterate name CA, print(resi, saprot_percentile(model, chain, resi))``."""
    return STORE.percentiles.get((model, chain, str(resi)))


def saprot_native(model: str, chain: str, resi: str):
    """P(native amino acid | structure) from the last saprot_design of the residue's chain (None if not
    designed): ``iterate name CA, print(resi, saprot_native(model, chain, resi))``."""
    return STORE.native.get((model, chain, str(resi)))
